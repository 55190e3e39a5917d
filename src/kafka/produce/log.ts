/**
 * What the fast producer asks of a partition's log (pure requests in wire.ts, sent on a BrokerSocket): where it ends
 * before the first write, and which of this producer's batches it holds past an offset (after a lost answer).
 */
import { ServiceError } from "../../errors/index.js";
import { LAST_DELTA_AT, LENGTH_AT, LOG_OVERHEAD, RECORDS_AT } from "../record-batch.js";
import { type BrokerSocket, ConnectionLost } from "./socket.js";
import { API_FETCH, API_LIST_OFFSETS, decodeFetch, decodeListOffsets, errorName, fetchBody, isRetriable, listOffsetsBody, requestFrame } from "./wire.js";

/** A failure retrying will not mend, with what to do. */
export const fatal = (message: string, cause?: unknown) =>
  new ServiceError(message, { cause, remedy: "run the replay again; if it keeps failing, set QUIXLAB_FAST_PRODUCE=0 to produce through kafkajs" });

/** The error for a Kafka error code: retriable ones as `ConnectionLost` (the producer retries), the rest fatal. */
export function brokerError(code: number, what: string): Error {
  const e = fatal(`${what}: ${errorName(code)} (Kafka error ${code})`);
  return isRetriable(code) ? Object.assign(new ConnectionLost(e.message), { code }) : e;
}

/** The partition's log end offset (ListOffsets, latest). */
export async function endOffset(conn: BrokerSocket, clientId: Buffer, topic: string, partition: number): Promise<bigint> {
  const [r] = decodeListOffsets(await conn.request(requestFrame(API_LIST_OFFSETS, 1, clientId, listOffsetsBody(topic, [partition]))));
  if (r?.error !== 0) throw brokerError(r?.error ?? 3, `ListOffsets of ${topic}[${partition}]`);
  return r.offset;
}

/** The batches of `producerId` in the partition's log from offset `from` to its end: first sequence → base offset. */
export async function batchesWritten(conn: BrokerSocket, clientId: Buffer, topic: string, partition: number, from: bigint, producerId: bigint): Promise<Map<number, bigint>> {
  const written = new Map<number, bigint>();
  for (;;) {
    const body = await conn.request(requestFrame(API_FETCH, 4, clientId, fetchBody(topic, new Map([[partition, from]]), 8 * 1024 * 1024)));
    const r = decodeFetch(body).find((x) => x.partition === partition);
    if (r?.error !== 0) throw brokerError(r?.error ?? 3, `Fetch of ${topic}[${partition}] from ${from}`);
    const b = r.records;
    let at = 0;
    let last = -1n;
    // Whole batches only: a fetch may end in part of one. producerId at 43, baseSequence at 53 (record-batch.ts).
    while (b.length - at >= RECORDS_AT) {
      const size = LOG_OVERHEAD + b.readInt32BE(at + LENGTH_AT);
      if (size < RECORDS_AT || at + size > b.length) break;
      const base = b.readBigInt64BE(at);
      if (b.readBigInt64BE(at + 43) === producerId) written.set(b.readInt32BE(at + 53), base);
      last = base + BigInt(b.readInt32BE(at + LAST_DELTA_AT));
      at += size;
    }
    if (last < from || last + 1n >= r.highWatermark) return written;
    from = last + 1n;
  }
}
