/**
 * The Quix Streams peer of the stream bench (#18): ohlc1m as a Quix Streams 3.28.1 app (`quixstreams_ohlcv.py`), in a
 * venv the bench makes on first use (peers.ts), over the stream bench's own input topic on the same broker. One call
 * is one run with a fresh consumer group, state dir and output topic.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTopics, topicOffsets, uniqueName } from "../src/kafka/index.js";
import { pythonPackage } from "./peers.js";

const exec = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "quixstreams_ohlcv.py");

export const QUIXSTREAMS_VERSION = "3.28.1";

/** What the script prints (quixstreams_ohlcv.py). */
interface ScriptOut {
  quixstreams: string;
  ticks: number;
  reduced: number;
  windows: number;
  processing_s: number;
  inclusive_s: number;
  stopped_s: number;
}

export interface QuixStreamsRun {
  /** Ticks per second from its first message until it had taken the last tick. */
  rate: number;
  /** ... from the process start (Python, imports, group join, state and changelog set-up included). */
  inclusive: number;
  /** Windows emitted by `.final()` (its own count) and found on the output topic. */
  windows: number;
  written: number;
  /** Ticks that went into a window (the rest were late). */
  reduced: number;
}

/** The venv's python, made on first use; `{ skipped }` says why when pip cannot install the pinned release. */
export function quixStreamsPython(log: (line: string) => void): ReturnType<typeof pythonPackage> {
  return pythonPackage(`qs-${QUIXSTREAMS_VERSION}`, "quixstreams", QUIXSTREAMS_VERSION, "quixstreams", log);
}

/**
 * Run the Quix Streams app over `input` (which holds `ticks` ticks and the eof markers) until it has taken every
 * tick. Throws if it stops short or writes nothing, so a broken peer cannot pass for a slow one.
 */
export async function quixStreamsRun(python: string, brokers: string[], input: string, ticks: number, partitions: number, graceMs: number): Promise<QuixStreamsRun> {
  const output = uniqueName("bench-out-quixstreams");
  await createTopics(brokers, [{ topic: output, partitions }]);
  const state = mkdtempSync(join(tmpdir(), "quixlab-bench-qs-"));
  try {
    const args = [SCRIPT, brokers.join(","), input, output, uniqueName("bench-quixstreams"), state, String(ticks), String(graceMs)];
    const { stdout } = await exec(python, args, { timeout: 900_000, maxBuffer: 4 << 20 }).catch((e: Error & { stderr?: string }) => {
      throw new Error(`bench quixstreams: the Quix Streams app failed: ${(e.stderr || e.message).trim().split("\n").slice(-5).join("\n  ")}`);
    });
    const out = JSON.parse(stdout.trim().split("\n").pop()!) as ScriptOut;
    if (out.quixstreams !== QUIXSTREAMS_VERSION) throw new Error(`bench quixstreams: ran Quix Streams ${out.quixstreams}, not ${QUIXSTREAMS_VERSION}`);
    const written = (await topicOffsets(brokers, output)).reduce((sum, o) => sum + o.high, 0);
    if (out.ticks !== ticks || out.windows === 0 || written === 0) {
      throw new Error(`bench quixstreams: the app took ${out.ticks} of ${ticks} ticks, emitted ${out.windows} windows and wrote ${written}`);
    }
    return { rate: ticks / out.processing_s, inclusive: ticks / out.inclusive_s, windows: out.windows, written, reduced: out.reduced };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}
