/**
 * `replay()` end to end (#18): generated ticks (3 products, 1 % malformed, disorder within the 2 s grace) through
 * ohlc1m at max speed, on a broker and Redis this suite starts. For QUIXLAB_BENCH_REPLAY_TICKS (default 1,000,000)
 * it reports the wall time of the replay() call (target < 10 s, services already up), the ticks/s it processed, its
 * parity verdict and dead letters, and the replaying process's peak RSS (target < 500 MB; the step is a child
 * process of its own, reported apart). Then the same for QUIXLAB_BENCH_REPLAY_BIG ticks (default 10,000,000; 0 skips):
 * it must complete with parity and the same RSS bound — the producer never holds the file.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replay } from "../src/replay/replay.js";
import { writeTicksFile } from "../src/tick/generate.js";
import { packageRoot } from "../src/util/paths.js";
import { type Services, withServices } from "./stream.js";
import type { Row } from "./types.js";

export const name = "replay";

const WALL_TARGET_S = 10;
const RSS_TARGET_MB = 500;

/** Peak RSS of this process while `f` runs, sampled every 20 ms (MB). */
async function peakRss<T>(f: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const value = await f();
    return { value, peakMb: Math.max(peak, process.memoryUsage.rss()) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The highest RSS a process reached (VmHWM, MB), when Linux says; the step children are read just before they stop. */
function childHwm(log: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const pid of log.flatMap((l) => [...l.matchAll(/started pid (\d+)/g)].map((m) => m[1]!))) {
    try {
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      if (Number.isFinite(kb)) best = Math.max(best ?? 0, kb / 1024);
    } catch {
      // gone already
    }
  }
  return best;
}

async function once(s: Services, file: string, n: number, bytes: number, say: (l: string) => void, label: string, wallTarget?: number): Promise<Row[]> {
  say(`replaying ${label}…`);
  const log: string[] = [];
  let stepMb: number | undefined;
  const t0 = performance.now();
  // The services are ours and already up: their start-up is reported apart, not in the replay's time.
  const { value: r, peakMb } = await peakRss(() =>
    replay({
      ref: "src/feature/shipped/ohlc.ts#ohlc1m",
      ticks: file,
      cwd: packageRoot(),
      broker: s.brokers.join(","),
      redis: s.redis.url ?? "none",
      speed: "max",
      log: (l) => log.push(l),
      onProgress: (p) => {
        if (p.phase === "comparing") stepMb = childHwm(log);
      },
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const p = r.parity;
  const ticks = `${(n / 1e6).toFixed(n % 1e6 ? 2 : 0)}M ticks (${(bytes / 1e6).toFixed(0)} MB), ${r.partitions} partitions`;
  const { produceMs, processMs } = r.throughput;
  const phases =
    `producing ${(produceMs / 1000).toFixed(1)} s, output complete ${((processMs - produceMs) / 1000).toFixed(1)} s after the last tick, ` +
    `${(wall - processMs / 1000).toFixed(1)} s step start + compare + cleanup (the batch pass runs beside the producer)`;
  return [
    {
      suite: name,
      name: `replay ohlc1m ${ticks}, max speed: wall`,
      value: wall,
      unit: "s",
      ok: wallTarget === undefined ? p.ok : wall < wallTarget,
      note: `${wallTarget === undefined ? "must complete with parity" : `target < ${wallTarget} s`}; ${phases}; broker (${s.broker.provider}, log on ${s.brokerFs}) start-up ${(s.broker.startupMs / 1000).toFixed(1)} s not included`,
    },
    {
      suite: name,
      name: `replay ohlc1m ${label}: processed`,
      value: r.throughput.processedPerSec,
      unit: "ticks/s",
      baseline: { name: "produced", value: r.throughput.producedPerSec },
      ratio: r.throughput.processedPerSec / r.throughput.producedPerSec,
      note: "produce start to output complete; a ratio near 1 means the step kept up and the producer set the pace",
    },
    {
      suite: name,
      name: `replay ohlc1m ${label}: parity ${p.ok ? "ok" : "FAILED"}`,
      value: p.matched,
      unit: "windows",
      baseline: { name: "batch", value: p.expected },
      ratio: p.matched / p.expected,
      ok: p.ok,
      note: `expected ${p.expected}, matched ${p.matched}, mismatched ${p.mismatched}, missing ${p.missing}, extra ${p.extra}, redelivered ${p.duplicates}`,
    },
    {
      suite: name,
      name: `replay ohlc1m ${label}: dead letters`,
      value: r.rejectedInStream,
      unit: "ticks",
      baseline: { name: "batch rejects", value: r.rejected },
      ok: r.rejectedInStream === r.rejected && r.lateInStream === r.late,
      note: `stream and batch must agree; late ${r.lateInStream} (batch ${r.late})`,
    },
    {
      suite: name,
      name: `replay ohlc1m ${label}: peak RSS`,
      value: peakMb,
      unit: "MB",
      ok: peakMb < RSS_TARGET_MB,
      note: `target < ${RSS_TARGET_MB} MB: the replaying process (producer, batch worker threads, reader), sampled every 20 ms; the step's own process peaked at ${stepMb === undefined ? "?" : Math.round(stepMb)} MB (VmHWM)`,
    },
  ];
}

/** Generate the files, start the services, replay each once, return the rows. */
export async function run(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_REPLAY_TICKS ?? 1_000_000);
  const big = Number(process.env.QUIXLAB_BENCH_REPLAY_BIG ?? 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-replay-"));
  const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
  try {
    const file = join(dir, "ticks.jsonl");
    say(`generating ${n.toLocaleString("en-US")} ticks…`);
    const { bytes } = await writeTicksFile(file, { n, products: 3, seed: 11, outOfOrderMs: 1_500, malformedRate: 0.01 });
    return await withServices(name, async (s) => {
      const rows = await once(s, file, n, bytes, say, `${n / 1e6}M`, WALL_TARGET_S);
      if (big > 0) {
        rmSync(file);
        const bigFile = join(dir, "big.jsonl");
        say(`generating ${big.toLocaleString("en-US")} ticks…`);
        const g = await writeTicksFile(bigFile, { n: big, products: 3, seed: 12, outOfOrderMs: 1_500, malformedRate: 0.01 });
        rows.push(...(await once(s, bigFile, big, g.bytes, say, `${big / 1e6}M`)));
      }
      return rows;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
