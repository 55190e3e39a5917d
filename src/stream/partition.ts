import type { Feature, WindowRecord } from "../feature/types.js";
import type { Headers } from "../kafka/index.js";
import type { EngineSnapshot } from "../window/engine.js";
import { restoreEngine } from "../window/engines.js";
import type { Engine } from "../window/keyed.js";
import { forwardedEof, INGEST_HEADER, isEof, readEofMarker } from "./control.js";
import { DEFAULT_MAX_VALUE_BYTES, deadLetter, decodeRecordValue, decodeValue, type InMessage, lateMessage, type OutMessage, windowMessage } from "./serde.js";

/** Topic names one partition's processing writes to. */
export interface StepTopics {
  input: string;
  output: string;
  dlq: string;
  late: string;
  /** Early results (`emit: "update"`), when the feature has them. */
  updates?: string;
}

/** Counters since the last `take()`. */
export interface PartitionCounts {
  consumed: number;
  emitted: number;
  rejected: number;
  late: number;
  eof: number;
  /** Early results written (emit "update"). */
  updates: number;
}

/** Everything produced since the last checkpoint, and the state to checkpoint with it. */
export interface Pending {
  /** Offset of the next message to process: what the consumer group should commit. */
  position: number;
  /** Messages to produce, in order (windows, dead letters, late ticks, eof markers). */
  messages: OutMessage[];
  /** Final windows, for the online store. */
  windows: WindowRecord[];
  /** emit "update": per key, the newest open window's current value (`final: false`), for the online store's latest. */
  updates: WindowRecord[];
  /** Ingest time (ms) of the message that made each window final, for latency. */
  triggers: number[];
  /**
   * Per key whose watermark moved (or with windows here): its watermark once they are final (`eof@<its latest
   * event time>` after an end-of-input flush), for the online store to keep beside them (a feature vector's
   * `asOf`: what a key's vector may hold is decided by every feature's watermark, windows or not).
   */
  watermarks: [string, number | `eof@${number}`][];
  snapshot: EngineSnapshot;
  counts: PartitionCounts;
}

export interface PartitionOptions {
  feature: Feature;
  topics: StepTopics;
  partition: number;
  /** Input partitions in total and output partitions to mark at eof. */
  inputPartitions: number;
  outputPartitions: number;
  /** Offset of the next message to process. */
  position: number;
  /** Continue from this engine state (a checkpoint); a fresh engine when absent. */
  snapshot?: EngineSnapshot;
  maxValueBytes?: number;
}

/**
 * The ingest time of a message: its `quixlab-ingest-ms` header, else its timestamp (NaN when neither is a number).
 * The header's digits are read from its bytes: a string per message for one number is a cost the hot path notices.
 */
export function ingestMs(headers: Headers | undefined, timestamp: string): number {
  const v = headers?.[INGEST_HEADER];
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  if (one === undefined || one === null) return Number(timestamp);
  return typeof one === "string" ? Number(one) : bytesMs(one, 0, one.length);
}

/** A number of milliseconds written as text in b[start, end): digits read in place, anything else by Number. */
export function bytesMs(b: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len > 0 && len <= 15) {
    let n = 0;
    for (let i = start; i < end && n >= 0; i++) {
      const c = b[i]!;
      n = c >= 0x30 && c <= 0x39 ? n * 10 + (c - 0x30) : -1;
    }
    if (n >= 0) return n;
  }
  return Number(b.toString("utf8", start, end));
}

/** Where processAt finds the whole message, for the rare ones that are passed on (dead letters, late ticks). */
export interface MessageSource {
  message(i: number): InMessage;
}

/**
 * The engine's state plus the keys that ended (eof) and have had no tick since, with the `eof@<ms>` handed over:
 * a restarted step must not hand them over a number (under closing "partition", another key's tick moves their
 * watermark, and the store takes a number above the eof time as a new run).
 */
type ProcessorSnapshot = EngineSnapshot & { readonly ended?: [string, string][] };

const zero = (): PartitionCounts => ({ consumed: 0, emitted: 0, rejected: 0, late: 0, eof: 0, updates: 0 });

/**
 * One input partition's processing, with no I/O: decode each message, feed the window engine, and collect what
 * must be produced. The step owns the I/O: it takes the pending output together with the engine snapshot and the
 * position, and writes them atomically (or in a safe order). Never throws on input.
 */
export class PartitionProcessor {
  readonly partition: number;
  position: number;
  private readonly engine: Engine;
  private readonly src;
  private pending: Omit<Pending, "position" | "snapshot" | "counts" | "updates" | "watermarks"> = { messages: [], windows: [], triggers: [] };
  /** An end-of-input flush happened since the last take: the keys' windows are all final ("eof"). */
  private flushed = false;
  /** The watermark last handed over per key (only a moved one is handed over again). */
  private readonly sent = new Map<string, number | string>();
  /** emit "update": the newest open window of each key since the last take. */
  private latest = new Map<string, WindowRecord>();
  private counts = zero();
  private trigger = 0;
  private sweeping = false;
  private lateInfo: { key: string; watermark: number } | undefined;

  constructor(private readonly opts: PartitionOptions) {
    this.partition = opts.partition;
    this.position = opts.position;
    this.src = { topic: opts.topics.input, partition: opts.partition };
    const events = {
      emit: (record: WindowRecord, info: { lastIngestMs?: number }) => {
        this.pending.windows.push(record);
        this.pending.messages.push(windowMessage(opts.topics.output, record, opts.feature));
        // A window the wall clock closed is measured from then, not from its quiet key's last tick.
        this.pending.triggers.push(this.sweeping ? this.trigger : (info.lastIngestMs ?? this.trigger));
        this.counts.emitted++;
      },
      late: (_tick: unknown, info: { key: string; watermark: number }) => {
        this.lateInfo = info;
      },
      update: (record: WindowRecord) => {
        const early = { ...record, final: false };
        this.pending.messages.push(windowMessage(opts.topics.updates ?? `${opts.topics.output}.updates`, early, opts.feature));
        const held = this.latest.get(record.key);
        if (!held || held.start <= record.start) this.latest.set(record.key, early);
        this.counts.updates++;
      },
    };
    this.engine = opts.snapshot ? restoreEngine(opts.feature, opts.snapshot, events) : opts.feature.engine(events);
    for (const [key, w] of (opts.snapshot as ProcessorSnapshot | undefined)?.ended ?? []) this.sent.set(key, w);
  }

  /** Process one message; the position moves past it. */
  process(m: InMessage): void {
    this.one.m = m;
    const v = m.value;
    // A replay stamps messages with the tick's event time (as recorded) and its wall-clock produce time in a
    // header; latency is measured from when the tick entered Kafka, so the header wins when present.
    this.processAt(Number(m.offset), ingestMs(m.headers, m.timestamp), isEof(m.headers), v, 0, v ? v.length : 0, this.one, 0);
  }

  private readonly one = {
    m: undefined as InMessage | undefined,
    message(): InMessage {
      return this.m!;
    },
  };

  /**
   * process() for a message given by parts (the worker thread reads them from a packed batch): its offset, ingest
   * time (NaN: unknown), whether it is an eof marker, and its value as buf[from, to) (null: none). `src.message(i)`
   * gives the whole message, asked only for those passed on as they are (dead letters, late ticks).
   */
  processAt(offset: number, ingest: number, eof: boolean, buf: Uint8Array | null, from: number, to: number, src: MessageSource, i: number): void {
    this.trigger = Number.isFinite(ingest) ? ingest : Date.now();
    this.counts.consumed++;
    if (eof) {
      // Over another feature: its output ends once the marker of each of its input partitions arrived.
      if (this.engine.endOfInput) {
        const m = eofSource(src.message(i));
        if (!this.engine.endOfInput(m?.sourcePartition, m?.sourcePartitions)) {
          this.position = offset + 1;
          return;
        }
      }
      this.engine.flush();
      this.flushed = true;
      for (let q = 0; q < this.opts.outputPartitions; q++) {
        const marker = forwardedEof(this.partition, this.opts.inputPartitions);
        this.pending.messages.push({ topic: this.opts.topics.output, partition: q, key: null, ...marker });
      }
      this.counts.eof++;
      this.position = offset + 1;
      return;
    }
    const d = (this.opts.feature.input ? decodeRecordValue : decodeValue)(buf, from, to, this.opts.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES);
    if (d.kind === "reject") {
      this.reject(src.message(i), d);
    } else if (d.kind === "tick") {
      this.lateInfo = undefined;
      let r: "ok" | "late";
      try {
        r = this.engine.add(d.tick, this.trigger);
      } catch (e) {
        // The feature's own key/time functions can refuse a valid tick; that tick is bad data, not a crash.
        this.reject(src.message(i), { reason: "feature error", detail: (e as Error).message ?? String(e) });
        r = "ok";
      }
      if (r === "late") {
        const info = this.lateInfo ?? { key: d.tick.product_id, watermark: Number.NaN };
        this.pending.messages.push(lateMessage(this.opts.topics.late, src.message(i), this.src, info.key, info.watermark));
        this.counts.late++;
      }
    }
    this.position = offset + 1;
  }

  private reject(m: InMessage, why: { reason: string; field?: string; detail: string }): void {
    this.pending.messages.push(deadLetter(this.opts.topics.dlq, m, this.src, why));
    this.counts.rejected++;
  }

  /** Messages processed since the last `take()`. */
  get uncommitted(): number {
    return this.counts.consumed;
  }

  openWindows(): number {
    return this.engine.openWindows();
  }

  /**
   * Live input: close the windows of keys quiet for the window's `idle` whose end + grace is past `now` (wall
   * clock). They are pending like any others; the caller takes a checkpoint. Returns how many closed.
   */
  closeIdle(now: number): number {
    this.trigger = now;
    this.sweeping = true;
    try {
      return this.engine.closeIdle(now);
    } finally {
      this.sweeping = false;
    }
  }

  /** Hand over everything pending with the state that matches it, and start collecting afresh. */
  take(): Pending {
    const updates = [...this.latest.values()];
    const watermarks: Pending["watermarks"] = [];
    const withWindows = new Set(this.pending.windows.map((w) => w.key));
    const ends: [string, string][] = [];
    for (const key of this.engine.keyList()) {
      const wm = this.engine.watermarkOf(key);
      if (wm === undefined) continue;
      const sent = this.sent.get(key);
      // eof carries the key's own latest event time (batch measures eof ranges from it), not the partition's
      // watermark; the key stays ended until a later tick of its own (a new run), not of another key.
      const ended = `eof@${this.engine.latestEventTime(key) ?? wm}` as const;
      const w = this.flushed || sent === ended ? ended : wm;
      if (w !== sent || withWindows.has(key)) watermarks.push([key, w]);
      this.sent.set(key, w);
      if (w === ended) ends.push([key, w]);
    }
    const snapshot: ProcessorSnapshot = { ...this.engine.snapshot(), ...(ends.length ? { ended: ends } : {}) };
    const out: Pending = { position: this.position, ...this.pending, updates, watermarks, snapshot, counts: this.counts };
    this.pending = { messages: [], windows: [], triggers: [] };
    this.flushed = false;
    this.latest = new Map();
    this.counts = zero();
    return out;
  }
}

/**
 * Which input partition of the upstream step a forwarded eof marker closes: from its headers, or from its value
 * (the packed path keeps only the control header); undefined for a replay's own marker.
 */
function eofSource(m: InMessage): { sourcePartition: number; sourcePartitions: number } | undefined {
  const h = readEofMarker(m.headers);
  if (h) return h;
  try {
    const v = m.value ? (JSON.parse(m.value.toString("utf8")) as { sourcePartition?: unknown; sourcePartitions?: unknown }) : undefined;
    if (v && Number.isInteger(v.sourcePartition) && Number.isInteger(v.sourcePartitions)) return { sourcePartition: v.sourcePartition as number, sourcePartitions: v.sourcePartitions as number };
  } catch {
    // not JSON: a marker without a source
  }
  return undefined;
}
