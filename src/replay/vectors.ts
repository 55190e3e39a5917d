import { isDeepStrictEqual } from "node:util";
import { InputError } from "../errors/index.js";
import { loadFeatureRef } from "../feature/ref.js";
import type { Feature } from "../feature/types.js";
import { readVector } from "../serving/online.js";
import { type FeatureVector, vectorAt } from "../serving/rule.js";
import { parseVectorSpec, type VectorSpec } from "../serving/spec.js";
import { onlineRedis } from "../store/online.js";
import { prng } from "../tick/generate.js";
import { packageRoot } from "../util/paths.js";
import { sleep } from "../util/sleep.js";
import type { WindowRecord } from "../window/types.js";
import type { Stage } from "./chain.js";
import { replayNames } from "./plan.js";

/**
 * `replay --vectors SPEC` (#17, "online equals offline"): every feature of the spec runs as its own step on the
 * same ticks topic into the online store; while the ticks go in, the vector of every key is read from Redis at
 * random moments (`featureVector`, the read a model makes) and, at the end, each sample is compared with the
 * batch rule (`vectorAt`) at the sample's own `asOf`. One sample per key also after the end of input (asOf eof).
 */

/** What the comparison found; `ok` when every sample equals the batch vector at its asOf. */
export interface VectorCheck {
  spec: string;
  samples: number;
  /** Samples taken before the end of input (a numeric asOf). */
  midRun: number;
  equal: number;
  differing: number;
  /** Keys the store did not know yet at a sample (no watermark): not samples. */
  unknown: number;
  firstDifferences: { key: string; asOf: FeatureVector["asOf"]; online: FeatureVector; offline: FeatureVector }[];
  ok: boolean;
}

/**
 * The steps of a vectors replay: each spec feature, looked up by name among the exports of `ref`'s module (quixlab's
 * shipped `ohlc.ts` when the reference names none), each on the first step's input topic.
 */
export async function vectorStages(specText: string, ref: string, cwd: string, unique?: (prefix: string) => string): Promise<{ spec: VectorSpec; stages: Stage[] }> {
  const spec = parseVectorSpec(specText);
  const hash = ref.lastIndexOf("#");
  const module = ref.trim() === "" ? `${packageRoot()}/src/feature/shipped/ohlc.ts` : hash < 0 ? ref : ref.slice(0, hash);
  const stages: Stage[] = [];
  for (const [index, { feature: name }] of spec.entries()) {
    const childRef = `${module}#${name}`;
    const feature = await loadFeatureRef(childRef, cwd).catch((e: Error) => {
      throw new InputError(`--vectors: feature '${name}' is not an export of ${module}: ${e.message}`, {
        remedy: "name features exported under their own names by the reference's module (quixlab's ohlc.ts has ohlc1h, ohlc1m, ohlc60s)",
        context: { field: "vectors" },
      });
    });
    if (feature.input) {
      throw new InputError(`--vectors: '${name}' reads another feature ('${feature.input.name}'), and a vectors replay runs every feature on the ticks`, {
        remedy: "give features over ticks in the spec (replay a chain with --chain)",
        context: { field: "vectors" },
      });
    }
    if (feature.name !== name) {
      throw new InputError(`--vectors: export '${name}' of ${module} is the feature '${feature.name}'`, { remedy: "name each export as its feature", context: { field: "vectors" } });
    }
    const names = replayNames(feature.name, unique);
    if (stages[0]) names.topics.input = stages[0].names.topics.input;
    stages.push({ index, feature, ref: childRef, names, lateTicks: [] });
  }
  return { spec, stages };
}

export interface Sampler {
  /** Take the after-eof samples, stop, and compare everything with the batch records. */
  finish(records: Readonly<Record<string, readonly WindowRecord[]>>): Promise<VectorCheck>;
}

/**
 * Read every key's vector at `perKey` random moments over the next `overMs` (seeded), from the store at `url`.
 * Call `finish` once the output is complete.
 */
export function startSampler(o: { url: string; spec: VectorSpec; specText: string; features: Record<string, Feature>; keys: readonly string[]; perKey: number; overMs: number; seed: number }): Sampler {
  const redis = onlineRedis(o.url, { lazyConnect: true });
  const connected = redis.connect();
  const rnd = prng(o.seed);
  // Between 15 % and 85 % of the time the ticks take: after the steps' start-up, and with room for a retry.
  const moments = o.keys.flatMap((key) => Array.from({ length: o.perKey }, () => ({ key, at: (0.15 + 0.7 * rnd()) * o.overMs }))).sort((a, b) => a.at - b.at);
  // A key the steps have not stored yet is read again a little later (its sample is not lost to the start-up).
  const retry = (m: { key: string; at: number }) => {
    const at = m.at + 250;
    let i = moments.findIndex((x) => x.at > at);
    if (i < 0) i = moments.length;
    moments.splice(i, 0, { key: m.key, at });
  };
  const taken: { vector: FeatureVector; eofTime?: number }[] = [];
  let unknown = 0;
  const stop = new AbortController();
  const started = Date.now();
  const read = async (key: string): Promise<boolean> => {
    const v = await readVector(redis, key, o.spec, o.features);
    if (v) taken.push(v);
    else unknown++;
    return v !== undefined;
  };
  const loop = (async () => {
    await connected;
    for (let i = 0; i < moments.length; i++) {
      const m = moments[i]!;
      await sleep(Math.max(0, started + m.at - Date.now()), stop.signal);
      if (stop.signal.aborted) return;
      if (!(await read(m.key))) retry(m);
    }
  })();
  return {
    async finish(records) {
      stop.abort();
      await loop;
      for (const key of o.keys) await read(key);
      redis.disconnect();
      const graces = Object.fromEntries(Object.entries(o.features).map(([n, f]) => [n, f.window.grace]));
      const check: VectorCheck = { spec: o.specText, samples: taken.length, midRun: taken.filter((t) => t.vector.asOf !== "eof").length, equal: 0, differing: 0, unknown, firstDifferences: [], ok: false };
      for (const t of taken) {
        const offline = vectorAt(records, t.vector.key, t.vector.asOf, o.spec, graces, t.eofTime);
        if (isDeepStrictEqual(offline, t.vector)) check.equal++;
        else {
          check.differing++;
          if (check.firstDifferences.length < 3) check.firstDifferences.push({ key: t.vector.key, asOf: t.vector.asOf, online: t.vector, offline });
        }
      }
      check.ok = check.differing === 0 && check.samples > 0;
      return check;
    },
  };
}
