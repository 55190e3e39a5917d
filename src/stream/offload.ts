import { Worker } from "node:worker_threads";
import { ServiceError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import type { OutMessage } from "../kafka/index.js";
import type { RawBatch } from "../kafka/record-batch.js";
import type { EngineSnapshot } from "../window/engine.js";
import type { PackedBatch } from "./packed.js";
import type { Pending, StepTopics } from "./partition.js";

/**
 * Decoding and windowing in a worker thread. kafkajs decodes fetch responses on the main thread and fetches again
 * only once every batch of the last fetch has returned, so a step that processes in its eachBatch adds its work to
 * every fetch cycle. With the processing in a worker, the main thread packs a batch's bytes into one transferable
 * buffer and returns; the worker decodes and windows it while kafkajs fetches and decodes the next one.
 *
 * The worker runs the same PartitionProcessor and `runBatch` as the in-thread path (one per partition, in the
 * worker), on the packed layout (packed.ts): same offsets, keys, values, eof markers and ingest times, so the same
 * output.
 */

/** Messages to the worker. */
export type ToWorker =
  | { op: "open"; id: number; partition: number; position: number; snapshot?: EngineSnapshot; inputPartitions: number; outputPartitions: number; topics: StepTopics }
  | { op: "close"; id: number; partition: number }
  | { op: "batch"; id: number; batch: PackedBatch; every: number; intervalMs: number }
  | { op: "raw"; id: number; batch: RawBatch; every: number; intervalMs: number }
  | { op: "idle"; id: number; partition: number; now: number };

/** Replies: to "open" and "close" an empty one, to "batch" its checkpoints in order. */
export type FromWorker =
  | { id: number; pendings?: Pending[]; openWindows?: number; error?: string }
  | { ready: true; name: string; version: string }
  | { ready: false; error: string };

/** What the worker loads the feature from: a reference as `quixlab run` takes it, with an absolute path. */
export interface WorkerData {
  featureRef: string;
}

/** Structured clone turns Buffers into Uint8Arrays; kafkajs wants Buffers (or strings) back. */
function asBuffer<T extends string | Buffer | null | undefined>(v: T | Uint8Array): T | Buffer {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : (v as T);
}

function revive(p: Pending): Pending {
  for (const m of p.messages as OutMessage[]) {
    m.key = asBuffer(m.key);
    m.value = asBuffer(m.value);
    if (m.headers) for (const k of Object.keys(m.headers)) m.headers[k] = asBuffer(m.headers[k] as string | Buffer);
  }
  return p;
}

// The worker's entry registers tsx (feature modules and, when run from source, our own modules are TypeScript),
// then loads worker.ts/worker.js next to this module. An eval'd script, so no extra file has to be copied to dist/.
const BOOT = `
const { workerData } = require("node:worker_threads");
(async () => {
  const { register } = await import(workerData.tsx);
  register();
  await import(workerData.entry);
})().catch((e) => require("node:worker_threads").parentPort.postMessage({ ready: false, error: String(e && e.stack || e) }));
`;

/**
 * The main thread's side of the worker: open/close partitions, process packed batches. Requests are answered in
 * order (the worker handles one at a time), so each gets the reply with its id.
 */
export class ProcessingWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: { pendings: Pending[]; openWindows: number }) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  readonly ready: Promise<void>;
  private rejectReady!: (e: Error) => void;

  constructor(
    feature: Feature,
    featureRef: string,
    private readonly onFailure: (e: Error) => void,
  ) {
    const here = import.meta.url;
    const entry = new URL(here.endsWith(".ts") ? "./worker.ts" : "./worker.js", here).href;
    const data: WorkerData & { entry: string; tsx: string } = { featureRef, entry, tsx: import.meta.resolve("tsx/esm/api") };
    this.worker = new Worker(BOOT, { eval: true, workerData: data });
    this.ready = new Promise((resolve, reject) => {
      // A worker that dies before it answers (the feature module exits, runs out of memory) rejects it too.
      this.rejectReady = reject;
      this.worker.once("message", (m: FromWorker) => {
        if ("ready" in m && m.ready && m.name === feature.name && m.version === feature.version) return resolve();
        const why =
          "ready" in m && m.ready
            ? `it loaded ${m.name} (${m.version}) from '${featureRef}', not ${feature.name} (${feature.version})`
            : `it failed to load '${featureRef}': ${"error" in m ? m.error : "no reason given"}`;
        reject(new ServiceError(`the processing worker cannot run this feature: ${why}`, { remedy: "pass the reference of the feature the step runs, or set QUIXLAB_WORKER=0" }));
      });
    });
    this.ready.catch(() => undefined);
    this.ready.then(() => this.worker.on("message", (m: FromWorker) => this.reply(m)), () => undefined);
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => this.fail(new Error(`the processing worker exited (code ${code})`)));
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.rejectReady(new ServiceError(`the processing worker failed before it was ready: ${e.message}`, { cause: e, remedy: "run the feature module on its own (npx tsx) to see why it stops" }));
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.onFailure(e);
  }

  private reply(m: FromWorker): void {
    if (!("id" in m)) return;
    const w = this.waiting.get(m.id);
    this.waiting.delete(m.id);
    if (!w) return;
    if (m.error) w.reject(new Error(`processing worker: ${m.error}`));
    else w.resolve({ pendings: (m.pendings ?? []).map(revive), openWindows: m.openWindows ?? 0 });
  }

  private request(msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<{ pendings: Pending[]; openWindows: number }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Start (or restart) a partition's processing at `position`, from a checkpoint's engine when given. */
  async open(o: Omit<Extract<ToWorker, { op: "open" }>, "op" | "id">): Promise<void> {
    await this.request({ op: "open", id: this.nextId++, ...o });
  }

  async close(partition: number): Promise<void> {
    await this.request({ op: "close", id: this.nextId++, partition });
  }

  /** Process a packed batch (its buffer moves to the worker); the checkpoints it makes, in order. */
  process(batch: PackedBatch, every: number, intervalMs: number): Promise<{ pendings: Pending[]; openWindows: number }> {
    return this.request({ op: "batch", id: this.nextId++, batch, every, intervalMs }, [batch.bytes, batch.meta.buffer as ArrayBuffer]);
  }

  /** Process record batches as fetched (rawfetch.ts; their buffer moves to the worker), as `process` does. */
  processRaw(batch: RawBatch, every: number, intervalMs: number): Promise<{ pendings: Pending[]; openWindows: number }> {
    return this.request({ op: "raw", id: this.nextId++, batch, every, intervalMs }, [batch.bytes]);
  }

  /** Close the partition's quiet keys' windows at wall time `now` (live input); one checkpoint with what closed. */
  closeIdle(partition: number, now: number): Promise<{ pendings: Pending[]; openWindows: number }> {
    return this.request({ op: "idle", id: this.nextId++, partition, now });
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error("the processing worker was stopped");
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}
