import { createWriteStream } from "node:fs";
import { once } from "node:events";

/** Options for synthetic ticker recordings (deterministic for a given seed). */
export interface GenerateOptions {
  /** Lines to produce (malformed ones included). */
  n: number;
  /** Product ids, or how many to invent (BTC-USD, ETH-USD, SOL-USD, …). Default 3. */
  products?: readonly string[] | number;
  seed?: number;
  /** Arrival time of the first tick. Default 2023-06-09T12:00:00Z. */
  startMs?: number;
  /** Mean time between ticks across all products (ms). Default 10. */
  intervalMs?: number;
  /**
   * Silences that leave empty windows: per product, short ones of 90 s – 5 min (empty 1-minute windows) and,
   * rarely, long ones of 125–185 min (at least one empty hour). Default false.
   */
  gaps?: boolean;
  /**
   * Up to this many ms of disorder: some ticks carry an event time earlier than the one before them. Keep it at
   * or below the feature's grace and no tick is late. Default 0.
   */
  outOfOrderMs?: number;
  /** Share of lines that are malformed, of varied kinds (bad JSON, missing field, bad time …). Default 0. */
  malformedRate?: number;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "DOGE-USD", "LTC-USD", "XRP-USD", "DOT-USD"];
const BASE_PRICE: Record<string, number> = { "BTC-USD": 26_500, "ETH-USD": 1_846.55, "SOL-USD": 18.2 };

const MALFORMED = [
  "bad JSON",
  "not an object",
  "not a ticker",
  "missing field",
  "non-numeric",
  "non-finite",
  "non-positive",
  "negative",
  "bad time",
  "empty",
] as const;

/** ISO time with microseconds; the extra digits are noise below the millisecond that parsing must floor away. */
function isoMicros(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}

/**
 * Synthetic Coinbase `ticker` lines (JSON Lines, numbers as strings, like the real feed), in arrival order.
 * @example for (const line of generateTickLines({ n: 1000, seed: 7, gaps: true })) …
 */
export function* generateTickLines(opts: GenerateOptions): Generator<string> {
  const rnd = prng(opts.seed ?? 1);
  const products =
    typeof opts.products === "number" || opts.products === undefined
      ? Array.from({ length: opts.products ?? 3 }, (_, i) => NAMES[i] ?? `P${i}-USD`)
      : [...opts.products];
  const interval = opts.intervalMs ?? 10;
  const disorder = opts.outOfOrderMs ?? 0;
  const malformed = opts.malformedRate ?? 0;
  const price = products.map((p) => BASE_PRICE[p] ?? 100);
  const lastTime = products.map(() => Number.NEGATIVE_INFINITY);
  const firstTime = products.map(() => 0);
  const silentUntil = products.map(() => 0);
  let clock = opts.startMs ?? Date.UTC(2023, 5, 9, 12);
  let sequence = 1_000_000;
  for (let line = 0; line < opts.n; ) {
    clock += Math.floor(-Math.log(1 - rnd()) * interval);
    const p = Math.floor(rnd() * products.length);
    if (opts.gaps) {
      const g = rnd();
      if (g < 1 / 20_000) silentUntil[p] = clock + 90_000 + Math.floor(rnd() * 210_000);
      else if (g < 1 / 20_000 + 1 / 400_000) silentUntil[p] = clock + 7_500_000 + Math.floor(rnd() * 3_600_000);
      if (clock < silentUntil[p]!) continue;
    }
    // Bursts of fills share a timestamp (ties for open/close); otherwise sometimes lag a little behind arrival.
    // A product's first tick is also its earliest, so origin "start" means the same here as in pandas.
    let t = clock;
    if (Number.isFinite(lastTime[p]!)) {
      if (rnd() < 0.05) t = lastTime[p]!;
      else if (disorder > 0 && rnd() < 0.1) t = Math.max(firstTime[p]!, clock - Math.floor(rnd() * (disorder + 1)));
    } else firstTime[p] = t;
    lastTime[p] = t;
    price[p] = Math.max(0.01, price[p]! * (1 + (rnd() - 0.5) * 0.002));
    const msg: Record<string, unknown> = {
      type: "ticker",
      sequence: sequence++,
      product_id: products[p],
      price: price[p]!.toFixed(2),
      open_24h: (price[p]! * 0.98).toFixed(2),
      volume_24h: "12345.67890000",
      low_24h: (price[p]! * 0.95).toFixed(2),
      high_24h: (price[p]! * 1.05).toFixed(2),
      volume_30d: "345678.12345678",
      best_bid: (price[p]! - 0.01).toFixed(2),
      best_ask: (price[p]! + 0.01).toFixed(2),
      side: rnd() < 0.5 ? "buy" : "sell",
      time: isoMicros(t, Math.floor(rnd() * 1000)),
      trade_id: sequence,
      last_size: (rnd() * 2).toFixed(8),
    };
    line++;
    yield malformed > 0 && rnd() < malformed ? spoil(msg, MALFORMED[Math.floor(rnd() * MALFORMED.length)]!) : JSON.stringify(msg);
  }
}

/** One malformed line of the given kind, built from a good message. */
function spoil(msg: Record<string, unknown>, kind: (typeof MALFORMED)[number]): string {
  const m = { ...msg };
  switch (kind) {
    case "bad JSON":
      return JSON.stringify(m).slice(0, 40);
    case "not an object":
      return JSON.stringify([m.product_id, m.price]);
    case "not a ticker":
      m.type = "heartbeat";
      break;
    case "missing field":
      delete m.last_size;
      break;
    case "non-numeric":
      m.price = "n/a";
      break;
    case "non-finite":
      m.last_size = "NaN";
      break;
    case "non-positive":
      m.price = "0";
      break;
    case "negative":
      m.last_size = "-0.5";
      break;
    case "bad time":
      m.time = String(m.time).replace("Z", "");
      break;
    case "empty":
      m.product_id = "";
      break;
  }
  return JSON.stringify(m);
}

/** All generated lines in memory (fine up to a few hundred thousand; use generateTickLines for more). */
export function generateTicks(opts: GenerateOptions): string[] {
  return [...generateTickLines(opts)];
}

/** Write generated ticks to a JSON Lines file, streaming (1,000,000 lines is about 350 MB). */
export async function writeTicksFile(path: string, opts: GenerateOptions): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(path);
  let lines = 0;
  let bytes = 0;
  let buf: string[] = [];
  const drain = async () => {
    const text = `${buf.join("\n")}\n`;
    buf = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, "drain");
  };
  for (const line of generateTickLines(opts)) {
    buf.push(line);
    lines++;
    if (buf.length === 10_000) await drain();
  }
  if (buf.length) await drain();
  out.end();
  await once(out, "finish");
  return { lines, bytes };
}
