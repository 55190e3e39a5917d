import { relative, resolve } from "node:path";
import { InputError } from "../../src/errors/index.js";
import { initProject } from "../../src/promote/init.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";

const usage = "quixlab init [dir] [--force] [--json]";

const command: Command = {
  summary: "create a new quixlab project (quix.yaml, a notebook, sample ticks, devcontainer, README)",
  help: `usage: ${usage}

Creates a project in dir (default: the current folder; created when missing) from quixlab's project template:
  quix.yaml             the pipeline descriptor, commented, with a 'ticks' topic
  notebooks/candles.ipynb  a one-minute OHLCV feature in a '//| export' cell, run in batch and drawn
  data/                 107 recorded Coinbase ticker messages, with their source and licence notice
  README.md             the two commands that take the notebook's feature to a deployment
  package.json, tsconfig.json, .gitignore, .devcontainer.json
  vendor/quixlab-<version>.tgz  this quixlab, packed, when it was not installed from a registry (a checkout,
                        or itself a vendored tarball): package.json depends on it as file:vendor/..., so
                        'npm install' works with no registry serving quixlab. From a registry: ^<version>.

package.json also lists the notebook and CLI side (tslab, danfojs-node, typescript, ink...), which quixlab
keeps optional so that a deployed step installs none of it, and copies quixlab's npm overrides.

Refuses a folder that already has files in it (a .git folder is fine) unless --force, which writes the
template's files over any of the same name and leaves the others alone.

options:
  --force   write into a folder that is not empty
  --json    print {"dir", "files", "quixlab"} as one JSON object

exit codes: 0 created, 2 folder not empty (without --force) or not writable`,

  async run(argv, io) {
    const { values, positionals } = parse(argv, { force: { type: "boolean" }, json: { type: "boolean" } }, usage);
    if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`, { remedy: `usage: ${usage}` });
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const result = await initProject({ dir: resolve(io.cwd, positionals[0] ?? "."), force: values.force, log });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    const where = relative(io.cwd, result.dir) || ".";
    const quoted = /^[\w./-]+$/.test(where) ? where : `'${where.replace(/'/g, "'\\''")}'`;
    const cd = where === "." ? "" : `cd ${quoted} && `;
    const vendored = result.quixlab.startsWith("file:") ? `quixlab is vendored as ${result.quixlab.slice(5)} (no registry serves it); commit that file\n` : "";
    io.stdout.write(
      `created a quixlab project in ${where}/ (${result.files.length} files)\n${vendored}\n` +
        `next:\n  ${cd}npm install\n  npx quixlab notebook check notebooks/candles.ipynb\n` +
        `  npx quixlab promote notebooks/candles.ipynb --export candles1m --name candles-1m --ticks data/coinbase-ticker-2021-04-17.jsonl\n` +
        "  npx quixlab up --detach    # ticks-replay feeds the candles step the sample recording\n" +
        "  npx quixlab dashboard      # q quits; npx quixlab down stops the pipeline\n" +
        "live ticks as well: npx quixlab add source coinbase --name coinbase --products BTC-USD,ETH-USD\n",
    );
    return 0;
  },
};

export default command;
