import { type Headers, headerText, type Producer } from "../kafka/index.js";

/**
 * Control messages: how a producer of ticks says "this input is complete", and how the step passes that on.
 * See README.md in this folder for the whole contract.
 */

/** Header that marks a control message; its value says which one. */
export const CONTROL_HEADER = "quixlab-control";
export const EOF = "eof";
/** Wall-clock time (ms) a producer sent a message; latency is measured from it when the Kafka timestamp is event time. */
export const INGEST_HEADER = "quixlab-ingest-ms";
/** On forwarded eof markers: the input partition that ended, and how many input partitions there are. */
export const SOURCE_PARTITION_HEADER = "quixlab-source-partition";
export const SOURCE_PARTITIONS_HEADER = "quixlab-source-partitions";

/** The headers of an end-of-input marker. */
export function eofHeaders(): Headers {
  return { [CONTROL_HEADER]: EOF };
}

export { headerText } from "../kafka/index.js";

/** True when a message (its headers) is an end-of-input marker. */
export function isEof(headers: Headers | undefined): boolean {
  return headerText(headers, CONTROL_HEADER) === EOF;
}

/**
 * Mark the end of input: one eof marker to each of `partitions` (a count, meaning 0..n-1, or a list) of `topic`.
 * Send it after the last tick, with the same producer, so it lands behind every tick of each partition.
 * @example await produceEof(producer, "ticks", 4)
 */
export async function produceEof(producer: Producer, topic: string, partitions: number | readonly number[]): Promise<void> {
  const list = typeof partitions === "number" ? Array.from({ length: partitions }, (_, i) => i) : partitions;
  await producer.send(list.map((partition) => ({ topic, partition, key: null, value: null, headers: eofHeaders() })));
}

/** What a forwarded eof marker on an output partition says. */
export interface EofMarker {
  /** The input partition whose end this marks. */
  sourcePartition: number;
  /** Input partitions in total: the output is complete once every one of them has been marked. */
  sourcePartitions: number;
}

/** The forwarded marker the step writes to every output partition when input partition `p` of `n` ends. */
export function forwardedEof(sourcePartition: number, sourcePartitions: number): { headers: Headers; value: string } {
  return {
    headers: {
      ...eofHeaders(),
      [SOURCE_PARTITION_HEADER]: String(sourcePartition),
      [SOURCE_PARTITIONS_HEADER]: String(sourcePartitions),
    },
    value: JSON.stringify({ eof: true, sourcePartition, sourcePartitions }),
  };
}

/** Read a forwarded eof marker from an output message's headers; undefined when it is not one. */
export function readEofMarker(headers: Headers | undefined): EofMarker | undefined {
  if (!isEof(headers)) return undefined;
  const sourcePartition = Number(headerText(headers, SOURCE_PARTITION_HEADER));
  const sourcePartitions = Number(headerText(headers, SOURCE_PARTITIONS_HEADER));
  if (!Number.isInteger(sourcePartition) || !Number.isInteger(sourcePartitions)) return undefined;
  return { sourcePartition, sourcePartitions };
}

/**
 * Tracks forwarded eof markers while reading an output topic: the output is complete when every output
 * partition has carried the marker of every input partition (each marker follows all the windows that input
 * partition sent to that output partition).
 * @example const t = new EofTracker(outputPartitions); ... if (t.add(partition, message.headers) && t.complete) stop()
 */
export class EofTracker {
  private readonly seen = new Map<number, Set<number>>();
  private sourcePartitions = 0;

  constructor(private readonly outputPartitions: number) {}

  /** Record a message; returns true when it was an eof marker. */
  add(outputPartition: number, headers: Headers | undefined): boolean {
    const m = readEofMarker(headers);
    if (!m) return false;
    this.sourcePartitions = Math.max(this.sourcePartitions, m.sourcePartitions);
    const s = this.seen.get(outputPartition) ?? new Set<number>();
    this.seen.set(outputPartition, s);
    s.add(m.sourcePartition);
    return true;
  }

  /** True once every output partition has seen every input partition's marker. */
  get complete(): boolean {
    if (this.sourcePartitions === 0) return false;
    for (let q = 0; q < this.outputPartitions; q++) {
      if ((this.seen.get(q)?.size ?? 0) < this.sourcePartitions) return false;
    }
    return true;
  }
}
