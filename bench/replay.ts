/**
 * `replay()` end to end: QUIXLAB_BENCH_REPLAY_TICKS generated ticks (default 1,000,000; 3 products, 1 % malformed,
 * disorder within the 2 s grace) through ohlc1m at max speed, on a broker and Redis this suite starts. Reports the
 * wall time of the replay() call (target < 60 s), the ticks/s it processed, and its parity verdict.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replay } from "../src/replay/replay.js";
import { writeTicksFile } from "../src/tick/generate.js";
import { packageRoot } from "../src/util/paths.js";
import type { Row } from "./types.js";
import { withServices } from "./stream.js";

export const name = "replay";

const TARGET_S = 60;

/** Generate the file, start the services, replay once, return the rows. */
export async function run(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_REPLAY_TICKS ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-replay-"));
  const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
  try {
    const file = join(dir, "ticks.jsonl");
    say(`generating ${n.toLocaleString("en-US")} ticks…`);
    const { bytes } = await writeTicksFile(file, { n, products: 3, seed: 11, outOfOrderMs: 1_500, malformedRate: 0.01 });
    return await withServices(name, async (s) => {
      say("replaying…");
      const t0 = performance.now();
      // The services are ours and already up: their start-up is reported apart, not in the replay's time.
      const r = await replay({
        ref: "src/feature/shipped/ohlc.ts#ohlc1m",
        ticks: file,
        cwd: packageRoot(),
        broker: s.brokers.join(","),
        redis: s.redis.url ?? "none",
        speed: "max",
      });
      const wall = (performance.now() - t0) / 1000;
      const p = r.parity;
      const ticks = `${(n / 1e6).toFixed(n % 1e6 ? 2 : 0)}M ticks (${(bytes / 1e6).toFixed(0)} MB), ${r.partitions} partitions`;
      const { produceMs, processMs } = r.throughput;
      const phases =
        `producing ${(produceMs / 1000).toFixed(1)} s, output complete ${((processMs - produceMs) / 1000).toFixed(1)} s after the last tick, ` +
        `${(wall - processMs / 1000).toFixed(1)} s batch pass + step start + compare + cleanup`;
      return [
        {
          suite: name,
          name: `replay ohlc1m ${ticks}, max speed: wall`,
          value: wall,
          unit: "s",
          ok: wall < TARGET_S,
          note: `target < ${TARGET_S} s; ${phases}; broker (${s.broker.provider}) start-up ${(s.broker.startupMs / 1000).toFixed(1)} s not included`,
        },
        {
          suite: name,
          name: "replay ohlc1m: processed",
          value: r.throughput.processedPerSec,
          unit: "ticks/s",
          baseline: { name: "produced", value: r.throughput.producedPerSec },
          ratio: r.throughput.processedPerSec / r.throughput.producedPerSec,
          note: "produce start to output complete; a ratio near 1 means the step kept up and the producer set the pace",
        },
        {
          suite: name,
          name: `replay ohlc1m: parity ${p.ok ? "ok" : "FAILED"}`,
          value: p.matched,
          unit: "windows",
          baseline: { name: "batch", value: p.expected },
          ratio: p.matched / p.expected,
          ok: p.ok,
          note: `expected ${p.expected}, matched ${p.matched}, mismatched ${p.mismatched}, missing ${p.missing}, extra ${p.extra}, redelivered ${p.duplicates}`,
        },
        {
          suite: name,
          name: "replay ohlc1m: dead letters",
          value: r.rejectedInStream,
          unit: "ticks",
          baseline: { name: "batch rejects", value: r.rejected },
          ok: r.rejectedInStream === r.rejected && r.lateInStream === r.late,
          note: `stream and batch must agree; late ${r.lateInStream} (batch ${r.late})`,
        },
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
