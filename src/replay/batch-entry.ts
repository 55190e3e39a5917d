/**
 * The batch pass of a replay in a worker thread (batch-worker.ts starts it): load the feature by reference, window
 * the whole file, post the result. Runs beside the producer and the step instead of before them.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadFeatureRef } from "../feature/ref.js";
import type { BatchJob, BatchReply } from "./batch-worker.js";

const job = workerData as BatchJob;
const LATE_CAP = 100_000;

async function main(): Promise<BatchReply> {
  const feature = await loadFeatureRef(job.ref, job.cwd);
  if (feature.version !== job.version) {
    return { ok: false, error: `the worker loaded ${feature.name} (${feature.version}) from '${job.ref}', not version ${job.version}` };
  }
  const lateTicks: { key: string; time: number }[] = [];
  const batch = await feature.batchRecords(job.ticksFile, {
    ...(job.read ? { read: job.read } : {}),
    partitions: job.partitions,
    onLate: (t, info) => {
      if (lateTicks.length < LATE_CAP) lateTicks.push({ key: info.key, time: feature.time(t) });
    },
  });
  return { ok: true, batch, lateTicks };
}

main().then(
  (reply) => parentPort!.postMessage(reply),
  (e: Error & { name?: string; remedy?: string; context?: unknown }) =>
    parentPort!.postMessage({ ok: false, error: e.message ?? String(e), name: e.name, remedy: e.remedy, context: e.context } satisfies BatchReply),
);
