import { InputError } from "../../src/errors/index.js";
import { addSource } from "../../src/promote/add-source.js";
import { COINBASE_WS } from "../../src/source/protocol.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";

const usage =
  "quixlab add source coinbase|replay --name N [--products A,B] [--endpoint URL] [--ticks FILE] [--topic ticks] [--speed 1x] [--loop] [--dir PROJECT] [--json]";

const command: Command = {
  summary: "add a source deployment (coinbase or replay) to quix.yaml, with its app folder",
  help: `usage: ${usage}

Writes the app folder <PROJECT>/<N>/ and the deployment N in <PROJECT>/quix.yaml (created when missing), with
its output topic declared, so 'quixlab up' runs the pipeline from the source. The folder is packaged as
promote packages a step: app.yaml (language nodejs; variables output, and products/endpoint or
ticks/speed/loop), a main.ts that runs the source from those variables ('quixlab source --help'), package.json
on quixlab (^version, or a tarball vendored into the folder when no registry serves quixlab), a Dockerfile
that builds from the folder alone. A replay's recording is copied into the folder.

A Coinbase source and a looping replay are Services; a replay without --loop is a Job (it ends). Each has one
replica: two Coinbase replicas would produce every trade twice. Running it again with the same --name
regenerates the folder's files and updates the entry; a folder holding anything else is refused.
quix.yaml is edited under its lock, validated before it is written, atomically; if that fails, the app files
are put back as they were.

options:
  --name N          the deployment's name and its folder (required)
  --products LIST   coinbase: product ids, comma-separated (required), e.g. BTC-USD,ETH-USD
  --endpoint URL    coinbase: the websocket feed (default ${COINBASE_WS})
  --ticks FILE      replay: the recording (required), copied into the folder
  --speed S         replay: max, 1x (default) or Nx
  --loop            replay: again and again, each pass's event times shifted by the recording's span
  --topic T         the output topic (default ticks)
  --dir PROJECT     the project folder holding quix.yaml (default .)
  --json            print what was written as one JSON object

examples:
  quixlab add source coinbase --name coinbase --products BTC-USD,ETH-USD
  quixlab add source replay --name ticks-replay --ticks data/coinbase-ticker-2021-04-17.jsonl --speed 1x --loop

exit codes: 0 written, 1 the edited quix.yaml would be invalid (nothing written), 2 bad flags or files`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        name: { type: "string" },
        products: { type: "string" },
        endpoint: { type: "string" },
        ticks: { type: "string" },
        speed: { type: "string" },
        loop: { type: "boolean" },
        topic: { type: "string" },
        dir: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    const [what, type, extra] = positionals;
    if (what !== "source") throw new InputError(what ? `cannot add '${what}'` : "missing what to add", { remedy: `usage: ${usage}` });
    if (type !== "coinbase" && type !== "replay") throw new InputError(type ? `unknown source '${type}'` : "missing the source type", { remedy: "say which: quixlab add source coinbase ... or quixlab add source replay ..." });
    if (extra !== undefined) throw new InputError(`unexpected argument '${extra}'`, { remedy: `usage: ${usage}` });
    if (!values.name) throw new InputError("missing --name", { remedy: `usage: ${usage}`, context: { field: "--name" } });
    const wrong = type === "coinbase" ? (["ticks", "speed", "loop"] as const) : (["products", "endpoint"] as const);
    for (const name of wrong) if (values[name] !== undefined) throw new InputError(`--${name} is not an option of the ${type} source`, { remedy: `usage: ${usage}` });
    const r = await addSource({
      cwd: io.cwd,
      type,
      name: values.name,
      dir: values.dir,
      topic: values.topic,
      products: values.products?.split(",").map((s) => s.trim()).filter(Boolean),
      endpoint: values.endpoint,
      ticks: values.ticks,
      speed: values.speed,
      loop: values.loop,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    if (values.json) io.stdout.write(`${JSON.stringify({ name: values.name, type, ...r })}\n`);
    else {
      io.stdout.write(`added the ${type} source ${values.name} (${r.deploymentType}, version ${r.version}) writing ${values.topic ?? "ticks"}\n`);
      for (const f of r.written) io.stdout.write(`  ${f}\n`);
      io.stdout.write("run it with 'quixlab up'; check quix.yaml with 'quixlab descriptor validate'\n");
    }
    return 0;
  },
};

export default command;
