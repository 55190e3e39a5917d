import { type ClientOptions, type InMessage, type KafkaTarget, type OutMessage, openProducer, readTopics, topicOffsets } from "../kafka/index.js";
import { readVectorAt } from "../serving/online.js";
import { onlineRedis } from "../store/online.js";
import { forwardedEof, readEofMarker } from "../stream/control.js";
import { deadLetter } from "../stream/serde.js";
import { sleep } from "../util/sleep.js";
import type { WindowRecord } from "../window/types.js";
import { type Model, type PredictionRecord, predictionOf, triggerTime } from "./define.js";
import { putPredictions } from "./store.js";

/**
 * The model step (`promote --model`, `replay --model`). Its clock is the trigger feature's output topic (one
 * final window a record); its values are the online store. For each trigger window it waits until every feature of
 * the vector has stored the key's watermark at or past the window's close (end + grace), reads the vector as of
 * that moment in one atomic read (`readVectorAt`), predicts, and writes the prediction keyed by product to the
 * output topic and to Redis. It reads the store rather than the three features' topics because the store is where
 * they meet under one watermark per key: the topics carry windows, not watermarks, so a step reading them would
 * need a second point-in-time join; the store's read is the one the vector replay proves equal to batch.
 *
 * Delivery: at-least-once. Offsets are committed after a batch's predictions are acknowledged and stored; a
 * redelivered trigger gives the same prediction (its vector is as of a fixed time), which Redis replaces in place.
 * A trigger message that is not a window record, whose prediction throws, or whose vector the store has trimmed
 * since (the step is further behind than a feature's retention), goes to `dlq` with the reason.
 * End of input: once every trigger partition carried input partition p's eof marker, it is forwarded to every
 * output partition, after the predictions before it. Which trigger partitions carried it is kept in Redis
 * (`quixlab:<model>:eof:<group>`, 2 days), so a restarted step still forwards it.
 */
export interface ModelStepOptions {
  brokers: KafkaTarget;
  /** The trigger feature's output topic. */
  input: string;
  output: string;
  /** Default `<input>.dlq`. */
  dlq?: string;
  redisUrl: string;
  group: string;
  client?: ClientOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface ModelStep {
  /** Resolves when the step stopped (the signal), rejects when it failed. */
  done: Promise<void>;
  /** Predictions written so far. */
  readonly written: () => number;
}

export async function runModelStep(model: Model, o: ModelStepOptions): Promise<ModelStep> {
  const log = o.log ?? (() => undefined);
  const dlq = o.dlq ?? `${o.input}.dlq`;
  const redis = onlineRedis(o.redisUrl, { lazyConnect: true });
  await redis.connect();
  const producer = await openProducer(o.brokers, o.client ?? {});
  const inputPartitions = (await topicOffsets(o.brokers, o.input)).length;
  const outputPartitions = (await topicOffsets(o.brokers, o.output)).length;
  // End-of-input progress outlives a crash: a trigger partition's eof marker, once committed, is not read again.
  const eofKey = `quixlab:${model.name}:eof:${o.group}`;
  const eofSeen = new Map<number, Set<number>>();
  const forwarded = new Set<number>();
  for (const [field, text] of Object.entries(await redis.hgetall(eofKey))) {
    const saved = JSON.parse(text) as { seen: number[]; forwarded: boolean };
    eofSeen.set(Number(field), new Set(saved.seen));
    if (saved.forwarded) forwarded.add(Number(field));
  }
  const saveEof = (sp: number) =>
    redis
      .multi()
      .hset(eofKey, String(sp), JSON.stringify({ seen: [...(eofSeen.get(sp) ?? [])], forwarded: forwarded.has(sp) }))
      .pexpire(eofKey, 2 * 86_400_000)
      .exec();
  let written = 0;
  let failed: (e: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });

  const vectorAt = async (key: string, at: number) => {
    for (let wait = 5; ; wait = Math.min(200, wait * 2)) {
      const v = await readVectorAt(redis, key, model.spec, model.features, at);
      if (v !== "wait") return v;
      if (o.signal?.aborted) return undefined;
      await sleep(wait, o.signal ?? new AbortController().signal);
    }
  };

  const onBatch = async (partition: number, messages: readonly InMessage[]) => {
    let out: OutMessage[] = [];
    let stored: PredictionRecord[] = [];
    const flush = async () => {
      if (out.length) await producer.send(out);
      await putPredictions(redis, stored);
      written += stored.length;
      out = [];
      stored = [];
    };
    for (const m of messages) {
      const eof = readEofMarker(m.headers);
      if (eof) {
        // A marker for an input partition whose end was forwarded already starts a new round (a later run of a
        // deployment with the same group and Redis; or a redelivery, whose forward happened): collect it afresh.
        if (forwarded.has(eof.sourcePartition)) {
          forwarded.delete(eof.sourcePartition);
          eofSeen.delete(eof.sourcePartition);
        }
        const seen = eofSeen.get(eof.sourcePartition) ?? new Set<number>();
        eofSeen.set(eof.sourcePartition, seen);
        seen.add(partition);
        if (seen.size === inputPartitions && !forwarded.has(eof.sourcePartition)) {
          await flush();
          const marker = forwardedEof(eof.sourcePartition, eof.sourcePartitions);
          await producer.send(Array.from({ length: outputPartitions }, (_, p) => ({ topic: o.output, partition: p, key: null, value: marker.value, headers: marker.headers })));
          forwarded.add(eof.sourcePartition);
        }
        // Recorded before the batch's offsets are committed (a crash in between reads the marker again).
        await saveEof(eof.sourcePartition);
        continue;
      }
      const window = parseWindow(m.value);
      if (typeof window === "string") {
        out.push(deadLetter(dlq, m, { topic: o.input, partition }, { reason: "not a window record", detail: window }));
        continue;
      }
      const at = triggerTime(model, window);
      const vector = await vectorAt(window.key, at);
      // Stopped while waiting: throw, so this batch is not committed and a restart predicts it again.
      if (!vector) throw new Error("stopped before the batch's predictions were written");
      if ("trimmed" in vector) {
        // The store trimmed windows this vector held at `at`: predicting from what is left would differ from batch.
        const { feature, through } = vector.trimmed;
        const detail = `the store no longer holds ${window.key}'s vector as of ${new Date(at).toISOString()}: its retention trimmed ${feature} windows starting up to ${new Date(through).toISOString()} (the model step is further behind the feature steps than ${feature}'s retention)`;
        out.push(deadLetter(dlq, m, { topic: o.input, partition }, { reason: "vector trimmed", detail }));
        log(`model ${model.name}: ${detail}`);
        continue;
      }
      try {
        const p = predictionOf(model, vector, window);
        if (p) {
          out.push({ topic: o.output, key: p.key, value: JSON.stringify(p), timestamp: String(p.at) });
          stored.push(p);
        }
      } catch (e) {
        out.push(deadLetter(dlq, m, { topic: o.input, partition }, { reason: "model error", detail: (e as Error).message ?? String(e) }));
      }
    }
    await flush();
  };

  const reader = await readTopics(o.brokers, {
    ...(o.client ?? {}),
    groupId: o.group,
    topics: [o.input],
    commit: true,
    // A batch that failed is not committed (kafkajs commits only what resolved): the step stops, and a restart reads it again.
    onBatch: (b) =>
      onBatch(b.partition, b.messages).catch((e: Error) => {
        if (!o.signal?.aborted) failed(e);
        throw e;
      }),
    onCrash: (e) => failed(e),
  });
  log(`model ${model.name}: reading ${o.input}, vectors ${model.specText} from ${o.redisUrl}, predictions to ${o.output}`);
  const stopped = new Promise<void>((resolve) => {
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  const done = Promise.race([stopped, failure]).finally(async () => {
    await reader.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
  });
  return { done, written: () => written };
}

/** A trigger message as a final window record, or why it is not one. */
function parseWindow(value: Buffer | null): WindowRecord | string {
  if (!value) return "an empty message where a window record was expected";
  let v: unknown;
  try {
    v = JSON.parse(value.toString());
  } catch {
    return "not JSON: expected a window record of the trigger feature";
  }
  const w = v as Partial<WindowRecord>;
  if (typeof w !== "object" || w === null || typeof w.key !== "string" || !Number.isFinite(w.start) || !Number.isFinite(w.end)) {
    return "not a window record (needs key, start and end): is the input the trigger feature's output topic?";
  }
  return w as WindowRecord;
}
