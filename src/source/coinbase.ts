/**
 * The Coinbase source: the Exchange websocket's `ticker` channel into a topic, each message exactly as received
 * (the frame's bytes), keyed by product_id, stamped with its event time, with no duplicate after a reconnect or
 * a restart. Heartbeats, subscription answers and errors are counted, not produced.
 */
import { INGEST_HEADER } from "../stream/control.js";
import type { SourceConfig } from "./config.js";
import { runFeed } from "./feed.js";
import { type SourceHandle, type SourceRunOptions, startSource } from "./handle.js";
import { Sender } from "./sender.js";
import { producedPositions, targetOf } from "./topic.js";

/**
 * Start the Coinbase source of `config` (`type: "coinbase"`).
 * @example const src = runCoinbaseSource(await resolveSourceConfig("coinbase", process.env)); await src.done
 */
export function runCoinbaseSource(config: SourceConfig, o: SourceRunOptions = {}): SourceHandle {
  return startSource(config, o, async ({ meter, topic, producer }, signal, log, ready) => {
    const { m, source } = meter;
    const { dedup, messages } = await producedPositions(targetOf(config), topic, { log, signal });
    if (signal.aborted) return;
    if (messages > 0) log(`${topic} holds ${messages} messages; last trades known for ${dedup.products().join(", ") || "no product"}`);
    let failed: unknown;
    const failure = new AbortController();
    const sender = new Sender(
      producer,
      (n) => (m.emitted += n),
      (e) => {
        failed = e;
        failure.abort();
      },
    );
    ready();
    let everConnected = false;
    await runFeed({
      endpoint: config.endpoint,
      products: config.products,
      signal: AbortSignal.any([signal, failure.signal]),
      silenceMs: o.silenceMs,
      backoff: { capMs: config.maxBackoffMs },
      log,
      onConnection: (connected, why) => {
        source.connected = connected;
        if (connected) {
          if (everConnected) source.reconnects++;
          everConnected = true;
          log(`connected to ${config.endpoint}; subscribing to ${config.products.join(",")}`);
        } else if (why) m.lastError = why;
      },
      onFrame: (bytes, frame, receivedAt) => {
        m.consumed++;
        source.lastMessageAt = receivedAt;
        if (frame.kind !== "ticker") {
          m.rejected++;
          if (frame.kind === "error") {
            m.lastError = frame.message;
            log(`the feed sent an error: ${frame.message}`);
          }
          return;
        }
        if (!dedup.accept(frame.product, frame.position)) {
          source.duplicates++;
          return;
        }
        sender.push({
          topic,
          key: frame.product,
          value: bytes,
          headers: { [INGEST_HEADER]: String(receivedAt) },
          ...(frame.time === undefined ? {} : { timestamp: String(frame.time) }),
        });
      },
    });
    await sender.flush();
    if (failed !== undefined) throw failed;
  });
}
