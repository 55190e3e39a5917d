import { startBroker } from "../../src/broker/index.js";
import type { BrokerHandle } from "../../src/broker/types.js";
import { InputError } from "../../src/errors/index.js";
import { QUIX_ENV } from "../../src/kafka/index.js";
import { COINBASE_WS, resolveSourceConfig, runSource, SOURCE_ENV, type SourceType } from "../../src/source/index.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";

const usage = `quixlab source coinbase --products A,B --topic T [--endpoint URL] [--max-backoff D] [--broker auto|local|HOST:PORT] [--redis URL|none] [--json]
       quixlab source replay --ticks FILE --topic T [--speed max|1x|Nx] [--loop] [--eof] [--broker ...] [--redis URL|none] [--json]`;

const envHelp = Object.entries(SOURCE_ENV)
  .map(([name, what]) => `  ${name.padEnd(22)} ${what}`)
  .join("\n");

const command: Command = {
  summary: "run a source step: Coinbase's live ticker, or a recording, into a topic",
  help: `usage: ${usage}

coinbase  subscribes to the Coinbase Exchange websocket (default ${COINBASE_WS}) 'ticker' and
          'heartbeat' channels and produces every ticker message exactly as received (the frame's bytes),
          key = product_id, Kafka timestamp = its 'time', header quixlab-ingest-ms = when it arrived.
          Heartbeats, subscription answers and errors are counted, not produced. It reconnects with backoff
          (250 ms doubling to --max-backoff, default 2 s, with jitter) when the socket drops, fails to
          open, or is silent for 5 s, and resubscribes; Coinbase does not resend what it sent meanwhile, so
          a short cap keeps the gap close to the outage. An error refusing the subscription itself (a bad
          product id) stops the source (exit 2); any other error before the subscription is answered is
          logged and the source reconnects.
          No duplicate after a reconnect or a restart: per product, a message whose trade_id (else sequence)
          is not above the last one produced is dropped; at start the topic is read to its end to learn them.
replay    produces a recording (JSON Lines as in the file; CSV rows as ticker messages), key = product_id,
          Kafka timestamp = the event time, paced by event time: 1x keeps the recording's gaps, Nx plays N
          times faster, max as fast as the broker takes it. --loop plays it again and again; each pass after
          the first has its event times shifted by the recording's span (latest - earliest + 1 ms) and 'time'
          rewritten in the value, so windows keep moving forward; nothing else in a line changes. Without
          --loop it ends after the last line; --eof then sends the end-of-input markers (a live pipeline does
          not end, so by default it sends none).

Both create the topic (1 partition) when it is missing, publish metrics like a step's every second
(consumed = received, emitted = produced and acknowledged, rejected = not produced) to Redis as
quixlab:metrics:<step>:<replica>, and stop cleanly on SIGTERM/SIGINT (socket closed, producer flushed,
state 'stopped', exit 0). 'quixlab add source' makes either one a deployment of quix.yaml.

options:
  --products LIST     coinbase: product ids, comma-separated (e.g. BTC-USD,ETH-USD)
  --endpoint URL      coinbase: the websocket URL
  --max-backoff D     coinbase: the longest wait between reconnect attempts, e.g. 500ms, 5s (default 2s)
  --ticks FILE        replay: the recording
  --speed S           replay: max, 1x (default) or Nx
  --loop              replay: again and again, times shifted per pass
  --eof               replay: end-of-input markers after the last line (not with --loop)
  --topic T           the topic to write (overrides 'output')
  --broker B          HOST:PORT, or auto/local to start one for as long as the source runs (default: the
                      environment's Quix__Broker__Address / KAFKA_BROKERS / Quix Cloud, else auto)
  --redis URL|none    where metrics go (overrides REDIS_URL; default none)
  --json              print the last metrics as one JSON object when the source stops

environment (what a deployment sets; flags win):
${envHelp}

examples:
  quixlab source coinbase --products BTC-USD,ETH-USD --topic ticks --broker 127.0.0.1:9092
  quixlab source replay --ticks data/coinbase-ticker-2021-04-17.jsonl --topic ticks --speed 1x --loop

exit codes: 0 stopped cleanly (or the replay ended), 1 the source failed, 2 bad flags or configuration`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        products: { type: "string" },
        endpoint: { type: "string" },
        "max-backoff": { type: "string" },
        ticks: { type: "string" },
        speed: { type: "string" },
        loop: { type: "boolean" },
        eof: { type: "boolean" },
        topic: { type: "string" },
        broker: { type: "string" },
        redis: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    const type = positionals[0];
    if (type !== "coinbase" && type !== "replay") {
      throw new InputError(type ? `unknown source '${type}'` : "missing the source type", { remedy: "say which: quixlab source coinbase ... or quixlab source replay ..." });
    }
    if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`, { remedy: `usage: ${usage}` });
    const wrong = type === "coinbase" ? (["ticks", "speed", "loop", "eof"] as const) : (["products", "endpoint", "max-backoff"] as const);
    for (const name of wrong) if (values[name] !== undefined) throw new InputError(`--${name} is not an option of the ${type} source`, { remedy: `usage: ${usage}` });
    if (values.loop && values.eof) throw new InputError("--eof with --loop: a looped replay never ends", { remedy: "drop one of them" });
    const log = (line: string) => io.stderr.write(`${new Date().toISOString()} ${line}\n`);

    // A provider name starts a broker for this run; an address (or the environment's) is used as it is.
    const envBroker = io.env.Quix__Broker__Address?.trim() || io.env.KAFKA_BROKERS?.trim() || io.env[QUIX_ENV.sdkToken]?.trim();
    const provider = values.broker === undefined ? (envBroker ? undefined : "auto") : /^(auto|local|testcontainers)$/.test(values.broker) ? values.broker : undefined;
    let broker: BrokerHandle | undefined;
    const ac = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      log(`${sig}: stopping the source`);
      ac.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      if (provider) broker = await startBroker({ provider: provider as "auto", cwd: io.cwd, env: io.env, log });
      const config = await resolveSourceConfig(
        type as SourceType,
        io.env,
        {
          topic: values.topic,
          products: values.products,
          endpoint: values.endpoint,
          maxBackoff: values["max-backoff"],
          ticks: values.ticks,
          speed: values.speed,
          loop: values.loop,
          eof: values.eof,
          broker: broker ? broker.brokers.join(",") : values.broker,
          redis: values.redis,
        },
        { cwd: io.cwd, log },
      );
      const source = runSource(config, { log, signal: ac.signal });
      try {
        await source.done;
      } finally {
        if (values.json) io.stdout.write(`${JSON.stringify(source.metrics())}\n`);
      }
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await broker?.stop().catch(() => undefined);
    }
  },
};

export default command;
