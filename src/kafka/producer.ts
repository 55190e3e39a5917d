import { Partitioners, type Producer as KafkaProducer, type TopicMessages } from "kafkajs";
import { type ClientOptions, kafkaClient } from "./client.js";
import { explainConnectError, type KafkaTarget } from "./connection.js";
import type { OutMessage } from "./types.js";

/**
 * Producer settings for every quixlab producer. kafkajs wants unlimited retries for idempotence (a retry that gave
 * up could reorder or lose a sequence); the backoff is capped by the client's maxRetryTime and non-retriable errors
 * still fail. One request in flight: kafkajs allows no more with idempotence.
 */
const IDEMPOTENT = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
} as const;

/** An idempotent producer (acks=all): each partition keeps the order sent, a retried request neither drops nor repeats. */
export interface Producer {
  /**
   * Send messages and resolve once every one is acknowledged, in requests small enough for the broker, in order.
   * A message without `partition` goes to its key's partition (Kafka's default partitioner, murmur2).
   */
  send(messages: readonly OutMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Consumed offsets a transaction commits with its messages: `offset` is the next one to consume. */
export interface TransactionOffsets {
  group: string;
  topic: string;
  partition: number;
  offset: number;
}

/** A transactional producer: messages and consumed offsets in one transaction (read them with read_committed). */
export interface TransactionalProducer {
  /** One transaction: all messages and the offsets, or nothing (it is aborted and the error rethrown). */
  commit(messages: readonly OutMessage[], offsets: TransactionOffsets): Promise<void>;
  disconnect(): Promise<void>;
}

const size = (v: string | Buffer | null | undefined) => (v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length);

/**
 * Split messages into requests of at most `maxBytes`: kafkajs puts all of a request's messages for one partition
 * into one record batch, which the broker refuses above its max message size (1 MiB default).
 */
export function chunkMessages(messages: readonly OutMessage[], maxBytes = 512 * 1024): OutMessage[][] {
  const out: OutMessage[][] = [];
  let cur: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let n = 64 + size(m.key) + size(m.value);
    for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + (Array.isArray(v) ? v.reduce((s, x) => s + size(x), 0) : size(v));
    if (cur.length && bytes + n > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

function byTopic(messages: readonly OutMessage[]): TopicMessages[] {
  const out = new Map<string, TopicMessages>();
  for (const { topic, ...m } of messages) {
    const t = out.get(topic) ?? { topic, messages: [] };
    out.set(topic, t);
    t.messages.push(m);
  }
  return [...out.values()];
}

async function sendAll(p: Pick<KafkaProducer, "sendBatch">, messages: readonly OutMessage[]): Promise<void> {
  for (const chunk of chunkMessages(messages)) await p.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
}

/**
 * Connect an idempotent producer. Example: `const p = await openProducer(brokers); await p.send([{ topic, key, value }])`.
 * A broker that lost its producer state (restarted after a SIGKILL) refuses the producer's next sequence number
 * for good; kafkajs keeps its id and would fail every retry. Such a send fails as before (the caller redoes it),
 * and the producer underneath is replaced by one with a new id, so the redo can succeed.
 */
export async function openProducer(target: KafkaTarget, opts: ClientOptions & { warm?: readonly string[] } = {}): Promise<Producer> {
  const make = async (first: boolean) => {
    const p = kafkaClient(target, opts).producer({ ...IDEMPOTENT });
    await p.connect().catch((e: unknown) => {
      throw explainConnectError(e, target);
    });
    // Only the first: a replacement (mid-outage) is made for a redo that fetches what it needs itself.
    if (first && opts.warm?.length) await warm(p, opts.warm);
    return p;
  };
  let producer = await make(true);
  let replacing: Promise<unknown> | undefined;
  return {
    async send(messages) {
      const used = producer;
      try {
        await sendAll(used, messages);
      } catch (e) {
        if (needsNewProducerId(e) && used === producer && !replacing) {
          replacing = make(false).then(
            (fresh) => {
              producer = fresh;
              void used.disconnect().catch(() => undefined);
            },
            () => undefined,
          );
          await replacing;
          replacing = undefined;
        }
        throw e;
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

/** How long a producer's start waits for the metadata of the topics it warms (an optimisation only). */
const WARM_MS = 5_000;

/**
 * Load the metadata of `topics` before the first send (an empty batch per topic makes kafkajs fetch it and send
 * nothing), so the first message to each does not wait for a metadata round trip: a step's first window is not
 * slower than the rest. Best effort, at most WARM_MS: the first send fetches what is still missing.
 */
async function warm(p: Pick<KafkaProducer, "sendBatch">, topics: readonly string[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const loaded = p.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: [] })), acks: -1 }).then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, WARM_MS)))]);
  clearTimeout(timer);
}

const STALE_PRODUCER = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_ID_MAPPING"]);

/** True when a write failed because the broker no longer knows the idempotent producer's id or sequence. */
export function needsNewProducerId(e: unknown, depth = 0): boolean {
  const c = e as { type?: string; cause?: unknown; errors?: unknown[] } | undefined;
  if (!c || depth > 5) return false;
  if (c.type && STALE_PRODUCER.has(c.type)) return true;
  // kafkajs wraps the broker's error (retrier: `cause`; several requests: `errors`).
  return needsNewProducerId(c.cause, depth + 1) || (Array.isArray(c.errors) && c.errors.some((x) => needsNewProducerId(x, depth + 1)));
}

/**
 * Connect the transactional producer `transactionalId` and abort whatever an older producer of that id left open:
 * initialising the id fences every older producer with it (their next write fails, see `isFenced`).
 */
export async function openTransactionalProducer(target: KafkaTarget, transactionalId: string, opts: ClientOptions = {}): Promise<TransactionalProducer> {
  const producer = kafkaClient(target, opts).producer({ ...IDEMPOTENT, transactionalId });
  await producer.connect().catch((e: unknown) => {
    throw explainConnectError(e, target);
  });
  try {
    await (await producer.transaction()).abort();
  } catch (e) {
    await producer.disconnect().catch(() => undefined);
    throw e;
  }
  return {
    async commit(messages, o) {
      const tx = await producer.transaction();
      try {
        await sendAll(tx, messages);
        await tx.sendOffsets({ consumerGroupId: o.group, topics: [{ topic: o.topic, partitions: [{ partition: o.partition, offset: String(o.offset) }] }] });
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        throw e;
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

const FENCED = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

/** True when a write failed because a newer producer with the same transactional id took over. */
export function isFenced(e: unknown): boolean {
  for (let c = e as { type?: string; cause?: unknown } | undefined, i = 0; c && i < 5; c = c.cause as typeof c, i++) {
    if (c.type && FENCED.has(c.type)) return true;
  }
  return false;
}
