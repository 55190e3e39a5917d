import { resolve } from "node:path";
import { InputError, QuixlabError, ServiceError } from "../../src/errors/index.js";
import { featureVector, offlineVectors, parseTime, parseVectorSpec, resolveFeatures } from "../../src/serving/index.js";
import type { FeatureVector, VectorSpec, VectorValue } from "../../src/serving/index.js";
import type { Feature } from "../../src/feature/types.js";
import { onlineRedis } from "../../src/store/online.js";
import type { TickFormat } from "../../src/tick/read.js";
import type { WindowRecord } from "../../src/window/types.js";
import { formatDuration } from "../../src/window/duration.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";
import { paint, useColor as colorOn } from "../io.js";

const usage = "quixlab vector --features SPEC --key K (--redis URL | --ticks FILE --at T|eof) [--json] [--csv-map MAP] [--input-format jsonl|json|csv]";

const command: Command = {
  summary: "the model inputs for one key at one time: each feature's final windows in range",
  help: `usage: ${usage}

Prints the vector the seed's model reads for one key: for each feature of SPEC, the windows that were final at
the time (T >= a window's end + the feature's grace) and in range, oldest first:
  30d (any duration: 2d, 1h, 90m)  windows with start >= T − 30 days
  today                            windows with start >= UTC midnight of T
  latest                           the newest one (a single record, or null)
With --redis, the vector is read from the online store in one script call, atomic with the steps' writes: asOf
is the oldest of the features' stored watermarks for the key ("eof" once every one ended), and each feature holds
what was final then. With --ticks, the features are computed in batch over the file at --at T; --at eof is after
an end-of-input flush: every window counts and the ranges are measured from the key's latest event time. The two
agree: the batch vector at the asOf Redis reports is what Redis served.

options:
  --features SPEC       e.g. ohlc1h:30d,ohlc1m:today,ohlc60s:latest (features: ohlc1h, ohlc1m, ohlc60s)
  --key K               the key (product), e.g. BTC-USD
  --redis URL           read the online store (redis://HOST:PORT) instead of computing from a file
  --ticks FILE          ticks file: .jsonl/.ndjson, .json or .csv
  --at T|eof            epoch ms, an ISO time with a zone (2023-06-09T13:00:00Z), or eof
  --json                {"key","asOf","features":{"ohlc1h":[records],"ohlc1m":[records],"ohlc60s":record}} on stdout
  --csv-map MAP         CSV column mapping, as for 'quixlab batch'
  --input-format F      force the ticks format: jsonl, json or csv

In a notebook, trainingSet(ticks, spec, times) gives the same vectors for many keys and times.

example:
  quixlab vector --features ohlc1h:30d,ohlc1m:today,ohlc60s:latest --key BTC-USD --ticks data/coinbase-ticker-2021-04-17.jsonl --at eof

exit codes: 0 printed, 1 the store has no watermark of the key for these features, 2 bad flags, bad spec,
unreadable file or a key not in the file, 3 Redis unreachable`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        features: { type: "string" },
        key: { type: "string" },
        ticks: { type: "string" },
        redis: { type: "string" },
        at: { type: "string" },
        json: { type: "boolean" },
        "csv-map": { type: "string" },
        "input-format": { type: "string" },
      },
      usage,
    );
    if (positionals.length) throw new InputError(`unexpected argument '${positionals[0]}'`, { remedy: `usage: ${usage}` });
    if (values.redis !== undefined && (values.ticks !== undefined || values.at !== undefined)) {
      throw new InputError("--redis reads the store at its own watermark: give --redis, or --ticks with --at", { remedy: `usage: ${usage}` });
    }
    for (const flag of values.redis !== undefined ? (["features", "key"] as const) : (["features", "key", "ticks", "at"] as const)) {
      if (!values[flag]) throw new InputError(`missing --${flag}`, { remedy: `usage: ${usage}` });
    }
    const spec = parseVectorSpec(values.features!);
    const features = resolveFeatures(spec, []);
    const graces = Object.fromEntries(spec.map((p, i) => [p.feature, features[i]!.window.grace]));
    if (values.redis !== undefined) {
      const vector = await onlineVector(values.redis, values.key!, spec, Object.fromEntries(spec.map((p, i) => [p.feature, features[i]!])));
      if (!vector) {
        io.stderr.write(`the store at ${values.redis} has no watermark of '${values.key}' for ${spec.map((p) => p.feature).join(", ")}: no step has written that key yet\n`);
        return 1;
      }
      io.stdout.write(values.json ? `${JSON.stringify(vector)}\n` : vectorText(vector, graces, colorOn(io.stdout, io.env)));
      return 0;
    }
    const asOf = parseTime(values.at!);
    const key = values.key!;
    const { vectors, keys } = await offlineVectors(resolve(io.cwd, values.ticks!), spec, [asOf], {
      keys: [key],
      batch: { read: { format: values["input-format"] as TickFormat | undefined, csvMap: values["csv-map"] } },
      features,
    });
    if (!keys.includes(key)) {
      throw new InputError(`key '${key}' has no ticks in ${values.ticks}`, { remedy: `use one of ${keys.slice(0, 10).join(", ") || "(no valid ticks)"}`, context: { field: "key" } });
    }
    const vector = vectors[0]!;
    if (values.json) {
      io.stdout.write(`${JSON.stringify(vector)}\n`);
      return 0;
    }
    io.stdout.write(vectorText(vector, graces, colorOn(io.stdout, io.env)));
    return 0;
  },
};

export default command;

/** The vector from the online store at `url` (one connection, closed after). */
async function onlineVector(url: string, key: string, spec: VectorSpec, features: Record<string, Feature>): Promise<FeatureVector | undefined> {
  const redis = onlineRedis(url, { lazyConnect: true, retryStrategy: () => null });
  try {
    await redis.connect();
    return await featureVector(redis, key, spec, features);
  } catch (e) {
    if (e instanceof QuixlabError) throw e;
    throw new ServiceError(`cannot read the online store at ${url}: ${(e as Error).message}`, { remedy: "check the URL and that Redis runs ('quixlab services status')", cause: e });
  } finally {
    redis.disconnect();
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** A readable summary: per feature its count and first/last window, and the latest record in full. */
export function vectorText(v: FeatureVector, graces: Record<string, number>, color: boolean): string {
  const lines = [paint(color, 1, `${v.key} as of ${v.asOf === "eof" ? "eof (every window counts)" : `${iso(v.asOf)} (${v.asOf})`}`)];
  for (const [name, value] of Object.entries(v.features)) lines.push(...featureLines(name, value, graces[name] ?? 0));
  return `${lines.join("\n")}\n`;
}

function featureLines(name: string, value: VectorValue, grace: number): string[] {
  const head = `${name} (grace ${formatDuration(grace)})`;
  if (value === null) return [`${head}: latest — none final yet`];
  if (!Array.isArray(value)) return [`${head}: latest`, `  ${bar(value)}`];
  if (value.length === 0) return [`${head}: 0 windows`];
  const first = value[0]!;
  const last = value[value.length - 1]!;
  return [`${head}: ${value.length} window${value.length === 1 ? "" : "s"}, ${iso(first.start)} … ${iso(last.end)}`, `  first ${bar(first)}`, `  last  ${bar(last)}`];
}

function bar(r: WindowRecord): string {
  const rest = Object.entries(r)
    .filter(([k]) => k !== "key" && k !== "start" && k !== "end")
    .map(([k, x]) => `${k} ${typeof x === "object" ? JSON.stringify(x) : String(x)}`)
    .join("  ");
  return `[${iso(r.start)}, ${iso(r.end)})  ${rest}`;
}
