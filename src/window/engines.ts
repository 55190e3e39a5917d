import { InputError } from "../errors/index.js";
import { CountEngine } from "./count.js";
import { type EngineEvents, type EngineSnapshot, WindowEngine } from "./engine.js";
import type { Engine } from "./keyed.js";
import { RecordInput } from "./records.js";
import { ScanEngine } from "./scan.js";
import { SessionEngine } from "./session.js";
import { SlidingEngine } from "./sliding.js";
import type { EngineSpec } from "./types.js";

/**
 * A fresh engine for the spec's window kind: WindowEngine for tumbling and hopping windows, the sliding, session
 * and count engines for the others. Batch and the stream step call only this (and `restoreEngine`).
 * @example createEngine(ohlc1m, { emit: (r) => out.push(r) })
 */
export function createEngine<R extends Record<string, unknown>>(def: EngineSpec<R>, events: EngineEvents<R>): Engine {
  const e = kindEngine(def, events);
  return def.input ? new RecordInput(e) : e;
}

function kindEngine<R extends Record<string, unknown>>(def: EngineSpec<R>, events: EngineEvents<R>): Engine {
  switch (def.window.kind) {
    case "scan":
      return new ScanEngine(def, events);
    case "sliding":
      return new SlidingEngine(def, events);
    case "session":
      return new SessionEngine(def, events);
    case "count":
      return new CountEngine(def, events);
    default:
      return new WindowEngine(def, events);
  }
}

/** An engine continuing from a checkpoint; refuses one taken under another version or window kind. */
export function restoreEngine<R extends Record<string, unknown>>(def: EngineSpec<R>, snap: EngineSnapshot, events: EngineEvents<R>): Engine {
  const kind = def.window.kind === "tumbling" || def.window.kind === "hopping" ? undefined : def.window.kind;
  if (snap?.format !== 1 || snap.version !== def.version || snap.kind !== kind) {
    throw new InputError(
      `checkpoint of '${snap?.feature}' (version ${snap?.version}) does not match feature '${def.name}' (version ${def.version})`,
      { remedy: "the feature's definition changed since the checkpoint: reset the step's state and replay from the start" },
    );
  }
  const e = kind === undefined ? WindowEngine.restore(def, snap, events) : (kindEngine(def, events) as SlidingEngine<R> | SessionEngine<R> | CountEngine<R> | ScanEngine<R>).load(snap);
  return def.input ? new RecordInput(e).load(snap) : e;
}
