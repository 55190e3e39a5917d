import { parentPort, workerData } from "node:worker_threads";
import { loadFeatureRef } from "../feature/ref.js";
import type { FromWorker, ToWorker, WorkerData } from "./offload.js";
import { runBatch } from "./packed.js";
import { PartitionProcessor } from "./partition.js";
import { unpackRecords } from "./records.js";

/** The processing worker (offload.ts): one PartitionProcessor per open partition, requests handled in order. */
const port = parentPort!;
const { featureRef } = workerData as WorkerData;
const feature = await loadFeatureRef(featureRef, "/");
const procs = new Map<number, PartitionProcessor>();

function handle(m: ToWorker): FromWorker {
  if (m.op === "open") {
    procs.set(m.partition, new PartitionProcessor({ feature, topics: m.topics, partition: m.partition, inputPartitions: m.inputPartitions, outputPartitions: m.outputPartitions, position: m.position, snapshot: m.snapshot }));
    return { id: m.id };
  }
  if (m.op === "close") {
    procs.delete(m.partition);
    return { id: m.id };
  }
  if (m.op === "idle") {
    const proc = procs.get(m.partition);
    if (!proc) return { id: m.id, error: `partition ${m.partition} is not open` };
    // Nothing closed: no checkpoint (taking one would copy the whole engine every few hundred ms for nothing).
    const closed = proc.closeIdle(m.now);
    return { id: m.id, pendings: closed > 0 ? [proc.take()] : [], openWindows: proc.openWindows() };
  }
  const { every, intervalMs } = m;
  const batch = m.op === "raw" ? unpackRecords(m.batch) : m.batch;
  const proc = procs.get(batch.partition);
  if (!proc) return { id: m.id, error: `partition ${batch.partition} is not open` };
  const pendings = runBatch(proc, batch, batch.end, every, intervalMs);
  return { id: m.id, pendings, openWindows: proc.openWindows() };
}

port.on("message", (m: ToWorker) => {
  let reply: FromWorker;
  try {
    reply = handle(m);
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true, name: feature.name, version: feature.version } satisfies FromWorker);
