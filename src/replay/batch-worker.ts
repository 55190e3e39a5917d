import { Worker } from "node:worker_threads";
import { EnvironmentError, InputError, ServiceError } from "../errors/index.js";
import type { BatchResult, Feature } from "../feature/types.js";
import type { ReadOptions } from "../tick/read.js";

/**
 * A stage's batch pass in a worker thread, so a replay windows the file while it produces it and the step runs
 * (#18: overlap), instead of before. The worker loads the feature by the stage's reference and must find the same
 * version; its result is what `feature.batchRecords` gives on this thread.
 */

export interface BatchJob {
  ref: string;
  cwd: string;
  version: string;
  ticksFile: string;
  partitions: number;
  read?: Pick<ReadOptions, "format" | "csvMap">;
}

export type BatchReply =
  | { ok: true; batch: BatchResult<Record<string, unknown>>; lateTicks: { key: string; time: number }[] }
  | { ok: false; error: string; name?: string; remedy?: string; context?: unknown };

// Registers tsx (feature modules are TypeScript, and so are ours when run from source), then loads the entry.
const BOOT = `
const { workerData } = require("node:worker_threads");
(async () => {
  const { register } = await import(workerData.tsx);
  register();
  await import(workerData.entry);
})().catch((e) => require("node:worker_threads").parentPort.postMessage({ ok: false, error: String(e && e.stack || e) }));
`;

/** The batch result of `feature` (loadable as `ref` from `cwd`) over the file, computed in a worker thread. */
export function batchInWorker(feature: Feature, job: Omit<BatchJob, "version">, signal?: AbortSignal): Promise<{ batch: BatchResult<Record<string, unknown>>; lateTicks: { key: string; time: number }[] }> {
  const here = import.meta.url;
  const entry = new URL(here.endsWith(".ts") ? "./batch-entry.ts" : "./batch-entry.js", here).href;
  const worker = new Worker(BOOT, { eval: true, workerData: { ...job, version: feature.version, entry, tsx: import.meta.resolve("tsx/esm/api") } });
  return new Promise((resolve, reject) => {
    let settled = false;
    // The replay failed or stopped meanwhile: the worker must not keep the process alive to finish a result nobody reads.
    signal?.addEventListener(
      "abort",
      () => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        reject(new Error(`batch pass of ${feature.name}: stopped`));
      },
      { once: true },
    );
    worker.once("message", (m: BatchReply) => {
      settled = true;
      void worker.terminate();
      if (m.ok) return resolve({ batch: m.batch, lateTicks: m.lateTicks });
      // The worker's error as this thread would have thrown it (the CLI's exit code comes from its class).
      const Kind = m.name === "InputError" ? InputError : m.name === "EnvironmentError" ? EnvironmentError : ServiceError;
      reject(new Kind(m.name === "InputError" ? m.error : `batch pass of ${feature.name}: ${m.error}`, { ...(m.remedy ? { remedy: m.remedy } : {}), ...(m.context ? { context: m.context as never } : {}) }));
    });
    worker.once("error", (e) => {
      if (!settled) reject(e);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new ServiceError(`batch pass of ${feature.name}: the worker exited (code ${code}) before it answered`, { remedy: "run 'quixlab batch' on the file to see why" }));
    });
  });
}
