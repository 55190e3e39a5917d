/**
 * The websocket side of the Coinbase source: connect, subscribe, hand every frame on, and reconnect with capped
 * backoff and jitter when the socket drops, fails to open, or falls silent (heartbeats come every second, so a
 * connection quiet for `silenceMs` is dead even if TCP has not noticed).
 */
import WebSocket from "ws";
import { InputError } from "../errors/index.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { classifyFrame, type Frame, subscribeMessage } from "./protocol.js";
import { sleep } from "../util/sleep.js";

export interface FeedOptions {
  readonly endpoint: string;
  readonly products: readonly string[];
  readonly signal: AbortSignal;
  /** A connection with no frame for this long is closed and reconnected (default 5000 ms). */
  readonly silenceMs?: number;
  readonly backoff?: BackoffOptions;
  /** Each frame: its bytes as received, what it is, and the wall time it arrived. */
  onFrame(bytes: Buffer, frame: Frame, receivedAt: number): void;
  /** The socket opened (true) or closed (false, with why). */
  onConnection(connected: boolean, why?: string): void;
  log(line: string): void;
}

/**
 * How long a closing socket waits for the peer's close frame before it is cut. ws waits 30 s on its own, and a
 * peer that never answers would hold a SIGTERM past docker stop's 10 s grace.
 */
const CLOSE_GRACE_MS = 1_000;


/**
 * Run the feed until `signal` aborts. Rejects only when the feed refuses the subscription itself (an error about
 * the subscription before the first `subscriptions` answer: a bad product id), which no reconnect will fix; any
 * other error before it ends the connection, and the feed reconnects with backoff.
 */
export async function runFeed(o: FeedOptions): Promise<void> {
  let attempt = 0;
  while (!o.signal.aborted) {
    const r = await session(o);
    if (o.signal.aborted) break;
    if (r.refused !== undefined) {
      throw new InputError(`${o.endpoint} refused the subscription to ${o.products.join(",")}: ${r.refused}`, {
        remedy: "check --products (Coinbase product ids such as BTC-USD) and --endpoint",
        context: { field: "products" },
      });
    }
    // A connection that got as far as the subscription was a good one: start the backoff again.
    if (r.subscribed) attempt = 0;
    const wait = backoffDelay(attempt++, o.backoff);
    o.log(`disconnected (${r.why}); reconnecting in ${wait} ms`);
    await sleep(wait, o.signal);
  }
}

interface SessionEnd {
  subscribed: boolean;
  why: string;
  refused?: string;
}

function session(o: FeedOptions): Promise<SessionEnd> {
  return new Promise((resolve) => {
    const silenceMs = o.silenceMs ?? 5_000;
    let subscribed = false;
    let opened = false;
    let why = "closed";
    let refused: string | undefined;
    let silence: NodeJS.Timeout | undefined;
    let cut: NodeJS.Timeout | undefined;
    const ws = new WebSocket(o.endpoint, { handshakeTimeout: 10_000 });
    const close = () => {
      ws.close(1000);
      cut ??= setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    };
    const quiet = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        why = `no message for ${silenceMs} ms`;
        ws.terminate();
      }, silenceMs);
    };
    const abort = () => {
      why = "stopping";
      close();
    };
    o.signal.addEventListener("abort", abort, { once: true });
    ws.on("open", () => {
      opened = true;
      o.onConnection(true);
      ws.send(subscribeMessage(o.products));
      quiet();
    });
    ws.on("message", (data, isBinary) => {
      const receivedAt = Date.now();
      quiet();
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer | Buffer);
      const frame: Frame = isBinary ? { kind: "bad", why: "a binary frame" } : classifyFrame(bytes.toString("utf8"));
      if (frame.kind === "subscriptions") subscribed = true;
      if (frame.kind === "error" && !subscribed) {
        if (frame.subscription) refused = frame.message;
        why = `error: ${frame.message}`;
        close();
      }
      o.onFrame(bytes, frame, receivedAt);
    });
    ws.on("error", (e) => {
      why = e.message;
    });
    ws.on("close", (code) => {
      clearTimeout(silence);
      clearTimeout(cut);
      o.signal.removeEventListener("abort", abort);
      if (opened) o.onConnection(false, why === "closed" ? `closed by the server (${code})` : why);
      resolve({ subscribed, why: why === "closed" ? `closed (${code})` : why, ...(refused === undefined ? {} : { refused }) });
    });
  });
}
