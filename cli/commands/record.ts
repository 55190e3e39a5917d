import { resolve } from "node:path";
import { parse } from "../args.js";
import type { Command } from "../io.js";
import { InputError } from "../../src/errors/index.js";
import { COINBASE_WS, recordTicker, type RecordProgress } from "../../src/replay/record.js";
import { parseDuration } from "../../src/window/duration.js";

const usage = "quixlab record --products ETH-USD,BTC-USD [--duration 10m] --out ticks.jsonl [--endpoint URL] [--json]";

const command: Command = {
  summary: "record Coinbase ticker messages to a JSON Lines file (for replay)",
  help: `usage: ${usage}

Connects to the Coinbase Exchange websocket 'ticker' channel and appends every ticker message, exactly as sent,
to the output file as JSON Lines. Reconnects with backoff when the connection drops. Ctrl-C (or --duration)
finishes the file cleanly.

options:
  --products LIST   comma-separated product ids (required), e.g. ETH-USD,BTC-USD
  --out FILE        output file (required); overwritten
  --duration D      stop after D (e.g. 30s, 10m, 1h); default: until Ctrl-C
  --endpoint URL    websocket endpoint (default ${COINBASE_WS})
  --json            print a JSON summary at the end

exit codes: 0 recorded, 1 could not stay connected, 2 bad flags`,
  async run(argv, io) {
    const { values } = parse(
      argv,
      {
        products: { type: "string" },
        out: { type: "string", short: "o" },
        duration: { type: "string" },
        endpoint: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    if (!values.products) throw new InputError("missing --products", { remedy: `usage: ${usage}` });
    if (!values.out) throw new InputError("missing --out", { remedy: `usage: ${usage}` });
    const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration, "--duration");
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    const tty = Boolean(io.stderr.isTTY);
    let lastLine = 0;
    const show = (p: RecordProgress) => {
      const now = Date.now();
      if (!tty && now - lastLine < 5_000) return;
      lastLine = now;
      const line = `recording ${values.products}: ${p.messages} messages, ${(p.bytes / 1024).toFixed(1)} KiB, ${p.reconnects} reconnects${p.connected ? "" : " (connecting)"}`;
      io.stderr.write(tty ? `\r\u001b[2K${line}` : `${line}\n`);
    };
    try {
      const res = await recordTicker({
        products: values.products.split(",").map((s) => s.trim()).filter(Boolean),
        out: resolve(io.cwd, values.out),
        endpoint: values.endpoint,
        durationMs,
        signal: ac.signal,
        onProgress: show,
      });
      if (tty) io.stderr.write("\n");
      if (values.json) io.stdout.write(`${JSON.stringify({ out: values.out, ...res })}\n`);
      else io.stderr.write(`wrote ${res.messages} ticker messages to ${values.out} (${res.reconnects} reconnects)\n`);
      return 0;
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
  },
};

export default command;
