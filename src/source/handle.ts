/** What a running source gives its caller, and the life cycle both sources share. */
import { isQuixlabError, ServiceError } from "../errors/index.js";
import { brokersOf, type Producer, openProducer } from "../kafka/index.js";
import type { StepMetrics } from "../stream/metrics.js";
import type { SourceConfig } from "./config.js";
import { SourceMeter } from "./metrics.js";
import { ensureOutputTopic, targetOf } from "./topic.js";

export interface SourceHandle {
  /** Resolves once the topic exists, what it holds is read (coinbase) and the producer is connected. */
  readonly ready: Promise<void>;
  /** Settles when the source has stopped: resolves on a clean stop (or a replay's end), rejects on failure. */
  readonly done: Promise<void>;
  /** Close the feed, flush the producer, publish state `stopped`; resolves with `done`. */
  stop(): Promise<void>;
  metrics(): StepMetrics;
}

export interface SourceRunOptions {
  readonly log?: (line: string) => void;
  /** Aborting it stops the source as `stop()` does. */
  readonly signal?: AbortSignal;
  /** coinbase: reconnect a connection silent this long (default 5000 ms). */
  readonly silenceMs?: number;
  /** Metrics interval (default 1000 ms). */
  readonly metricsIntervalMs?: number;
}

/** The parts every source starts with: metrics, the topic's broker name, a connected producer. */
export interface SourceStart {
  readonly meter: SourceMeter;
  readonly topic: string;
  readonly producer: Producer;
}

export function sourceLog(config: SourceConfig, o: SourceRunOptions): (line: string) => void {
  const name = config.stepName ?? `source-${config.type}`;
  const log = o.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  return (line) => log(`[${name}] ${line}`);
}

/**
 * Run `body` as a source: a handle whose `done` settles when it returns, with the metrics started first and
 * published as `stopped` or `failed` last, and the producer disconnected in any case.
 */
export function startSource(
  config: SourceConfig,
  o: SourceRunOptions,
  body: (s: SourceStart, signal: AbortSignal, log: (line: string) => void, ready: () => void) => Promise<void>,
): SourceHandle {
  const log = sourceLog(config, o);
  const meter = new SourceMeter(config, { log, intervalMs: o.metricsIntervalMs });
  const stop = new AbortController();
  if (o.signal) {
    if (o.signal.aborted) stop.abort();
    else o.signal.addEventListener("abort", () => stop.abort(), { once: true });
  }
  let markReady!: () => void;
  let failReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    failReady = rej;
  });
  ready.catch(() => undefined);
  const done = (async () => {
    meter.start();
    let producer: Producer | undefined;
    try {
      const topic = await ensureOutputTopic(config, log);
      producer = await openProducer(targetOf(config), { clientId: `quixlab-source-${config.type}` });
      meter.m.state = "running";
      await body({ meter, topic, producer }, stop.signal, log, markReady);
      markReady();
      await producer.disconnect().catch(() => undefined);
      await meter.stop("stopped");
    } catch (e) {
      failReady(e);
      meter.m.lastError = (e as Error).message;
      await producer?.disconnect().catch(() => undefined);
      await meter.stop("failed");
      if (isQuixlabError(e)) throw e;
      // Kafka's own errors (a broker that never answered, a refused request) become one line with a remedy.
      throw new ServiceError(`the ${config.type} source failed: ${(e as Error).message}`, {
        cause: e,
        retriable: Boolean((e as { retriable?: boolean }).retriable),
        remedy: `check that the broker ${brokersOf(targetOf(config)).join(",")} is running and the topic ${config.topic} can be written; a deployment is restarted by its supervisor`,
        context: { topic: config.topic },
      });
    }
  })();
  done.catch(() => undefined);
  return {
    ready,
    done,
    stop: async () => {
      stop.abort();
      await done.catch(() => undefined);
    },
    metrics: () => meter.snapshot(),
  };
}
