/** What the source tests share: a source run as a user runs it (a child process), and the topic read back. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { readTopics } from "../../src/kafka/index.js";
import type { StepMetrics } from "../../src/stream/metrics.js";
import { waitFor } from "../../src/util/net.js";
import { uniqueName } from "../harness/services.js";
import { bin, repoRoot } from "../helpers/cli.js";

export interface SourceChild {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** `quixlab source <args>` in a child, its metrics in `metricsFile`. */
export function startSourceChild(args: readonly string[], env: NodeJS.ProcessEnv): SourceChild {
  const child = spawn(process.execPath, [bin, "source", ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output: () => out, exited };
}

export function readMetricsFile(file: string): StepMetrics | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StepMetrics;
  } catch {
    return undefined;
  }
}

/** Wait until the source's metrics satisfy `ok`. */
export async function waitForMetrics(file: string, what: string, ok: (m: StepMetrics) => boolean, timeoutMs = 60_000): Promise<StepMetrics> {
  let last: StepMetrics | undefined;
  await waitFor(
    async () => {
      last = readMetricsFile(file);
      return last !== undefined && ok(last);
    },
    { timeoutMs, intervalMs: 100, what },
  );
  return last!;
}

export interface ReadMessage {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  timestamp: number;
  headers: Record<string, string>;
}

/** Every message of `topic` once `count(messages)` says enough (read in a group of its own from the start). */
export async function readTopicUntil(brokers: string[], topic: string, enough: (m: ReadMessage[]) => boolean, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const got: ReadMessage[] = [];
  const reader = await readTopics(brokers, {
    groupId: uniqueName("source-reader"),
    topics: [topic],
    onBatch: (b) => {
      for (const m of b.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
        got.push({ partition: b.partition, offset: Number(m.offset), key: m.key?.toString() ?? null, value: m.value?.toString() ?? "", timestamp: Number(m.timestamp), headers });
      }
    },
  });
  try {
    await waitFor(async () => enough(got), { timeoutMs, intervalMs: 100, what: `messages of ${topic}` });
    return got.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await reader.stop();
  }
}
