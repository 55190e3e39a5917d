import type { Log } from "../infra/process.js";
import { murmur2 } from "../util/murmur2.js";
import { connectionOf, type KafkaTarget } from "./connection.js";
import { batchesWritten, brokerError, endOffset, fatal } from "./produce/log.js";
import { BrokerSocket, ConnectionLost } from "./produce/socket.js";
import {
  API_INIT_PRODUCER_ID,
  API_METADATA,
  type BrokerAddress,
  DUPLICATE_SEQUENCE,
  decodeInitProducerId,
  decodeMetadata,
  decodeProduce,
  errorName,
  initProducerIdBody,
  isRetriable,
  metadataBody,
  OUT_OF_ORDER_SEQUENCE,
  producePrefixSize,
  requestFrame,
  writeProducePrefix,
} from "./produce/wire.js";
import { type HeaderBytes, RecordBatchWriter } from "./record-batch.js";

/**
 * A producer of one topic that writes record batches itself (record-batch.ts) and speaks the Kafka protocol over
 * plain sockets (produce/): idempotent (a producer id from InitProducerId, sequence numbers per partition given
 * when a batch is sealed), acks = all, up to `maxInFlight` Produce requests in flight per broker, as Kafka allows
 * with idempotence (kafkajs allows 1). A retriable failure (a broken connection, a timeout, a leader moving, the
 * broker restarting) stops sending until every request in flight has its answer, then sends every unacknowledged
 * batch again in order, byte for byte (same sequence numbers, so the broker drops the ones it already has).
 * Plain connections only (no TLS, no SASL): see `fastProducerTarget`.
 *
 * Life cycle: `append` records (to a partition; `partitionOf` gives a key's), `await room()` now and then
 * (memory stays under `maxBufferedBytes`), `flush()` to send what is batched, `drain()` to wait for every
 * acknowledgement, `close()`.
 */
export interface FastProducer {
  readonly topic: string;
  readonly partitions: number;
  /** Kafka's default partitioner: murmur2 of the key's bytes. */
  partitionOf(key: Uint8Array): number;
  /** Add a record whose value is src[vStart, vEnd) (copied now; `src` may be reused after). */
  append(partition: number, timestamp: number, key: Uint8Array | null, src: Uint8Array, vStart: number, vEnd: number, headers: readonly HeaderBytes[]): void;
  /** Seal the partly filled batches and send them. */
  flush(): void;
  /** Resolves once the batches not yet acknowledged take less than `maxBufferedBytes`; rejects on a fatal error. */
  room(): Promise<void>;
  /** Flush, then resolve with the number of records acknowledged once all are. */
  drain(): Promise<number>;
  /** Records acknowledged so far. */
  readonly acked: number;
  close(): void;
}

export interface FastProducerOptions {
  clientId?: string;
  /**
   * Bytes per record batch (one per request). Default 1,000,000, librdkafka's batch.size, under the broker's default
   * message.max.bytes (1,048,588); a topic with a smaller max.message.bytes refuses them (MESSAGE_TOO_LARGE, fatal).
   */
  batchBytes?: number;
  /** Produce requests in flight per broker connection, 1–5. Default 5. */
  maxInFlight?: number;
  /** Unacknowledged bytes before `room()` waits. Default 32 MiB. */
  maxBufferedBytes?: number;
  requestTimeoutMs?: number;
  /** How long retriable failures may go on with nothing acknowledged before the producer gives up. Default 120 s. */
  retryForMs?: number;
  /** Called after each acknowledged batch with the total so far. */
  onAck?(acked: number): void;
  log?: Log;
}

interface Batch {
  partition: number;
  /** Seal order across partitions. */
  order: number;
  seq: number;
  count: number;
  frame: Buffer;
  /** The writer's buffer (the frame is its start), reused once the batch is acknowledged. */
  buf: Buffer;
  state: "waiting" | "sent" | "acked";
  /** Sent, and failed in a way that may have written it (a lost connection, a timeout). */
  doubt: boolean;
}

const SEQ_WRAP = 2 ** 31;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/**
 * Connect a fast producer to `topic` (which must exist). Example:
 * `const p = await openFastProducer(["127.0.0.1:9092"], "ticks"); p.append(p.partitionOf(key), ts, key, line, 0, line.length, []); await p.drain(); p.close()`
 */
export async function openFastProducer(target: KafkaTarget, topic: string, opts: FastProducerOptions = {}): Promise<FastProducer> {
  const c = connectionOf(target);
  if (c.ssl || c.sasl) throw new Error("openFastProducer: plain connections only (no TLS or SASL); use openProducer");
  const p = new Core(c.brokers, topic, opts);
  try {
    await p.start();
  } catch (e) {
    p.close();
    throw e;
  }
  return p;
}

class Core implements FastProducer {
  readonly partitions: number = 0;
  acked = 0;
  private readonly clientId: Buffer;
  private readonly topicBytes: Buffer;
  private readonly prefix: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
  private readonly maxBuffered: number;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private producerId = -1n;
  private producerEpoch = -1;
  private brokers = new Map<number, BrokerAddress>();
  private leaders: number[] = [];
  private readonly conns = new Map<number, BrokerSocket>();
  private writers: (RecordBatchWriter | undefined)[] = [];
  private nextSeq: number[] = [];
  private unacked: Batch[][] = [];
  /** Per partition: where this producer's next batch will be written, as far as we know (the end of the last acknowledged one). */
  private nextOffset: bigint[] = [];
  private waiting: Batch[] = [];
  private sent = 0;
  private order = 0;
  private sealed = 0;
  private buffered = 0;
  private readonly free: Buffer[] = [];
  private recovering: Promise<void> | undefined;
  private failure: Error | undefined;
  private lastProgressAt = Date.now();
  private wakers: (() => void)[] = [];

  constructor(
    private readonly bootstrap: readonly string[],
    readonly topic: string,
    private readonly opts: FastProducerOptions,
  ) {
    this.clientId = Buffer.from(opts.clientId ?? "quixlab-fast-producer");
    this.topicBytes = Buffer.from(topic);
    this.prefix = producePrefixSize(this.clientId, this.topicBytes);
    this.batchBytes = opts.batchBytes ?? 1_000_000;
    this.maxInFlight = Math.min(5, Math.max(1, opts.maxInFlight ?? 5));
    this.maxBuffered = opts.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.retryForMs = opts.retryForMs ?? 120_000;
  }

  async start(): Promise<void> {
    await this.retrying("connecting", async () => {
      await this.refreshMetadata();
      const conn = await this.connection(this.leaders[0]!);
      const r = decodeInitProducerId(await conn.request(requestFrame(API_INIT_PRODUCER_ID, 0, this.clientId, initProducerIdBody())));
      if (r.error !== 0) throw brokerError(r.error, "InitProducerId");
      this.producerId = r.producerId;
      this.producerEpoch = r.producerEpoch;
    });
    const n = this.leaders.length;
    await this.retrying("connecting", async () => {
      this.nextOffset = [];
      for (let p = 0; p < n; p++) this.nextOffset.push(await endOffset(await this.connection(this.leaders[p]!), this.clientId, this.topic, p));
    });
    (this as { partitions: number }).partitions = n;
    this.writers = new Array(n).fill(undefined);
    this.nextSeq = new Array(n).fill(0);
    this.unacked = Array.from({ length: n }, () => []);
  }

  partitionOf(key: Uint8Array): number {
    return (murmur2(key) & 0x7fffffff) % this.partitions;
  }

  append(partition: number, timestamp: number, key: Uint8Array | null, src: Uint8Array, vStart: number, vEnd: number, headers: readonly HeaderBytes[]): void {
    if (this.failure) throw this.failure;
    let w = this.writers[partition] ?? this.newWriter(partition, this.batchBytes);
    if (w.add(timestamp, key, src, vStart, vEnd, headers)) return;
    if (w.count > 0) {
      this.seal(partition);
      w = this.newWriter(partition, this.batchBytes);
      if (w.add(timestamp, key, src, vStart, vEnd, headers)) return;
    }
    // Larger than a batch: a batch of its own (the broker refuses it above its max message size, a fatal error).
    let extra = 0;
    for (const [k, v] of headers) extra += k.length + v.length + 10;
    w = this.newWriter(partition, 128 + (key?.length ?? 0) + (vEnd - vStart) + extra);
    if (!w.add(timestamp, key, src, vStart, vEnd, headers)) throw new Error("FastProducer: record does not fit its own batch");
    this.seal(partition);
  }

  flush(): void {
    if (this.failure) throw this.failure;
    for (let p = 0; p < this.writers.length; p++) if (this.writers[p]?.count) this.seal(p);
  }

  async room(): Promise<void> {
    while (!this.failure && this.buffered > this.maxBuffered) await this.changed();
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<number> {
    this.flush();
    while (!this.failure && this.acked < this.sealed) await this.changed();
    if (this.failure) throw this.failure;
    return this.acked;
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
    this.failure ??= new Error("FastProducer: closed");
    this.wake();
  }

  private newWriter(partition: number, capacity: number): RecordBatchWriter {
    const reuse = capacity === this.batchBytes ? this.free.pop() : undefined;
    const w = new RecordBatchWriter(capacity, this.prefix, reuse);
    this.writers[partition] = w;
    return w;
  }

  /** Seal a partition's batch with its sequence numbers (given here, once: a resend is the same bytes) and queue it. */
  private seal(partition: number): void {
    const w = this.writers[partition]!;
    this.writers[partition] = undefined;
    const seq = this.nextSeq[partition]!;
    const batch = w.seal({ producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: seq });
    this.nextSeq[partition] = (seq + w.count) % SEQ_WRAP;
    writeProducePrefix(w.buf, this.clientId, this.topicBytes, partition, batch.length, this.timeoutMs);
    const b: Batch = { partition, order: this.order++, seq, count: w.count, frame: w.buf.subarray(0, this.prefix + batch.length), buf: w.buf, state: "waiting", doubt: false };
    this.unacked[partition]!.push(b);
    this.waiting.push(b);
    this.buffered += b.frame.length;
    this.sealed += b.count;
    this.pump();
  }

  /** Send waiting batches in seal order while their leader's connection has room. */
  private pump(): void {
    while (!this.failure && !this.recovering && this.waiting.length) {
      const b = this.waiting[0]!;
      const conn = this.conns.get(this.leaders[b.partition]!);
      if (!conn || conn.closed) {
        this.recover();
        return;
      }
      if (conn.inFlight >= this.maxInFlight) return;
      this.waiting.shift();
      b.state = "sent";
      this.sent++;
      conn.request(b.frame).then(
        (body) => this.answered(b, body),
        (e: unknown) => this.failed(b, e),
      );
    }
  }

  private answered(b: Batch, body: Buffer): void {
    this.sent--;
    this.wake();
    const r = decodeProduce(body)[0];
    const code = r?.error ?? 13;
    if (code === 0 || code === DUPLICATE_SEQUENCE) {
      this.ack(b, r?.baseOffset ?? -1n);
      return;
    }
    const q = this.unacked[b.partition]!;
    // Out of order behind a batch that failed is that batch's failure: resend both, in order.
    if (isRetriable(code) || (code === OUT_OF_ORDER_SEQUENCE && q[0] !== b)) {
      this.opts.log?.(`fast producer: ${this.topic}[${b.partition}] sequence ${b.seq}: ${errorName(code)}, sending again`);
      b.state = "waiting";
      b.doubt = true;
      this.recover();
      return;
    }
    this.fail(
      code === OUT_OF_ORDER_SEQUENCE
        ? fatal(`the broker refused sequence ${b.seq} of ${this.topic}[${b.partition}] (OUT_OF_ORDER_SEQUENCE_NUMBER): it lost this producer's state`)
        : code === 10
          ? fatal(`Produce to ${this.topic}[${b.partition}]: a batch of ${b.frame.length - this.prefix} bytes is over the topic's max.message.bytes (MESSAGE_TOO_LARGE)`)
          : brokerError(code, `Produce to ${this.topic}[${b.partition}]`),
    );
  }

  private failed(b: Batch, e: unknown): void {
    this.sent--;
    this.wake();
    b.state = "waiting";
    b.doubt = true;
    if (e instanceof ConnectionLost) {
      this.opts.log?.(`fast producer: ${e.message}; sending again`);
      this.recover();
      return;
    }
    this.fail(fatal(`producing to ${this.topic} failed: ${(e as Error).message}`, e));
  }

  private ack(b: Batch, baseOffset: bigint): void {
    const q = this.unacked[b.partition]!;
    if (q[0] !== b) {
      this.fail(fatal(`acknowledgement of ${this.topic}[${b.partition}] sequence ${b.seq} out of order`));
      return;
    }
    q.shift();
    b.state = "acked";
    if (baseOffset >= 0n && baseOffset + BigInt(b.count) > this.nextOffset[b.partition]!) this.nextOffset[b.partition] = baseOffset + BigInt(b.count);
    this.buffered -= b.frame.length;
    if (b.buf.length >= this.prefix + this.batchBytes && this.free.length < 8) this.free.push(b.buf);
    this.acked += b.count;
    this.lastProgressAt = Date.now();
    this.opts.onAck?.(this.acked);
    this.wake();
    this.pump();
  }

  /** Stop sending; once nothing is in flight, find the leaders again and resend every unacknowledged batch in order. */
  private recover(): void {
    if (this.recovering || this.failure) return;
    this.recovering = (async () => {
      while (this.sent > 0 && !this.failure) await this.changed();
      await sleep(100);
      await this.retrying("sending again", async () => {
        for (const [id, c] of this.conns) if (c.closed) this.conns.delete(id);
        await this.refreshMetadata();
        for (const leader of new Set(this.leaders)) await this.connection(leader);
        await this.reconcile();
      });
      this.waiting = this.unacked.flat().sort((x, y) => x.order - y.order);
    })().then(
      () => {
        this.recovering = undefined;
        this.pump();
      },
      (e: unknown) => this.fail(e as Error),
    );
  }

  /**
   * Before sending again: the batches that may have been written (their answer was lost) are looked for in the log
   * (by this producer's id and their first sequence number), from where this producer's last acknowledged batch
   * ended. Those found are acknowledged, not sent again. The broker drops a repeated batch by itself only while it
   * remembers it: a broker SIGKILLed and restarted was seen to take one in again (a duplicate), so this does not
   * rely on it.
   */
  private async reconcile(): Promise<void> {
    for (let partition = 0; partition < this.unacked.length; partition++) {
      const q = this.unacked[partition]!;
      if (!q.some((b) => b.doubt)) continue;
      const conn = await this.connection(this.leaders[partition]!);
      const written = await batchesWritten(conn, this.clientId, this.topic, partition, this.nextOffset[partition]!, this.producerId);
      let found = 0;
      while (q[0] && written.has(q[0].seq)) {
        this.ack(q[0], written.get(q[0].seq)!);
        found++;
      }
      for (const b of q) b.doubt = false;
      if (found) this.opts.log?.(`fast producer: ${this.topic}[${partition}]: ${found} batch(es) whose answer was lost are in the log, not sent again`);
    }
  }

  /** Run `step` until it succeeds; a retriable failure is retried until `retryForMs` pass without progress. */
  private async retrying(what: string, step: () => Promise<void>): Promise<void> {
    let delay = 100;
    for (;;) {
      if (this.failure) throw this.failure;
      try {
        return await step();
      } catch (e) {
        const retriable = (e as { retriable?: boolean }).retriable === true;
        if (!retriable) throw e;
        if (Date.now() - this.lastProgressAt > this.retryForMs) {
          throw fatal(`${what} to ${this.bootstrap.join(",")} failed for ${Math.round(this.retryForMs / 1000)} s: ${(e as Error).message}`, e);
        }
        this.opts.log?.(`fast producer: ${what}: ${(e as Error).message}`);
        await sleep(delay);
        delay = Math.min(delay * 2, 1_000);
      }
    }
  }

  /** The topic's leaders (every partition must have one) and the brokers' addresses. */
  private async refreshMetadata(): Promise<void> {
    const conn = await this.anyConnection();
    const m = decodeMetadata(await conn.request(requestFrame(API_METADATA, 1, this.clientId, metadataBody([this.topic]))));
    const t = m.topics.find((x) => x.topic === this.topic);
    if (t?.error !== 0) throw brokerError(t?.error ?? 3, `Metadata of ${this.topic}`);
    const bad = t.partitions.find((p) => p.error !== 0 || p.leader < 0);
    if (bad) throw brokerError(bad.error || 5, `Metadata of ${this.topic}[${bad.partition}]`);
    if (this.partitions && t.partitions.length !== this.partitions) {
      throw fatal(`${this.topic} went from ${this.partitions} to ${t.partitions.length} partitions while producing: keys would change partition`);
    }
    this.brokers = new Map(m.brokers.map((b) => [b.nodeId, b]));
    this.leaders = t.partitions.map((p) => p.leader);
  }

  private async connection(nodeId: number): Promise<BrokerSocket> {
    const open = this.conns.get(nodeId);
    if (open && !open.closed) return open;
    const a = this.brokers.get(nodeId);
    if (!a) throw new ConnectionLost(`broker ${nodeId} is not in the metadata`);
    const c = await BrokerSocket.open(a.host, a.port, this.timeoutMs);
    this.conns.set(nodeId, c);
    return c;
  }

  /** An open connection, else the first bootstrap broker that answers. */
  private async anyConnection(): Promise<BrokerSocket> {
    for (const c of this.conns.values()) if (!c.closed) return c;
    let last: unknown;
    for (const address of this.bootstrap) {
      const at = address.lastIndexOf(":");
      try {
        const c = await BrokerSocket.open(address.slice(0, at), Number(address.slice(at + 1)), this.timeoutMs);
        // Kept under a key of its own until the metadata names the brokers.
        this.conns.set(-1 - this.bootstrap.indexOf(address), c);
        return c;
      } catch (e) {
        last = e;
      }
    }
    throw last ?? new ConnectionLost("no bootstrap broker");
  }


  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
    this.wake();
  }

  private changed(): Promise<void> {
    return new Promise((r) => this.wakers.push(r));
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }
}
