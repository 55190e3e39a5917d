/** Moving a recording forward in time for a looped replay (pure but for the scan of the file). */
import { inputMessages } from "../replay/produce.js";

const TIME = /("time"\s*:\s*")([^"]*)(")/;

/**
 * The line with its `time` moved `ms` later, everything else byte for byte; digits below the millisecond are
 * kept (`…30.244075Z` + 1 s → `…31.244075Z`). A line whose time cannot be read is returned as it is.
 * @example shiftTime('{"time":"2021-04-17T16:43:30.244075Z"}', 1000) // '{"time":"2021-04-17T16:43:31.244075Z"}'
 */
export function shiftTime(line: string, ms: number): string {
  const m = TIME.exec(line);
  if (!m) return line;
  const text = m[2]!;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) return line;
  const sub = /\.\d{3}(\d+)/.exec(text)?.[1] ?? "";
  const iso = new Date(t + ms).toISOString().replace(/Z$/, `${sub}Z`);
  return line.slice(0, m.index) + m[1] + iso + m[3] + line.slice(m.index + m[0].length);
}

/** The span a looped pass is shifted by: latest − earliest event time, plus 1 ms so passes never overlap. 0 with fewer than two times. */
export async function recordingSpan(file: string): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let n = 0;
  for await (const batch of inputMessages(file)) {
    for (const l of batch) {
      if (l.time === undefined) continue;
      n++;
      if (l.time < min) min = l.time;
      if (l.time > max) max = l.time;
    }
  }
  return n < 2 || max === min ? 0 : max - min + 1;
}
