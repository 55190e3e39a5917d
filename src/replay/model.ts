import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { InputError, ServiceError } from "../errors/index.js";
import { createTopics, readTopics } from "../kafka/index.js";
import { batchPredictions } from "../model/batch.js";
import { isModel, type Model, type PredictionRecord } from "../model/define.js";
import { runModelStep } from "../model/step.js";
import { defaultRetentionMs } from "../store/retention.js";
import { EofTracker } from "../stream/control.js";
import type { Stage } from "./chain.js";
import { StepProcess } from "./child.js";
import type { ReplaySession } from "./session.js";

/**
 * `replay --model REF` (#17 part 5): the model's features run as steps on the ticks into the store (as
 * `--vectors`), the model step reads the trigger feature's output topic and the store, and its predictions are
 * read back and compared, one for one by (key, at), with `batchPredictions` — what the notebook computes.
 */

/** What the comparison found; `ok` when the stream's predictions are exactly the batch ones. */
export interface ModelCheck {
  model: string;
  version: string;
  expected: number;
  received: number;
  equal: number;
  missing: number;
  extra: number;
  differing: number;
  firstDifferences: { key: string; at: number; stream: PredictionRecord | null; batch: PredictionRecord | null }[];
  ok: boolean;
  /** With chaos: the model step's own kills (it ran as a process). */
  chaos?: { kills: number; restarts: number };
}

/** Load `path/to/module.ts#export` as a model (made by `defineModel`). */
export async function loadModelRef(ref: string, cwd: string): Promise<Model> {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0) throw new InputError(`bad model reference '${ref}'`, { remedy: "write path/to/module.ts#exportName", context: { field: "model" } });
  const path = resolve(cwd, ref.slice(0, hash));
  const name = ref.slice(hash + 1);
  if (!existsSync(path)) throw new InputError(`model module not found (from reference '${ref}')`, { remedy: "give the path relative to the current directory", context: { file: path, field: "model" } });
  const mod = (await import(pathToFileURL(path).href).catch((e: Error) => {
    throw new InputError(`cannot load the model module: ${e.message.split("\n")[0]}`, { remedy: "fix the module so it imports cleanly (run it with `npx tsx`)", cause: e, context: { file: path } });
  })) as Record<string, unknown>;
  const value = mod[name];
  if (!isModel(value)) {
    const models = Object.keys(mod).filter((k) => isModel(mod[k]));
    throw new InputError(`'${name}' in ${ref.slice(0, hash)} is not a model made by defineModel`, {
      remedy: models.length ? `use one of ${models.map((k) => `#${k}`).join(", ")}` : "export const m = defineModel({ name, features, predict })",
      context: { file: path, field: "model" },
    });
  }
  return value;
}

/** The feature module `replay --model` runs the vector's steps from: the model's own if it exports them, else quixlab's. */
export async function featureModuleOf(model: Model, ref: string, cwd: string): Promise<string> {
  const hash = ref.lastIndexOf("#");
  const mod = (await import(pathToFileURL(resolve(cwd, ref.slice(0, hash))).href)) as Record<string, unknown>;
  const own = Object.keys(model.features).every((n) => (mod[n] as { version?: string } | undefined)?.version === model.features[n]!.version);
  return own ? ref.slice(0, hash) : "";
}

/**
 * At max speed the feature steps run through the whole recording ahead of the model step, and the store trims each
 * feature by its retention from its newest window: a recording longer than the shortest retention would have the
 * windows the model still reads trimmed (its predictions would then differ from batch for that reason alone). So
 * refuse it, and say which speed keeps the steps within reach (100x: a few seconds of lag are minutes of event time).
 */
export function checkModelSpeed(model: Model, stages: readonly Stage[], speed: number): void {
  if (Number.isFinite(speed)) return;
  const [name, keep] = Object.values(model.features)
    .map((f) => [f.name, f.retention ?? defaultRetentionMs(f.window)] as const)
    .reduce((a, b) => (b[1] < a[1] ? b : a));
  // The span the store trims over: that feature's window starts.
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of stages.find((st) => st.feature.name === name)?.batch?.records ?? []) {
    if (r.start < lo) lo = r.start;
    if (r.start > hi) hi = r.start;
  }
  if (hi - lo > keep) {
    throw new InputError(`--model at max speed: the recording spans ${Math.round((hi - lo) / 60_000)} min and '${name}' keeps ${Math.round(keep / 60_000)} min in the store, so its steps would trim windows the model step has yet to read`, {
      remedy: "give --speed 100x (the feature steps then stay minutes of event time ahead, not the whole recording), or a shorter recording",
      context: { field: "speed" },
    });
  }
}

export interface ModelRun {
  /** With chaos: the model step's own process (`quixlab run <model>`), for the kills. */
  readonly process?: StepProcess;
  /** Wait for the model step's end-of-input, stop it, and compare. */
  finish(stallMs: number): Promise<ModelCheck>;
}

/**
 * Start the model step beside the feature steps, and a reader of its predictions. In this process, unless `child`
 * gives its reference: then as a deployment runs it (`quixlab run <model>`), a process chaos can kill.
 */
export async function startModelRun(o: {
  session: ReplaySession;
  model: Model;
  stages: readonly Stage[];
  ticksFile: string;
  partitions: number;
  log: (line: string) => void;
  child?: { ref: string; cwd: string };
}): Promise<ModelRun> {
  const { session, model } = o;
  const expected = batchPredictions(model, o.ticksFile);
  expected.catch(() => undefined);
  const trigger = o.stages.find((st) => st.feature.name === model.trigger.name)!;
  const base = o.stages[0]!.names.base;
  const output = `${base}.predictions`;
  const dlq = `${base}.predictions-input.dlq`;
  await createTopics(session.brokers, [output, dlq].map((topic) => ({ topic, partitions: o.partitions, config: { "retention.ms": "-1" } })));
  session.defer("deleting the model's topics", async () => (await import("../kafka/index.js")).deleteTopics(session.brokers, [output, dlq]));
  const stop = new AbortController();
  const settings = { input: trigger.names.topics.output, output, dlq, redisUrl: session.redis.url!, group: `${base}.model` };
  const step = o.child ? childModelStep(o.child, settings, session, o.log) : await runModelStep(model, { ...settings, brokers: session.brokers, client: session.client("model"), signal: stop.signal, log: o.log });
  session.defer("stopping the model step", async () => {
    stop.abort();
    if ("process" in step) await step.process.kill("SIGTERM");
    else await step.done.catch(() => undefined);
  });
  const received = new Map<string, PredictionRecord>();
  const eof = new EofTracker(o.partitions);
  let lastReadAt = Date.now();
  let complete: () => void = () => undefined;
  const completed = new Promise<void>((r) => {
    complete = r;
  });
  const reader = await readTopics(session.brokers, {
    ...session.client("model-reader"),
    groupId: `${base}.model-reader`,
    topics: [output],
    onBatch: (b) => {
      lastReadAt = Date.now();
      for (const m of b.messages) {
        if (eof.add(b.partition, m.headers) || !m.value) continue;
        const p = JSON.parse(m.value.toString()) as PredictionRecord;
        // A redelivered trigger predicts the same again: one per (key, at).
        received.set(`${p.key}\u0000${p.at}`, p);
      }
      if (eof.complete) complete();
    },
  });
  session.defer("stopping the predictions reader", () => reader.stop());
  return {
    ...("process" in step ? { process: step.process } : {}),
    async finish(stallMs) {
      for (;;) {
        const stalled = await Promise.race([completed.then(() => false), step.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(Date.now() - lastReadAt > stallMs), 1_000))]);
        if (eof.complete) break;
        if (stalled) throw new ServiceError(`the model step wrote nothing for ${Math.round(stallMs / 1000)} s before its end of input (${received.size} predictions read)`, { remedy: "see the log (--verbose) for the model step's errors" });
      }
      stop.abort();
      if ("process" in step) await step.process.kill("SIGTERM");
      else await step.done;
      return compare(model, (await expected).predictions, received);
    },
  };
}

/**
 * The model step as a child process, stopped by `finish` or the session (chaos kills restart it; a child that
 * died on its own shows as a stall: no predictions for `stallMs`).
 */
function childModelStep(
  child: { ref: string; cwd: string },
  s: { input: string; output: string; dlq: string; redisUrl: string; group: string },
  session: ReplaySession,
  log: (line: string) => void,
): { process: StepProcess; done: Promise<void> } {
  const brokers = session.brokers.join(",");
  const env = { ...process.env, input: s.input, output: s.output, dlq: s.dlq, consumer_group: s.group, REDIS_URL: s.redisUrl, Quix__Broker__Address: brokers, KAFKA_BROKERS: brokers };
  const proc = new StepProcess(child.ref, env, child.cwd, log);
  proc.start();
  log(`model step: started pid ${proc.pid} (quixlab run ${child.ref})`);
  // It never ends on its own terms: `finish` and the session stop it.
  return { process: proc, done: new Promise<void>(() => undefined) };
}

function compare(model: Model, batch: readonly PredictionRecord[], stream: ReadonlyMap<string, PredictionRecord>): ModelCheck {
  const c: ModelCheck = { model: model.name, version: model.version, expected: batch.length, received: stream.size, equal: 0, missing: 0, extra: 0, differing: 0, firstDifferences: [], ok: false };
  const seen = new Set<string>();
  const differ = (key: string, at: number, s: PredictionRecord | null, b: PredictionRecord | null) => {
    if (c.firstDifferences.length < 3) c.firstDifferences.push({ key, at, stream: s, batch: b });
  };
  for (const b of batch) {
    const id = `${b.key}\u0000${b.at}`;
    seen.add(id);
    const s = stream.get(id);
    if (!s) {
      c.missing++;
      differ(b.key, b.at, null, b);
    } else if (isDeepStrictEqual(s, b)) c.equal++;
    else {
      c.differing++;
      differ(b.key, b.at, s, b);
    }
  }
  for (const [id, s] of stream) {
    if (seen.has(id)) continue;
    c.extra++;
    differ(s.key, s.at, s, null);
  }
  c.ok = c.equal === batch.length && c.extra === 0 && batch.length > 0;
  return c;
}
