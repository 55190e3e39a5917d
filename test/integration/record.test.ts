import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { WebSocketServer, type WebSocket } from "ws";

const root = resolve(import.meta.dirname, "../..");
const recording = readFileSync(join(root, "data/coinbase-ticker-2021-04-17.jsonl"), "utf8").trim().split("\n");

/** A local stand-in for Coinbase: answers a subscribe with `subscriptions`, then serves the recording. */
async function fakeFeed(dropAfter: number) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  let served = 0;
  const subscriptions: unknown[] = [];
  wss.on("connection", (ws: WebSocket) => {
    ws.on("message", (m) => {
      const msg = JSON.parse(m.toString()) as { type: string; product_ids: string[] };
      subscriptions.push(msg);
      ws.send(JSON.stringify({ type: "subscriptions", channels: [{ name: "ticker", product_ids: msg.product_ids }] }));
      ws.send("not json at all");
      // First connection: drop mid-stream to force a reconnect; later ones: serve the rest.
      const until = served === 0 ? dropAfter : recording.length;
      while (served < until) ws.send(recording[served++]!);
      ws.send(JSON.stringify({ type: "heartbeat", sequence: 1 }));
      if (served < recording.length) ws.terminate();
    });
  });
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, wss, subscriptions, served: () => served };
}

describe("quixlab record", () => {
  it("records ticker messages exactly as sent, across a reconnect, and finishes cleanly on SIGINT", async () => {
    const feed = await fakeFeed(40);
    const dir = mkdtempSync(join(tmpdir(), "quixlab-record-"));
    const out = join(dir, "ticks.jsonl");
    const child = spawn(
      process.execPath,
      [join(root, "bin/quixlab.js"), "record", "--products", "ETH-USD,BTC-USD", "--out", out, "--endpoint", feed.url, "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // Wait for the file to hold the whole recording (a real condition, polled), then Ctrl-C.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (existsSync(out) && readFileSync(out, "utf8").split("\n").length > recording.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    feed.wss.close();
    assert.equal(code, 0, stderr);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    assert.deepEqual(lines, recording, "file holds exactly the ticker messages, in order, nothing else");
    const summary = JSON.parse(stdout) as { messages: number; reconnects: number };
    assert.equal(summary.messages, recording.length);
    assert.ok(summary.reconnects >= 1, "the dropped connection was re-established");
    assert.deepEqual((feed.subscriptions[0] as { product_ids: string[] }).product_ids, ["ETH-USD", "BTC-USD"]);
  });

  it("rejects bad product ids with exit 2 and a remedy", async () => {
    const child = spawn(process.execPath, [join(root, "bin/quixlab.js"), "record", "--products", "eth usd", "--out", "/tmp/x.jsonl"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const [code] = await once(child, "exit");
    assert.equal(code, 2);
    assert.match(stderr, /bad --products 'eth usd'.*--products ETH-USD,BTC-USD/);
  });
});
