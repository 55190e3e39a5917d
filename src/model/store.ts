import type { Redis } from "ioredis";
import type { PredictionRecord } from "./define.js";

/**
 * Predictions in the online store, beside the features:
 *
 *   quixlab:<model>:prediction:<key>    hash  — the newest prediction: `at`, `prediction`, `json` (the record)
 *   quixlab:<model>:predictions:<key>   zset  — recent ones, score = at, member = record JSON (2 days kept)
 *
 * Idempotent per (key, at): a prediction written again (a redelivered trigger) replaces itself, and the hash only
 * moves forward in `at`, so a replay after a crash leaves Redis as an uninterrupted run would.
 */
export const predictionKey = (model: string, key: string) => `quixlab:${model}:prediction:${key}`;
export const predictionsKey = (model: string, key: string) => `quixlab:${model}:predictions:${key}`;

/** How long the history of predictions is kept, by `at`. */
export const PREDICTION_RETENTION_MS = 2 * 86_400_000;

// KEYS: hash, zset. ARGV: at, json, prediction, retention ms.
const PUT_PREDICTION = `
local cur = redis.call('HGET', KEYS[1], 'at')
if (not cur) or tonumber(cur) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'at', ARGV[1], 'prediction', ARGV[3], 'json', ARGV[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.17g', tonumber(newest) - tonumber(ARGV[4])))
return 1
`;

type WithPut = Redis & { quixlabPutPrediction(...args: (string | number)[]): Promise<unknown> };

/** Write predictions, all in one MULTI. */
export async function putPredictions(redis: Redis, records: readonly PredictionRecord[]): Promise<void> {
  if (records.length === 0) return;
  const r = redis as WithPut;
  if (typeof r.quixlabPutPrediction !== "function") redis.defineCommand("quixlabPutPrediction", { numberOfKeys: 2, lua: PUT_PREDICTION });
  const multi = r.multi() as unknown as { quixlabPutPrediction(...args: (string | number)[]): void; exec(): Promise<[Error | null, unknown][] | null> };
  for (const p of records) {
    multi.quixlabPutPrediction(predictionKey(p.model, p.key), predictionsKey(p.model, p.key), String(p.at), JSON.stringify(p), String(p.prediction), String(PREDICTION_RETENTION_MS));
  }
  const out = await multi.exec();
  const failed = out?.find(([e]) => e);
  if (failed) throw failed[0];
}

/** A key's newest prediction, or undefined. */
export async function latestPrediction(redis: Redis, model: string, key: string): Promise<PredictionRecord | undefined> {
  const json = await redis.hget(predictionKey(model, key), "json");
  return json === null ? undefined : (JSON.parse(json) as PredictionRecord);
}
