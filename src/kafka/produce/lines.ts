/**
 * A file's lines as bytes, for producers that send each line as a message: read in large chunks (never the whole
 * file), and a scan of flat JSON objects that finds the string value of a few top-level fields without parsing.
 */
import { open } from "node:fs/promises";

/**
 * The file in pieces of whole lines: each `buf[0, end)` ends with a `\n` (the last piece may not). The buffer is
 * reused for the next piece, so copy what must outlive it. A line longer than `chunkBytes` grows the buffer.
 */
export async function* lineChunks(file: string, chunkBytes = 4 * 1024 * 1024): AsyncGenerator<{ buf: Buffer; end: number }> {
  const fh = await open(file, "r");
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) {
        if (filled > 0) yield { buf, end: filled };
        return;
      }
      filled += bytesRead;
      const last = buf.lastIndexOf(10, filled - 1);
      if (last < 0) continue;
      yield { buf, end: last + 1 };
      buf.copy(buf, 0, last + 1, filled);
      filled -= last + 1;
    }
  } finally {
    await fh.close();
  }
}

/** Where a field's last value lies: `kind` 0 absent, 1 a string (its bytes at [at, at + len), no escapes), 2 another value. */
export interface FieldSpan {
  kind: 0 | 1 | 2;
  at: number;
  len: number;
}

const QUOTE = 34;
const BACKSLASH = 92;

/** Per byte inside a string: 0 plain, 1 the closing quote, 2 what the fast scan leaves to JSON.parse. */
const IN_STRING = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = c === QUOTE ? 1 : c < 0x20 || c >= 0x80 || c === BACKSLASH ? 2 : 0;
  return t;
})();

/** End of the string whose opening quote is at b[i], or -1 when it has escapes, control or non-ASCII bytes. */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  const t = IN_STRING;
  let j = i + 1;
  while (j < end && t[b[j]!] === 0) j++;
  return j < end && b[j] === QUOTE ? j : -1;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;

/** End of the JSON number at b[i], or -1 when it is not one (JSON's grammar: no leading zeros, `+` or bare `.`). */
function numberEnd(b: Uint8Array, i: number, end: number): number {
  let j = i;
  if (b[j] === 45) j++;
  if (b[j] === 48) j++;
  else if (isDigit(b[j]) && b[j] !== 48) while (j < end && isDigit(b[j])) j++;
  else return -1;
  if (b[j] === 46) {
    j++;
    if (!isDigit(b[j])) return -1;
    while (j < end && isDigit(b[j])) j++;
  }
  if (b[j] === 101 || b[j] === 69) {
    j++;
    if (b[j] === 43 || b[j] === 45) j++;
    if (!isDigit(b[j])) return -1;
    while (j < end && isDigit(b[j])) j++;
  }
  return j;
}

function literalEnd(b: Uint8Array, i: number, end: number): number {
  for (const word of LITERALS) {
    if (b[i] !== word[0] || i + word.length > end) continue;
    let ok = true;
    for (let k = 1; k < word.length && ok; k++) ok = b[i + k] === word[k];
    if (ok) return i + word.length;
  }
  return -1;
}
const LITERALS = ["true", "false", "null"].map((w) => Buffer.from(w));

/**
 * Scan b[start, end) as a flat JSON object written without spaces: `{"k":v,...}` whose values are strings without
 * escapes, numbers, true, false or null, all ASCII. Fills `spans[i]` with the last value of `fields[i]` (as
 * JSON.parse would keep it) and returns true; returns false, unsure, for anything else (nesting, escapes,
 * whitespace, non-ASCII, invalid JSON), and the caller parses that line the slow way.
 */
export function scanFlatJson(b: Uint8Array, start: number, end: number, fields: readonly Uint8Array[], spans: FieldSpan[]): boolean {
  for (const s of spans) s.kind = 0;
  if (b[start] !== 123 || b[end - 1] !== 125) return false;
  let i = start + 1;
  if (i === end - 1) return true;
  for (;;) {
    if (b[i] !== QUOTE) return false;
    const keyEnd = stringEnd(b, i, end);
    if (keyEnd < 0 || b[keyEnd + 1] !== 58) return false;
    let field = -1;
    for (let f = 0; f < fields.length; f++) {
      const name = fields[f]!;
      if (keyEnd - i - 1 !== name.length) continue;
      let same = true;
      for (let k = 0; k < name.length && same; k++) same = b[i + 1 + k] === name[k];
      if (same) field = f;
    }
    const v = keyEnd + 2;
    const c = b[v];
    let next: number;
    if (c === QUOTE) {
      const close = stringEnd(b, v, end);
      if (close < 0) return false;
      if (field >= 0) Object.assign(spans[field]!, { kind: 1, at: v + 1, len: close - v - 1 });
      next = close + 1;
    } else {
      next = c === 45 || isDigit(c) ? numberEnd(b, v, end) : literalEnd(b, v, end);
      if (next < 0) return false;
      if (field >= 0) spans[field]!.kind = 2;
    }
    if (next === end - 1) return true;
    if (b[next] !== 44) return false;
    i = next + 1;
  }
}
