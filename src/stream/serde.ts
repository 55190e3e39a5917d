import type { Headers, InMessage, OutMessage } from "../kafka/index.js";
import type { WindowRecord } from "../feature/types.js";
import { TickLineScanner } from "../tick/scan.js";
import type { Tick } from "../tick/types.js";
import { parseTickLine } from "../tick/validate.js";
import { isEof, SOURCE_PARTITION_HEADER } from "./control.js";

/** Headers the step writes (README.md in this folder lists them all). */
export const FEATURE_HEADER = "quixlab-feature";
export const FEATURE_VERSION_HEADER = "quixlab-feature-version";
export const REASON_HEADER = "quixlab-reason";
export const FIELD_HEADER = "quixlab-field";
export const DETAIL_HEADER = "quixlab-detail";
export const SOURCE_TOPIC_HEADER = "quixlab-source-topic";
export const SOURCE_OFFSET_HEADER = "quixlab-source-offset";
export const TRUNCATED_HEADER = "quixlab-truncated";
export const KEY_HEADER = "quixlab-key";
export const WATERMARK_HEADER = "quixlab-watermark";

export type { InMessage, OutMessage } from "../kafka/index.js";

export type Decoded =
  | { kind: "eof" }
  | { kind: "tick"; tick: Tick }
  | { kind: "reject"; reason: string; field?: string; detail: string };

/** Values larger than this are rejected unread: a tick is a few hundred bytes. */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024;

// One scanner for every message: decoding is synchronous, so no two messages ever share it at once.
const scanner = new TickLineScanner();

/**
 * Decode one input message: an eof marker, a valid tick, or a rejection with a reason. Never throws, whatever
 * the bytes are (null, huge, not UTF-8, not JSON, wrong types). Plain ticker messages are read straight from the
 * bytes; anything the scanner cannot vouch for is decoded and judged by parseTickLine, with the same result.
 */
export function decodeMessage(m: Pick<InMessage, "value" | "headers">, maxValueBytes = DEFAULT_MAX_VALUE_BYTES): Decoded {
  if (isEof(m.headers)) return { kind: "eof" };
  return decodeValue(m.value, 0, m.value?.length ?? 0, maxValueBytes);
}

/** decodeMessage for a value that is buf[from, to) (null: the message has none), eof markers aside. */
export function decodeValue(buf: Uint8Array | null, from: number, to: number, maxValueBytes = DEFAULT_MAX_VALUE_BYTES): Decoded {
  const length = to - from;
  if (buf === null || length <= 0) {
    return { kind: "reject", reason: "empty value", detail: "message value is null or empty (a tombstone?)" };
  }
  if (length > maxValueBytes) {
    return { kind: "reject", reason: "too large", detail: `value is ${length} bytes; ticks are at most ${maxValueBytes}` };
  }
  if (scanner.scan(buf, from, to)) return { kind: "tick", tick: scanner.tick() };
  const r = parseTickLine(Buffer.from(buf.buffer, buf.byteOffset + from, length).toString("utf8"));
  if (r.ok) return { kind: "tick", tick: r.tick };
  const { reason, field, detail } = r.rejection;
  return { kind: "reject", reason, field, detail: detail ?? reason };
}

/**
 * A value that is another feature's output record (a step over another feature reads its output topic): a JSON
 * object with a non-empty string `key` and numeric `start` and `end`; it is passed to the engine as it is.
 */
export function decodeRecordValue(buf: Uint8Array | null, from: number, to: number, maxValueBytes = DEFAULT_MAX_VALUE_BYTES): Decoded {
  const length = to - from;
  if (buf === null || length <= 0) return { kind: "reject", reason: "empty value", detail: "message value is null or empty (a tombstone?)" };
  if (length > maxValueBytes) return { kind: "reject", reason: "too large", detail: `value is ${length} bytes; records are at most ${maxValueBytes}` };
  let r: unknown;
  try {
    r = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + from, length).toString("utf8"));
  } catch (e) {
    return { kind: "reject", reason: "bad JSON", detail: (e as Error).message };
  }
  if (typeof r !== "object" || r === null || Array.isArray(r)) return { kind: "reject", reason: "not a window record", detail: "expected a JSON object {key, start, end, ...}" };
  const o = r as Record<string, unknown>;
  for (const [field, ok] of [
    ["key", typeof o.key === "string" && o.key !== ""],
    ["start", typeof o.start === "number" && Number.isFinite(o.start)],
    ["end", typeof o.end === "number" && Number.isFinite(o.end)],
  ] as const) {
    if (!ok) return { kind: "reject", reason: "not a window record", field, detail: `'${field}' is missing or of the wrong type` };
  }
  return { kind: "tick", tick: o as unknown as Tick };
}

/** Where a consumed message came from, for the headers of what it turns into. */
export interface Source {
  topic: string;
  partition: number;
}

function sourceHeaders(src: Source, offset: string): Headers {
  return { [SOURCE_TOPIC_HEADER]: src.topic, [SOURCE_PARTITION_HEADER]: String(src.partition), [SOURCE_OFFSET_HEADER]: offset };
}

/** The output message of a final window: keyed by the window's key, value = the output record JSON. */
export function windowMessage(topic: string, record: WindowRecord, feature: { name: string; version: string }): OutMessage {
  return {
    topic,
    key: record.key,
    value: JSON.stringify(record),
    headers: { [FEATURE_HEADER]: feature.name, [FEATURE_VERSION_HEADER]: feature.version },
  };
}

/**
 * The dead letter of a rejected message: the original key and bytes, and why. Values above `maxBytes` are cut
 * (header `quixlab-truncated` = original length) so the dead letter itself always fits the broker's limit.
 */
export function deadLetter(
  topic: string,
  m: Pick<InMessage, "key" | "value" | "offset">,
  src: Source,
  why: { reason: string; field?: string; detail: string },
  maxBytes = 256 * 1024,
): OutMessage {
  const headers: Headers = { [REASON_HEADER]: why.reason, [DETAIL_HEADER]: why.detail.slice(0, 500), ...sourceHeaders(src, m.offset) };
  if (why.field) headers[FIELD_HEADER] = why.field;
  let value = m.value;
  if (value && value.length > maxBytes) {
    headers[TRUNCATED_HEADER] = String(value.length);
    value = value.subarray(0, maxBytes);
  }
  return { topic, key: m.key, value, headers };
}

/** A late tick, as received (original bytes), with the key's watermark at the time. */
export function lateMessage(topic: string, m: Pick<InMessage, "value" | "offset">, src: Source, key: string, watermark: number): OutMessage {
  return {
    topic,
    key,
    value: m.value,
    headers: { [REASON_HEADER]: "late", [KEY_HEADER]: key, [WATERMARK_HEADER]: String(watermark), ...sourceHeaders(src, m.offset) },
  };
}
