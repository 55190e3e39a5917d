import { TickColumnsBuilder } from "../tick/columns.js";
import { frameToTickResults, isDataFrame } from "../tick/frame.js";
import { readTickBatches, scanTickFields } from "../tick/read.js";
import { InputError } from "../errors/index.js";
import type { Rejection, Tick, TickResult } from "../tick/types.js";
import { partitionOf } from "../util/murmur2.js";
import { isTick, toTick } from "../tick/validate.js";
import { compareKeys } from "../window/engine.js";
import type { Engine } from "../window/keyed.js";
import { OhlcvTumblingFold, ohlcvTumblingColumns } from "./fast.js";
import type { BatchInput, BatchOptions, BatchResult, Feature, WindowRecord } from "./types.js";

const KEEP_REJECTIONS = 100;

/**
 * Run a feature over a whole input and return its windows sorted by (key, start). Input order is arrival order,
 * so late ticks are dropped exactly as the stream step would drop them. `fastOhlcv` allows the columnar path (late ticks reported to `onLate` there too).
 */
export async function runBatch<R extends Record<string, unknown>>(
  feature: Feature<R>,
  input: BatchInput,
  opts: BatchOptions = {},
  fastOhlcv = false,
): Promise<BatchResult<R>> {
  const fast = fastOhlcv;
  if (feature.input) {
    // Over another feature: its batch records (each key's in start order, as its step writes them) are the input.
    const up = await feature.input.batchRecords(input, { ...opts, onLate: undefined });
    const items = up.records.map((r) => ({ ok: true as const, tick: r as unknown as Tick }));
    // Its input is those records, all valid: the upstream's rejected ticks are the upstream's to report.
    return runEngine(feature, [items], { ...opts, partitions: undefined });
  }
  if (typeof input === "string") {
    if (fast) {
      // Folded as the file is read: only the bars are held, whatever the file's size.
      const fold = new OhlcvTumblingFold(feature.window);
      const onLate = opts.onLate;
      const read = await scanTickFields(
        input,
        (productId, time, price, size) => {
          const k = fold.keyId(productId);
          if (!fold.add(k, time, price, size) && onLate) onLate({ product_id: productId, price, last_size: size, time }, { key: productId, watermark: fold.watermark(k) });
        },
        { ...opts.read, onProgress: opts.onProgress, onReject: opts.onReject, keepRejections: KEEP_REJECTIONS },
      );
      const { records, late } = fold.result();
      return { records: records as unknown as WindowRecord<R>[], ticks: read.ticks, rejected: read.rejected, rejections: read.rejections, late };
    }
    return runEngine(feature, readTickBatches(input, { ...opts.read, onProgress: opts.onProgress }), opts);
  }
  if (isDataFrame(input)) return runEngine(feature, [frameToTickResults(input)], opts);
  if (Array.isArray(input) && fast && input.every(isTick)) {
    const b = new TickColumnsBuilder(input.length);
    for (const t of input) b.pushTick(t);
    const { records, late } = ohlcvTumblingColumns(b.build(), feature.window, opts.onLate);
    return { records: records as unknown as WindowRecord<R>[], ticks: input.length, rejected: 0, rejections: [], late };
  }
  return runEngine(feature, checked(input as Iterable<unknown> | AsyncIterable<unknown>), opts);
}

/** Items of an iterable checked as ticks, in batches (line = 1-based position). */
async function* checked(items: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<TickResult[]> {
  let line = 0;
  let batch: TickResult[] = [];
  for await (const x of items as AsyncIterable<unknown>) {
    batch.push(toTick(x, ++line));
    if (batch.length === 4096) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function runEngine<R extends Record<string, unknown>>(
  feature: Feature<R>,
  batches: AsyncIterable<TickResult[]> | Iterable<TickResult[]>,
  opts: BatchOptions,
): Promise<BatchResult<R>> {
  const records: WindowRecord<R>[] = [];
  const events = { emit: (r: WindowRecord<R>) => records.push(r), late: opts.onLate };
  // One engine per input partition when the partition's watermark closes windows; else one for all keys.
  const n = feature.window.closing === "partition" ? partitionCount(opts.partitions) : 1;
  const engines = Array.from({ length: n }, () => feature.engine(events));
  const partitions = new Map<string, Engine>();
  const engineOf = (t: Tick) => {
    let e = partitions.get(t.product_id);
    if (!e) {
      e = engines[partitionOf(t.product_id, n)]!;
      partitions.set(t.product_id, e);
    }
    return e;
  };
  const rejections: Rejection[] = [];
  let ticks = 0;
  let rejected = 0;
  for await (const batch of batches) {
    for (const r of batch) {
      if (r.ok) {
        ticks++;
        (n === 1 ? engines[0]! : engineOf(r.tick)).add(r.tick);
      } else {
        rejected++;
        if (rejections.length < KEEP_REJECTIONS) rejections.push(r.rejection);
        opts.onReject?.(r.rejection);
      }
    }
  }
  let late = 0;
  for (const e of engines) {
    e.flush();
    late += e.lateCount();
  }
  records.sort((a, b) => compareKeys(a.key, b.key) || a.start - b.start || a.end - b.end || index(a) - index(b));
  return { records, ticks, rejected, rejections, late };
}

function partitionCount(n: number | undefined): number {
  if (n === undefined) return 1;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`bad partition count ${n}`, { remedy: "give the input topic's partition count (a whole number >= 1)", context: { field: "partitions" } });
  }
  return n;
}

/** A count window's number (0 for the other kinds): two count windows may share start and end. */
function index(r: Record<string, unknown>): number {
  return typeof r.index === "number" ? r.index : 0;
}
