import { createWriteStream } from "node:fs";
import { once } from "node:events";
import WebSocket from "ws";
import { InputError, ServiceError } from "../errors/index.js";

/** Coinbase Exchange's public websocket feed; overridable for tests and sandboxes. */
export const COINBASE_WS = "wss://ws-feed.exchange.coinbase.com";

export interface RecordOptions {
  products: readonly string[];
  out: string;
  endpoint?: string;
  /** Stop after this long (ms); undefined = until `signal` aborts. */
  durationMs?: number;
  signal?: AbortSignal;
  /** Reconnect attempts in a row before giving up (the counter resets after a message arrives). */
  maxReconnects?: number;
  onProgress?(p: RecordProgress): void;
  /** Backoff base in ms (doubles per failed attempt, capped at 10 s). */
  backoffMs?: number;
}

export interface RecordProgress {
  messages: number;
  bytes: number;
  reconnects: number;
  connected: boolean;
  lastError?: string;
}

/**
 * Record Coinbase `ticker` messages as JSON Lines, exactly as sent. Reconnects with backoff when the socket drops;
 * aborting the signal (Ctrl-C) closes the file cleanly with every complete message written.
 */
export async function recordTicker(opts: RecordOptions): Promise<RecordProgress> {
  if (opts.products.length === 0 || opts.products.some((p) => !/^[A-Z0-9]+-[A-Z0-9]+$/.test(p))) {
    throw new InputError(`bad --products '${opts.products.join(",")}'`, {
      remedy: "pass Coinbase product ids separated by commas, e.g. --products ETH-USD,BTC-USD",
      context: { field: "products" },
    });
  }
  const endpoint = opts.endpoint ?? COINBASE_WS;
  const out = createWriteStream(opts.out, { flags: "w" });
  await once(out, "open");
  const p: RecordProgress = { messages: 0, bytes: 0, reconnects: 0, connected: false };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const timer = opts.durationMs === undefined ? undefined : setTimeout(onAbort, opts.durationMs);
  const maxReconnects = opts.maxReconnects ?? 20;
  let failuresInRow = 0;
  try {
    while (!stop.signal.aborted) {
      const gotAny = await session(endpoint, opts.products, out, p, stop.signal, opts.onProgress);
      if (stop.signal.aborted) break;
      failuresInRow = gotAny ? 0 : failuresInRow + 1;
      if (failuresInRow > maxReconnects) {
        throw new ServiceError(`could not stay connected to ${endpoint} (${p.lastError ?? "closed"})`, {
          retriable: true,
          remedy: "check the network or pass --endpoint; what was recorded so far is kept in the output file",
        });
      }
      p.reconnects++;
      opts.onProgress?.({ ...p });
      const wait = Math.min(10_000, (opts.backoffMs ?? 500) * 2 ** Math.max(0, failuresInRow - 1));
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        stop.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            r();
          },
          { once: true },
        );
      });
    }
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    out.end();
    await once(out, "close");
  }
  return p;
}

/** One connection: subscribe, append ticker messages until the socket closes or we are told to stop. */
function session(
  endpoint: string,
  products: readonly string[],
  out: NodeJS.WritableStream,
  p: RecordProgress,
  signal: AbortSignal,
  onProgress?: (p: RecordProgress) => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    let gotAny = false;
    const ws = new WebSocket(endpoint, { handshakeTimeout: 10_000 });
    const finish = () => {
      signal.removeEventListener("abort", abort);
      p.connected = false;
      resolve(gotAny);
    };
    const abort = () => ws.close(1000);
    signal.addEventListener("abort", abort, { once: true });
    ws.on("open", () => {
      p.connected = true;
      ws.send(JSON.stringify({ type: "subscribe", product_ids: products, channels: ["ticker"] }));
      onProgress?.({ ...p });
    });
    ws.on("message", (data) => {
      const text = data.toString();
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        return; // not JSON: not a message of the feed, nothing to record
      }
      if (type === "error") p.lastError = text.slice(0, 200);
      if (type !== "ticker") return;
      gotAny = true;
      const line = `${text.replace(/\n/g, "")}\n`;
      out.write(line);
      p.messages++;
      p.bytes += Buffer.byteLength(line);
      onProgress?.({ ...p });
    });
    ws.on("error", (e) => {
      p.lastError = e.message;
    });
    ws.on("close", finish);
  });
}
