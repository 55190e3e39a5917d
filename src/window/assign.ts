import type { WindowSpec } from "./types.js";

/** Largest grid point `origin + k * step` that is <= t. */
export function gridFloor(t: number, origin: number, step: number): number {
  return origin + Math.floor((t - origin) / step) * step;
}

/** Start of the earliest window holding t: the smallest grid start s with s + size > t. */
export function firstWindowStart(t: number, spec: WindowSpec, origin: number): number {
  return gridFloor(t - spec.size, origin, spec.step) + spec.step;
}

/** Start of the latest window holding t (a tick on a boundary belongs to the window that starts there). */
export function lastWindowStart(t: number, spec: WindowSpec, origin: number): number {
  return gridFloor(t, origin, spec.step);
}

/**
 * Starts of every window holding t, ascending: one for tumbling, about size/step for hopping.
 * @example windowStarts(125_000, hopping 60s/1s) → [66_000, 67_000, …, 125_000] (60 windows)
 */
export function windowStarts(t: number, spec: WindowSpec, origin = 0): number[] {
  const out: number[] = [];
  const last = lastWindowStart(t, spec, origin);
  for (let s = firstWindowStart(t, spec, origin); s <= last; s += spec.step) out.push(s);
  return out;
}

/** Whether a window starting at `start` is final once the key's watermark reached `watermark`. */
export function isFinal(start: number, spec: WindowSpec, watermark: number): boolean {
  return watermark >= start + spec.size + spec.grace;
}
