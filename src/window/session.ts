import type { Tick } from "../tick/types.js";
import type { EngineEvents, KeySnapshot } from "./engine.js";
import { type KeyBase, KeyedEngine, needMerge } from "./keyed.js";
import type { EngineSpec, WindowRecord } from "./types.js";

interface Session {
  first: number;
  last: number;
  state: unknown;
  updatedAt?: number;
}

interface SessionKey extends KeyBase {
  /** Open sessions, by time; disjoint, each `gap` or more from the next. */
  sessions: Session[];
  /** Last tick time of the newest final session (nothing may join or precede it any more). */
  emitted: number;
}

/**
 * `session(gap)` (DESIGN.md "More window kinds"): a key's ticks split wherever consecutive event times differ by
 * `gap` or more; a session runs [first, last + gap) and is final once the watermark reaches last + gap + grace. A
 * tick joins every open session it is within `gap` of, merging them (only open sessions ever merge). It is late
 * when it would touch or precede a final session, or when it joins none and its own session would be final at once.
 */
export class SessionEngine<R extends Record<string, unknown>> extends KeyedEngine<R, SessionKey> {
  private readonly merge: (a: unknown, b: unknown) => unknown;
  /** Sessions the tick being added joins, found by isLate for insert: [from, to). */
  private joins: [number, number] = [0, 0];

  constructor(def: EngineSpec<R>, events: EngineEvents<R>) {
    super(def, events);
    this.merge = needMerge(this.agg, def.name, "session");
  }

  protected newKey(): SessionKey {
    return { watermark: Number.NEGATIVE_INFINITY, seenAt: 0, sessions: [], emitted: Number.NEGATIVE_INFINITY };
  }

  protected isLate(ks: SessionKey, t: number, closedBy: number): boolean {
    const gap = this.spec.size;
    if (t < ks.emitted + gap) return true;
    const ss = ks.sessions;
    let to = ss.length;
    while (to > 0 && ss[to - 1]!.first - gap >= t) to--;
    let from = to;
    while (from > 0 && ss[from - 1]!.last + gap > t) from--;
    this.joins = [from, to];
    return from === to && t + gap + this.spec.grace <= closedBy;
  }

  protected insert(key: string, ks: SessionKey, tick: Tick, t: number, seq: number): void {
    const [from, to] = this.joins;
    const ss = ks.sessions;
    let s: Session;
    if (from === to) {
      s = { first: t, last: t, state: this.agg.init() };
      ss.splice(from, 0, s);
      this.open++;
    } else {
      s = ss[from]!;
      for (let i = from + 1; i < to; i++) {
        const o = ss[i]!;
        s.state = this.merge(s.state, o.state);
        s.last = o.last;
      }
      if (to - from > 1) {
        ss.splice(from + 1, to - from - 1);
        this.open -= to - from - 1;
        s.updatedAt = undefined;
      }
    }
    s.state = this.agg.add(s.state, tick, seq);
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    if (this.updates) this.update(s, t, () => this.record(key, s));
  }

  private record(key: string, s: Session): WindowRecord<R> {
    return { key, start: s.first, end: s.last + this.spec.size, ...this.agg.result(s.state) } as WindowRecord<R>;
  }

  protected close(key: string, ks: SessionKey, wm: number): void {
    const ss = ks.sessions;
    while (ss.length && ss[0]!.last + this.spec.size + this.spec.grace <= wm) this.emitFirst(key, ks);
  }

  private emitFirst(key: string, ks: SessionKey): void {
    const s = ks.sessions.shift()!;
    ks.emitted = s.last;
    this.open--;
    this.emitRecord(this.record(key, s), s.last);
  }

  protected flushKey(key: string, ks: SessionKey): void {
    while (ks.sessions.length) this.emitFirst(key, ks);
  }

  protected hasOpen(ks: SessionKey): boolean {
    return ks.sessions.length > 0;
  }

  protected writeKey(key: string, ks: SessionKey): KeySnapshot {
    const windows = ks.sessions.map((s): [number, number, unknown] => [s.first, s.last, s.state]);
    const updated = ks.sessions.filter((s) => s.updatedAt !== undefined).map((s): [number, number] => [s.first, s.updatedAt!]);
    return { key, watermark: ks.watermark, origin: 0, windows, ...(Number.isFinite(ks.emitted) ? { emitted: ks.emitted } : {}), ...(updated.length ? { updated } : {}) };
  }

  protected readKey(k: KeySnapshot): SessionKey {
    const ks = this.newKey();
    ks.watermark = k.watermark;
    ks.emitted = k.emitted ?? Number.NEGATIVE_INFINITY;
    const updated = new Map(k.updated ?? []);
    ks.sessions = k.windows.map(([first, last, state]) => ({ first, last, state, ...(updated.has(first) ? { updatedAt: updated.get(first) } : {}) }));
    this.open += ks.sessions.length;
    return ks;
  }
}
