/**
 * The Coinbase feed's socket life cycle against local servers (no broker): a stop that does not wait on a peer
 * deaf to the close frame, and which errors end the source and which are retried.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import { describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { InputError } from "../../src/errors/index.js";
import { type FeedOptions, runFeed } from "../../src/source/feed.js";
import type { Frame } from "../../src/source/protocol.js";
import { CoinbaseWsServer } from "../helpers/coinbase-ws.js";

/** A server frame (unmasked text, under 126 bytes). */
const textFrame = (text: string) => Buffer.concat([Buffer.from([0x81, Buffer.byteLength(text)]), Buffer.from(text)]);

/**
 * A websocket peer that completes the handshake and sends a heartbeat every 100 ms, but never answers a close
 * frame (ws's own server always does): what a wedged proxy or a half-dead feed looks like to the client.
 */
async function deafServer() {
  const sockets = new Set<Duplex>();
  const server = createServer();
  server.on("upgrade", (req, socket) => {
    sockets.add(socket);
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const beat = setInterval(() => socket.write(textFrame('{"type":"heartbeat","product_id":"BTC-USD","sequence":1}')), 100);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => clearInterval(beat));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** runFeed with quiet defaults, recording what it reports. */
function feed(endpoint: string, products: string[], more: Partial<FeedOptions> = {}) {
  const ac = new AbortController();
  const frames: Frame[] = [];
  const lines: string[] = [];
  let connections = 0;
  let onOpen: () => void = () => undefined;
  const run = runFeed({
    endpoint,
    products,
    signal: ac.signal,
    backoff: { baseMs: 20, capMs: 40 },
    log: (l) => lines.push(l),
    onFrame: (_b, f) => frames.push(f),
    onConnection: (connected) => {
      if (connected) {
        connections++;
        onOpen();
      }
    },
    ...more,
  });
  run.catch(() => undefined);
  /** Resolves once `n` connections have opened. */
  const opened = (n: number) =>
    new Promise<void>((r) => {
      onOpen = () => connections >= n && r();
      onOpen();
    });
  return { ac, run, frames, lines, opened, connections: () => connections };
}

/** `p`'s outcome, or "pending" if it has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<"pending">((r) => (t = setTimeout(() => r("pending"), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

describe("source feed", () => {
  it("stops within about a second when the peer never answers the close frame", async () => {
    const server = await deafServer();
    try {
      const f = feed(server.url, ["BTC-USD"]);
      await f.opened(1);
      const started = Date.now();
      f.ac.abort();
      assert.equal(await within(f.run.then(() => "stopped"), 3_000), "stopped", "ws's own close timeout is 30 s, beyond docker stop's 10 s");
      assert.ok(Date.now() - started < 2_000, `stopped after ${Date.now() - started} ms`);
    } finally {
      await server.close();
    }
  });

  it("ends with an InputError when the feed refuses the subscription itself (a bad product id)", async () => {
    const server = await CoinbaseWsServer.start({ products: ["BTC-USD"] });
    try {
      const f = feed(server.url, ["BTC-USD", "ETH-XYZ"]);
      const end = await within(f.run.then(() => "resolved", (e: unknown) => e), 3_000);
      assert.ok(end instanceof InputError, `ended with ${String(end)}`);
      assert.match(end.message, /refused the subscription to BTC-USD,ETH-XYZ: Failed to subscribe: ETH-XYZ is not a valid product/);
      assert.equal(server.connections, 1, "no reconnect will fix a bad product id");
    } finally {
      await server.close();
    }
  });

  it("logs any other error before the subscription and reconnects with backoff", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    let accepted = 0;
    wss.on("connection", (ws) => {
      const n = ++accepted;
      ws.on("message", () => {
        // The first connection hits a server hiccup; the next one is answered as a healthy feed answers.
        if (n === 1) ws.send(JSON.stringify({ type: "error", message: "Internal server error" }));
        else ws.send(JSON.stringify({ type: "subscriptions", channels: [{ name: "ticker", product_ids: ["BTC-USD"] }] }));
      });
    });
    try {
      const f = feed(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, ["BTC-USD"]);
      assert.notEqual(await within(f.opened(2), 3_000), "pending", `reconnected (log: ${f.lines.join(" | ")})`);
      while (!f.frames.some((x) => x.kind === "subscriptions")) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await within(f.run.then(() => "running", () => "failed"), 50), "pending", "a transient error does not end the feed");
      assert.ok(f.lines.some((l) => /disconnected \(error: Internal server error\); reconnecting in \d+ ms/.test(l)), f.lines.join("\n"));
      f.ac.abort();
      await f.run;
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
