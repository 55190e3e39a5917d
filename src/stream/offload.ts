import { Worker } from "node:worker_threads";
import type { Headers, InMessage } from "../kafka/index.js";
import { ServiceError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import type { EngineSnapshot } from "../window/engine.js";
import { CONTROL_HEADER, EOF, isEof } from "./control.js";
import { ingestMs, type MessageSource, type PartitionProcessor, type Pending, type StepTopics } from "./partition.js";
import type { RawBatch } from "./records.js";
import type { OutMessage } from "./serde.js";

/**
 * Decoding and windowing in a worker thread. kafkajs decodes fetch responses on the main thread and fetches again
 * only once every batch of the last fetch has returned, so a step that processes in its eachBatch adds its work to
 * every fetch cycle. With the processing in a worker, the main thread packs a batch's bytes into one transferable
 * buffer and returns; the worker decodes and windows it while kafkajs fetches and decodes the next one.
 *
 * The worker runs the same PartitionProcessor as the in-thread path (one per partition, in the worker), on messages
 * rebuilt from the packed bytes: same offsets, keys, values, eof markers and ingest times, so the same output.
 */

/** Numbers per message in `PackedBatch.meta`. */
export const META = 7;
/** meta[i*META + ...] */
const OFFSET = 0;
const INGEST = 1;
const FLAGS = 2;
const VALUE_START = 3;
const VALUE_LEN = 4;
const KEY_START = 5;
const KEY_LEN = 6; // place() writes each length right after its start
const FLAG_EOF = 1;

/** A batch's messages as one buffer holding their values and keys, and numbers per message (where they are). */
export interface PackedBatch {
  partition: number;
  count: number;
  bytes: ArrayBuffer;
  meta: Float64Array;
  /** Offset of the next message after the batch (past trailing transaction markers). */
  end: number;
}

/** Where a batch's keys and values lie: the span of the shared buffer they cover, and the bytes of those elsewhere. */
interface Cover {
  lo: number;
  hi: number;
  extra: number;
}

function cover(c: Cover, b: Buffer | null, shared: ArrayBufferLike | undefined): void {
  if (!b) return;
  if (b.buffer !== shared) c.extra += b.length;
  else {
    if (b.byteOffset < c.lo) c.lo = b.byteOffset;
    if (b.byteOffset + b.length > c.hi) c.hi = b.byteOffset + b.length;
  }
}

/**
 * Record where `b` lies in the packed bytes at meta[o] (start) and meta[o + 1] (length, -1 for none), appending it
 * at `at` when it is outside the shared span; returns the next free byte.
 */
function place(meta: Float64Array, o: number, b: Buffer | null, shared: ArrayBufferLike | undefined, lo: number, bytes: Uint8Array, at: number): number {
  if (!b) {
    meta[o + 1] = -1;
    return at;
  }
  meta[o + 1] = b.length;
  if (b.buffer === shared) {
    meta[o] = b.byteOffset - lo;
    return at;
  }
  bytes.set(b, at);
  meta[o] = at;
  return at + b.length;
}

/**
 * Pack kafkajs messages for the worker: their values and keys are views into the fetch response, so the span of
 * the response they cover is copied once (a value elsewhere, say from a decompressed batch, is appended on its own).
 * This runs on the thread kafkajs decodes on, for every message: plain loops and module-level functions, no strings.
 */
export function packBatch(partition: number, messages: readonly InMessage[], end: number): PackedBatch {
  const n = messages.length;
  const first = messages[0];
  const shared = first ? (first.value ?? first.key)?.buffer : undefined;
  // Offsets only increase within a batch, so when the first and last are n - 1 apart they are consecutive (the
  // rule); compaction or transaction markers leave gaps, and then each one is read.
  const base = first ? Number(first.offset) : 0;
  const consecutive = n > 0 && Number(messages[n - 1]!.offset) - base === n - 1;
  const c: Cover = { lo: Number.POSITIVE_INFINITY, hi: 0, extra: 0 };
  for (let i = 0; i < n; i++) {
    cover(c, messages[i]!.value, shared);
    cover(c, messages[i]!.key, shared);
  }
  const lo = c.hi === 0 ? 0 : c.lo;
  const span = c.hi - lo;
  const bytes = new Uint8Array(span + c.extra);
  if (shared && span > 0) bytes.set(new Uint8Array(shared, lo, span));
  let at = span;
  const meta = new Float64Array(n * META);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const o = i * META;
    meta[o + OFFSET] = consecutive ? base + i : Number(m.offset);
    meta[o + INGEST] = ingestMs(m.headers, m.timestamp);
    meta[o + FLAGS] = isEof(m.headers) ? FLAG_EOF : 0;
    at = place(meta, o + VALUE_START, m.value, shared, lo, bytes, at);
    at = place(meta, o + KEY_START, m.key, shared, lo, bytes, at);
  }
  return { partition, count: n, bytes: bytes.buffer, meta, end };
}

const EOF_HEADERS: Headers = Object.freeze({ [CONTROL_HEADER]: Buffer.from(EOF) }) as Headers;

/**
 * Run a packed batch through `proc`, reading each value where it lies in the packed bytes; whole messages (with
 * kafkajs' offset and timestamp strings) are made only for the few passed on as they are. Calls `after` after each
 * message (the worker checkpoints there).
 */
export function processPacked(b: PackedBatch, proc: PartitionProcessor, after: () => void): void {
  const { meta } = b;
  const buf = Buffer.from(b.bytes);
  const src: MessageSource = {
    message(i: number) {
      const o = i * META;
      const vl = meta[o + VALUE_LEN]!;
      const kl = meta[o + KEY_LEN]!;
      return {
        offset: String(meta[o + OFFSET]),
        // Copies: a view would send the whole batch buffer back with the reply.
        value: vl < 0 ? null : Buffer.from(buf.subarray(meta[o + VALUE_START]!, meta[o + VALUE_START]! + vl)),
        key: kl < 0 ? null : Buffer.from(buf.subarray(meta[o + KEY_START]!, meta[o + KEY_START]! + kl)),
        // The ingest time travels as the timestamp; NaN stays NaN (the processor then uses the wall clock).
        timestamp: String(meta[o + INGEST]),
        headers: meta[o + FLAGS] === FLAG_EOF ? EOF_HEADERS : undefined,
      };
    },
  };
  for (let i = 0; i < b.count; i++) {
    const o = i * META;
    const vs = meta[o + VALUE_START]!;
    const vl = meta[o + VALUE_LEN]!;
    proc.processAt(meta[o + OFFSET]!, meta[o + INGEST]!, meta[o + FLAGS] === FLAG_EOF, vl < 0 ? null : buf, vs, vs + Math.max(vl, 0), src, i);
    after();
  }
}

/** Messages to the worker. */
export type ToWorker =
  | { op: "open"; id: number; partition: number; position: number; snapshot?: EngineSnapshot; inputPartitions: number; outputPartitions: number; topics: StepTopics }
  | { op: "close"; id: number; partition: number }
  | { op: "batch"; id: number; batch: PackedBatch; every: number; intervalMs: number }
  | { op: "raw"; id: number; batch: RawBatch; every: number; intervalMs: number };

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

  async terminate(): Promise<void> {
    this.failure ??= new Error("the processing worker was stopped");
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}
