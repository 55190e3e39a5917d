import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { type Consumer, type EachBatchPayload, type Kafka, Partitioners, type Producer, type TopicMessages } from "kafkajs";
import { kafkaClient } from "../kafka/client.js";
import { InputError, ServiceError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import type { Log } from "../infra/process.js";
import { onlineRedis, putWindows } from "../store/online.js";
import { CHANGELOG_CONFIG, changelogTopic, checkpointMessage, readCheckpoints } from "./changelog.js";
import { initialMetrics, publishMetrics, Reservoir, type StepMetrics, writeMetricsFile } from "./metrics.js";
import { ProcessingWorker, packBatch } from "./offload.js";
import { PartitionProcessor, type Pending, type StepTopics } from "./partition.js";
import { rawBatchesAvailable, rawBatchOf, withoutRawBatches, withRawBatches } from "../kafka/rawfetch.js";
import type { OutMessage } from "./serde.js";

export type Processing = "at-least-once" | "exactly-once";

export interface StepOptions {
  brokers: string[];
  inputTopic: string;
  outputTopic: string;
  /** Default `quixlab-<feature>`. Replicas of one step share it. */
  consumerGroup?: string;
  /** Redis URL of the online store; null/undefined: no online store. */
  redis?: string | null;
  /** Default at-least-once (outputs idempotent by (feature, key, start)); exactly-once uses Kafka transactions. */
  processing?: Processing;
  /** Default `<input>.dlq`. */
  dlqTopic?: string;
  /** Default `<output>.late`. */
  lateTopic?: string;
  clientId?: string;
  /** Name of this replica in metrics; default `<host>-<pid>`. */
  replicaId?: string;
  /**
   * Where the feature comes from (`/abs/path/module.ts#export`, as `quixlab run` passes it): with it, messages are
   * decoded and windowed in a worker thread that loads the feature from there, while the main thread fetches
   * (offload.ts). Without it the step processes in its own thread.
   */
  featureRef?: string;
  /** Use the worker thread (default: when `featureRef` is given; QUIXLAB_WORKER=0 in quixlab run turns it off). */
  worker?: boolean;
  /** Step name in metrics; default the consumer group. */
  stepName?: string;
  /** Partitions of the input topic when the step has to create it (default 1). */
  inputPartitions?: number;
  /** Checkpoint after this many messages within a batch (default 20,000); always at the end of a batch. */
  checkpointEvery?: number;
  /** ... or after this long within a batch (default 1,000 ms). */
  checkpointIntervalMs?: number;
  /** Consumer group session timeout: how long a dead replica holds its partitions (default 10,000 ms). */
  sessionTimeoutMs?: number;
  /** Partitions processed in parallel (default 4). */
  concurrency?: number;
  /** Windows kept per key in the online store's sorted set (default 10,000). */
  maxWindowsPerKey?: number;
  metricsIntervalMs?: number;
  /** Also write the metrics, as JSON, to this file. */
  metricsFile?: string;
  signal?: AbortSignal;
  onMetrics?(m: StepMetrics): void;
  /** One line per event of interest (assignment, restore, eof, Redis outage, errors). */
  log?: Log;
}

/** A running step. `done` settles when it has stopped (rejects if it failed). */
export interface StepHandle {
  /** Stop fetching, checkpoint and commit what was processed, leave the group, disconnect. */
  stop(): Promise<void>;
  metrics(): StepMetrics;
  /**
   * Resolves once every partition of the step's first assignment is restored from the changelog (at once when it
   * was assigned none), i.e. when processing can start; rejects if the step stops or fails before that.
   */
  ready: Promise<void>;
  done: Promise<void>;
}

/** A partition's processing in the worker thread, as the main thread sees it. */
class RemoteProcessor {
  open = 0;
  constructor(
    readonly partition: number,
    public position: number,
  ) {}
  openWindows(): number {
    return this.open;
  }
}

interface PartState {
  /** Undefined until the first batch when the changelog had no checkpoint: the fetch position is the start. */
  proc?: PartitionProcessor | RemoteProcessor;
  /** The position came from the changelog and was not yet matched against a fetch. */
  restored: boolean;
  seeks: number;
  /** Position of the newest checkpoint Kafka acknowledged: where a restart resumes. */
  committed: number;
  /** Position of the newest checkpoint taken (acknowledged or not). */
  taken: number;
  /** At-least-once: the checkpoint being written while the next messages are processed (one per partition). */
  writing: Promise<void>;
  /** With the worker: the newest batch handed over, until its checkpoints are taken (never rejects)... */
  chain: Promise<void>;
  /** ... and the one before it: a partition has at most two batches in the worker. */
  chainBefore: Promise<void>;
  lastCheckpointAt: number;
  highWatermark?: number;
}

/** The partition's previous checkpoint failed: the batch in hand must be dropped, the state was reset already. */
class EarlierCheckpointFailed extends Error {}

/**
 * Producer settings for both modes. kafkajs wants unlimited retries for idempotence (a retry that gave up could
 * reorder or lose a sequence); the backoff is capped by the client's maxRetryTime and non-retriable errors still fail.
 */
export const IDEMPOTENT = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
} as const;

const FENCED = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

function isFenced(e: unknown): boolean {
  for (let c = e as { type?: string; cause?: unknown } | undefined, i = 0; c && i < 5; c = c.cause as typeof c, i++) {
    if (c.type && FENCED.has(c.type)) return true;
  }
  return false;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

const size = (v: string | Buffer | null | undefined) => (v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length);

/**
 * Split what one checkpoint produces into requests of at most `maxBytes`: kafkajs puts all of a request's messages
 * for one partition into one record batch, which the broker refuses above its max message size (1 MiB default).
 */
export function chunkMessages(messages: readonly OutMessage[], maxBytes = 512 * 1024): OutMessage[][] {
  const out: OutMessage[][] = [];
  let cur: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let n = 64 + size(m.key) + size(m.value);
    for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + (Array.isArray(v) ? v.reduce((s, x) => s + size(x), 0) : size(v));
    if (cur.length && bytes + n > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

function byTopic(messages: readonly OutMessage[]): TopicMessages[] {
  const out = new Map<string, TopicMessages>();
  for (const { topic, ...m } of messages) {
    const t = out.get(topic) ?? { topic, messages: [] };
    out.set(topic, t);
    t.messages.push(m);
  }
  return [...out.values()];
}

function checkOptions(feature: Feature, o: StepOptions): void {
  const need = (v: unknown, name: string, env: string) => {
    if (typeof v !== "string" || v.trim() === "") {
      throw new InputError(`missing ${name}`, { remedy: `pass ${name} (the CLI reads it from ${env})`, context: { field: name } });
    }
  };
  if (!feature || typeof feature.engine !== "function" || typeof feature.version !== "string") {
    throw new InputError("runStep needs a feature (defined with the feature API)", { remedy: "pass the exported feature object" });
  }
  if (!Array.isArray(o.brokers) || o.brokers.length === 0) {
    throw new InputError("missing brokers", { remedy: "pass brokers: ['HOST:PORT'] (the CLI reads Quix__Broker__Address or KAFKA_BROKERS)", context: { field: "brokers" } });
  }
  need(o.inputTopic, "inputTopic", "the 'input' variable");
  need(o.outputTopic, "outputTopic", "the 'output' variable");
  if (o.inputTopic === o.outputTopic) {
    throw new InputError(`input and output are the same topic '${o.inputTopic}'`, { remedy: "write the windows to a topic of their own" });
  }
  if (o.worker && (typeof o.featureRef !== "string" || !o.featureRef.includes("#"))) {
    throw new InputError("the worker thread needs the feature's reference", {
      remedy: "pass featureRef: '/abs/path/module.ts#export' with worker: true",
      context: { field: "featureRef" },
    });
  }
  if (o.processing !== undefined && o.processing !== "at-least-once" && o.processing !== "exactly-once") {
    throw new InputError(`unknown processing guarantee '${o.processing}'`, { remedy: "use 'at-least-once' or 'exactly-once'", context: { field: "processing" } });
  }
}

/**
 * Run `feature` as a streaming step: consume ticks from `inputTopic` in a consumer group, window them with the same
 * engine the batch path uses (one engine per assigned partition), and write final windows to `outputTopic` and the
 * online store; rejects go to the dead-letter topic, late ticks to the late topic. State is checkpointed to a
 * compacted changelog with the consumed offsets (README.md in this folder). Resolves once the consumer has joined.
 * @example const step = await runStep(ohlc1m, { brokers: ["127.0.0.1:9092"], inputTopic: "ticks", outputTopic: "ohlc1m" })
 */
export async function runStep(feature: Feature, opts: StepOptions): Promise<StepHandle> {
  checkOptions(feature, opts);
  const step = new Step(feature, opts);
  await step.start();
  return step.handle();
}

class Step {
  private readonly kafka: Kafka;
  private readonly group: string;
  private readonly eos: boolean;
  private readonly topics: StepTopics;
  private readonly changelog: string;
  private readonly replica: string;
  private readonly log: Log;
  private consumer!: Consumer;
  private producer?: Producer;
  /** At-least-once: changelog records go through a producer of their own, so they do not queue behind outputs. */
  private changelogProducer?: Producer;
  private readonly txProducers = new Map<number, Promise<Producer>>();
  private readonly redis?: Redis;
  private inputPartitions = 1;
  private outputPartitions = 1;
  private changelogPartitions = 1;
  private readonly parts = new Map<number, PartState>();
  private readonly fenced = new Set<number>();
  private assigned: number[] = [];
  private restoring: Promise<void> = Promise.resolve();
  private readonly stopAc = new AbortController();
  private stopping?: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  private readonly done: Promise<void>;
  private readonly ready: Promise<void>;
  private resolveReady?: () => void;
  private rejectReady!: (e: unknown) => void;
  private timer?: NodeJS.Timeout;
  private joins = 0;
  private redisFailing = false;
  private lastDropLog = 0;
  private readonly latency = new Reservoir();
  /** Checkpoints being written in the background (at-least-once); stop and restore wait for them. */
  private readonly writes = new Set<Promise<void>>();
  /** Restores under way, by partition. */
  private readonly restores = new Map<number, { work: Promise<void>; join: number }>();
  private pool?: ProcessingWorker;
  private readonly m: StepMetrics;

  constructor(
    private readonly feature: Feature,
    private readonly o: StepOptions,
  ) {
    this.group = o.consumerGroup ?? `quixlab-${feature.name}`;
    this.eos = o.processing === "exactly-once";
    this.topics = { input: o.inputTopic, output: o.outputTopic, dlq: o.dlqTopic ?? `${o.inputTopic}.dlq`, late: o.lateTopic ?? `${o.outputTopic}.late` };
    this.changelog = changelogTopic(this.group, feature.name);
    this.replica = o.replicaId ?? `${hostname()}-${process.pid}`;
    const log = o.log ?? (() => undefined);
    // Also called by kafkajs' logger, inside the undecoded-batches context: a consumer the caller starts from a
    // log line gets kafkajs' messages.
    this.log = (line) => withoutRawBatches(() => log(`[${this.o.stepName ?? this.group}/${this.replica}] ${line}`));
    // kafkajs also logs each failed protocol response (rebalancing heartbeats, a transaction still being aborted);
    // the operation around it retries and reports real failures itself, so those lines are noise here.
    const kafkaLog = (line: string) => {
      if (!/^kafkajs error: Response \w+\(key: \d+, version: \d+\) \(Connection\)$/.test(line)) this.log(line);
    };
    this.kafka = kafkaClient(o.brokers, { clientId: o.clientId ?? `quixlab-${feature.name}-${this.replica}`, log: kafkaLog });
    if (o.redis) this.redis = onlineRedis(o.redis);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // The handle's owner may never await `done` or `ready`; an unobserved failure must not kill the process.
    this.done.catch(() => undefined);
    this.ready.catch(() => undefined);
    const now = Date.now();
    this.m = initialMetrics(
      {
        step: o.stepName ?? this.group,
        replica: this.replica,
        feature: feature.name,
        version: feature.version,
        processing: this.eos ? "exactly-once" : "at-least-once",
        inputTopic: this.topics.input,
        outputTopic: this.topics.output,
        consumerGroup: this.group,
        redis: this.redis ? "down" : "none",
      },
      now,
    );
  }

  handle(): StepHandle {
    return { stop: () => this.stop(), metrics: () => this.snapshot(), ready: this.ready, done: this.done };
  }

  async start(): Promise<void> {
    try {
      if (this.o.featureRef && this.o.worker !== false) {
        this.pool = new ProcessingWorker(this.feature, this.o.featureRef, (e) => void this.fail(e));
      }
      // The worker loads the feature (compiling TypeScript) while the topics are checked.
      await Promise.all([this.prepareTopics(), this.pool?.ready]);
      if (this.pool) {
        const raw = rawBatchesAvailable();
        this.log(`decoding and windowing in a worker thread${raw === true ? ", from the record batches as fetched" : `; kafkajs decodes the records (${raw})`}`);
      }
      if (!this.eos) {
        this.producer = this.kafka.producer({ ...IDEMPOTENT });
        this.changelogProducer = this.kafka.producer({ ...IDEMPOTENT });
        await Promise.all([this.producer.connect(), this.changelogProducer.connect()]);
      }
      const session = this.o.sessionTimeoutMs ?? 10_000;
      this.consumer = this.kafka.consumer({
        groupId: this.group,
        sessionTimeout: session,
        heartbeatInterval: Math.max(100, Math.min(3_000, Math.floor(session / 3))),
        rebalanceTimeout: Math.max(session, 30_000),
        maxWaitTimeInMs: 500,
        maxBytesPerPartition: 8 << 20,
        readUncommitted: false,
      });
      // kafkajs calls these (and eachBatch, and the logger) from inside the undecoded-batches context of run():
      // our code runs outside it, so a consumer it starts (the changelog restore) gets kafkajs' messages.
      this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => withoutRawBatches(() => this.onJoin(e.payload.memberAssignment[this.topics.input] ?? [])));
      this.consumer.on(this.consumer.events.CRASH, (e) => withoutRawBatches(() => {
        this.m.lastError = `kafka consumer: ${message(e.payload.error)}`;
        this.log(`consumer crashed: ${message(e.payload.error)}${e.payload.restart ? "; restarting" : ""}`);
        if (!e.payload.restart) void this.fail(e.payload.error);
      }));
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.topics.input, fromBeginning: true });
      const interval = this.o.metricsIntervalMs ?? 1_000;
      this.timer = setInterval(() => void this.publish(), interval);
      this.timer.unref();
      const consumer = this.consumer;
      const run = () =>
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.o.concurrency ?? 4,
          eachBatch: (p) => withoutRawBatches(() => this.eachBatch(p)),
        });
      // With the worker, the records are decoded there: the fetches this run starts leave plain batches undecoded.
      await (this.pool ? withRawBatches(run) : run());
      this.m.state = "running";
      this.log(
        `running ${this.feature.name} (${this.feature.version}) ${this.topics.input} -> ${this.topics.output}, ${this.m.processing}, group ${this.group}` +
          (this.redis ? ", online store on" : ", no online store"),
      );
      void this.publish();
      // Only now: a disconnect while run() is still joining the group would be undone when the join completes.
      if (this.o.signal?.aborted) void this.stop();
      else this.o.signal?.addEventListener("abort", () => void this.stop(), { once: true });
    } catch (e) {
      await this.consumer?.disconnect().catch(() => undefined);
      await this.cleanup("failed");
      throw e instanceof InputError || e instanceof ServiceError
        ? e
        : new ServiceError(`starting the step failed: ${message(e)}`, { cause: e, retriable: true, remedy: "check that the broker is reachable" });
    }
  }

  /** Create missing topics: outputs, dead letters, late ticks and the changelog get as many partitions as the input. */
  private async prepareTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      if (!existing.has(this.topics.input)) {
        const n = this.o.inputPartitions ?? 1;
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.topics.input, numPartitions: n }] });
        this.log(`created input topic ${this.topics.input} (${n} partitions)`);
      }
      const count = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;
      this.inputPartitions = await count(this.topics.input);
      const n = this.inputPartitions;
      const missing = [
        { topic: this.topics.output, numPartitions: n },
        { topic: this.topics.dlq, numPartitions: n },
        { topic: this.topics.late, numPartitions: n },
        { topic: this.changelog, numPartitions: n, configEntries: Object.entries(CHANGELOG_CONFIG).map(([name, value]) => ({ name, value })) },
      ].filter((t) => !existing.has(t.topic));
      if (missing.length) {
        await admin.createTopics({ waitForLeaders: true, topics: missing });
        this.log(`created ${missing.map((t) => t.topic).join(", ")}`);
      }
      this.outputPartitions = await count(this.topics.output);
      this.changelogPartitions = await count(this.changelog);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private onJoin(assigned: number[]): void {
    this.joins++;
    this.m.rebalances = this.joins - 1;
    const mine = new Set(assigned);
    for (const p of [...this.parts.keys()]) {
      if (!mine.has(p)) this.parts.delete(p);
    }
    for (const p of [...this.txProducers.keys()]) {
      if (!mine.has(p)) this.dropProducer(p);
    }
    for (const p of this.assigned) {
      if (!mine.has(p)) void this.pool?.close(p).catch(() => undefined);
    }
    if (this.fenced.size) {
      const paused = [...this.fenced].filter((p) => mine.has(p));
      if (paused.length) this.consumer.resume([{ topic: this.topics.input, partitions: paused }]);
      this.fenced.clear();
    }
    this.assigned = [...assigned].sort((a, b) => a - b);
    this.log(`assigned partitions [${this.assigned.join(", ")}] of ${this.topics.input}`);
    const fresh = this.assigned.filter((p) => !this.parts.has(p));
    this.checkReady();
    // Restore eagerly, all at once; batches wait for it. A failure is retried lazily by the first batch. Our own
    // checkpoints still being written land first, so the changelog read below sees them.
    this.restoring = this.drain()
      .then(() => this.restore(fresh))
      .catch((e) => {
      this.m.lastError = `restore: ${message(e)}`;
      this.log(`restoring partitions [${fresh.join(", ")}] failed: ${message(e)}; retrying on the next batch`);
    });
  }

  /**
   * Restore partitions from the changelog, each once: a partition already restored (or being restored by another
   * call) keeps that state unless `replace` (its fetch position showed the state is stale). Without this, a second
   * join soon after the first restored again while the first batches were being processed, and a read that came
   * before their checkpoints landed replaced the state with an empty one.
   */
  private async restore(ps: number[], replace = false): Promise<void> {
    const others: Promise<void>[] = [];
    const mine: number[] = [];
    for (const p of ps) {
      // One started before the latest join read a changelog another owner may have written to since.
      const running = this.restores.get(p);
      if (running && running.join === this.joins) others.push(running.work);
      else if (replace || running || !this.parts.has(p)) mine.push(p);
    }
    const join = this.joins;
    const work = this.restoreNow(mine, join);
    for (const p of mine) this.restores.set(p, { work, join });
    try {
      await Promise.all([work, ...others]);
    } finally {
      for (const p of mine) if (this.restores.get(p)?.work === work) this.restores.delete(p);
    }
  }

  /**
   * Fence older producers of these partitions (exactly-once), then load their newest checkpoints, after our own
   * checkpoints in flight have landed. Installs nothing when a join came in between (that join restores again).
   */
  private async restoreNow(ps: number[], join: number): Promise<void> {
    if (ps.length === 0) return;
    await this.drain();
    if (this.eos) {
      // A new producer per restore: if another owner had the partition meanwhile, the old one is fenced anyway.
      for (const p of ps) this.dropProducer(p);
      await Promise.all(ps.map((p) => this.producerFor(p)));
    }
    const found = await readCheckpoints({
      kafka: this.kafka,
      changelog: this.changelog,
      topic: this.topics.input,
      version: this.feature.version,
      partitions: ps,
      changelogPartitions: this.changelogPartitions,
    });
    for (const p of ps) {
      const r = found.get(p);
      const st: PartState = { restored: true, seeks: 0, committed: -1, taken: -1, writing: Promise.resolve(), chain: Promise.resolve(), chainBefore: Promise.resolve(), lastCheckpointAt: Date.now() };
      if (r?.otherVersions.length) {
        this.log(`partition ${p}: ignoring checkpoints of other feature versions (${r.otherVersions.join(", ")}); this is ${this.feature.version}`);
      }
      if (r?.checkpoint) {
        try {
          st.proc = await this.processor(p, r.checkpoint.offset, r.checkpoint.engine);
          st.committed = st.taken = r.checkpoint.offset;
          this.log(`partition ${p}: restored checkpoint at offset ${r.checkpoint.offset} (${st.proc.openWindows()} open windows)`);
        } catch (e) {
          this.log(`partition ${p}: checkpoint unusable (${message(e)}); starting from an empty state`);
        }
      } else {
        this.log(`partition ${p}: no checkpoint; starting from an empty state`);
      }
      if (join !== this.joins || !this.assigned.includes(p)) {
        this.log(`partition ${p}: reassigned while it was being restored; the latest assignment restores it`);
        continue;
      }
      this.parts.set(p, st);
      this.m.restores++;
    }
    this.checkReady();
  }

  /** Resolve `ready` the first time every assigned partition has a restored state. */
  private checkReady(): void {
    if (this.resolveReady && this.joins > 0 && this.assigned.every((p) => this.parts.has(p))) {
      this.resolveReady();
      this.resolveReady = undefined;
    }
  }

  private async processor(partition: number, position: number, snapshot?: Pending["snapshot"]): Promise<PartitionProcessor | RemoteProcessor> {
    if (this.pool) {
      const { topics, inputPartitions, outputPartitions } = this;
      await this.pool.open({ partition, position, snapshot, topics, inputPartitions, outputPartitions });
      return new RemoteProcessor(partition, position);
    }
    return new PartitionProcessor({
      feature: this.feature,
      topics: this.topics,
      partition,
      inputPartitions: this.inputPartitions,
      outputPartitions: this.outputPartitions,
      position,
      snapshot,
    });
  }

  private async eachBatch(ctx: EachBatchPayload): Promise<void> {
    const { batch } = ctx;
    const p = batch.partition;
    await this.restoring;
    // With the worker: the batch before the previous one first (a failure has reset the partition and rewound
    // the fetch). Two in the worker absorb the jitter of either side without letting the queue grow.
    const prev = this.parts.get(p);
    if (prev) {
      await prev.chainBefore;
      if (this.parts.get(p) !== prev) return;
    }
    if (this.fenced.has(p)) return;
    // kafkajs keeps the offset it fetched from on the batch but leaves it out of its typings.
    const fetched = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    let st = this.parts.get(p);
    if (!st || (st.proc && !st.restored && st.proc.position !== fetched)) {
      if (st?.proc) this.log(`partition ${p}: fetch at ${fetched} but state at ${st.proc.position}: another replica moved it; restoring`);
      await this.restore([p], Boolean(st));
      const restored = this.parts.get(p);
      // Reassigned meanwhile: the latest assignment's restore takes it from here.
      if (!restored) return;
      st = restored;
    }
    if (!st.proc) {
      st.proc = await this.processor(p, fetched);
      st.committed = st.taken = fetched;
    } else if (st.proc.position !== fetched) {
      // The checkpoint is the truth: the group's offset can trail it after a crash between changelog and commit.
      if (++st.seeks > 3) {
        this.log(`partition ${p}: cannot seek to checkpoint offset ${st.proc.position} (fetch stays at ${fetched}); starting from an empty state there`);
        st.proc = await this.processor(p, fetched);
        st.committed = st.taken = fetched;
      } else {
        this.log(`partition ${p}: seeking from ${fetched} to checkpoint offset ${st.proc.position}`);
        this.consumer.seek({ topic: this.topics.input, partition: p, offset: String(st.proc.position) });
        return;
      }
    }
    st.restored = false;
    st.seeks = 0;
    st.lastCheckpointAt = Date.now();
    const proc = st.proc;
    if (proc instanceof RemoteProcessor) return this.offload(ctx, st, proc);
    try {
      let complete = true;
      const every = this.o.checkpointEvery ?? 20_000;
      const intervalMs = this.o.checkpointIntervalMs ?? 1_000;
      let n = 0;
      for (const m of batch.messages) {
        // Both checks cost a lookup in kafkajs per call; every 256 messages still stops within a millisecond.
        if ((n++ & 255) === 0 && (!ctx.isRunning() || ctx.isStale() || this.stopAc.signal.aborted)) {
          complete = false;
          break;
        }
        proc.process(m);
        if (proc.uncommitted >= every || Date.now() - st.lastCheckpointAt >= intervalMs) {
          await this.checkpoint(st, proc, ctx);
          await ctx.heartbeat();
        }
      }
      // Past trailing transaction markers too, so the next fetch does not return them again.
      if (complete) proc.position = Number(batch.lastOffset()) + 1;
      st.highWatermark = Number(batch.highWatermark);
      await this.checkpoint(st, proc, ctx);
      // Stopping or moving: what was processed is written before the batch ends (and so before the group is left).
      if (!complete || this.stopAc.signal.aborted || !ctx.isRunning()) await st.writing;
    } catch (e) {
      // The engine may hold ticks that were never checkpointed: forget it, the changelog has the truth.
      if (this.parts.get(p) === st) this.parts.delete(p);
      // Reset and rewound when the earlier checkpoint failed (onFailed): nothing more to do here.
      if (e instanceof EarlierCheckpointFailed) return;
      if (this.eos) this.dropProducer(p);
      if (isFenced(e)) {
        this.fenced.add(p);
        ctx.pause();
        this.log(`partition ${p}: fenced by a newer owner; pausing it until the next assignment`);
        return;
      }
      if (!this.stopAc.signal.aborted) {
        this.m.lastError = message(e);
        this.log(`partition ${p}: batch at ${fetched} failed (${message(e)}); it will be retried from the last checkpoint`);
        // kafkajs retries with the fetch position it had, which checkpoints still being written (or that failed)
        // left ahead of the last acknowledged one; a restore that then finds no checkpoint would start there.
        this.rewind(p, st.committed);
      }
      throw e;
    }
  }

  /**
   * Take a checkpoint of the partition: store its windows, then produce its outputs with the changelog record and
   * commit the offset. Exactly-once does it all in one transaction before returning. At-least-once writes it in the
   * background while the next messages are processed (kafkajs fetches only once every batch has returned), one
   * checkpoint in flight per partition, in order; a failure rewinds the partition to its last acknowledged
   * checkpoint (onWriteFailed) and the next call throws EarlierCheckpointFailed.
   */
  private async checkpoint(st: PartState, proc: PartitionProcessor, ctx: EachBatchPayload): Promise<void> {
    const pend = proc.take();
    st.lastCheckpointAt = Date.now();
    if (pend.position === st.taken && pend.messages.length === 0 && pend.counts.consumed === 0) return;
    await this.commitPending(st, proc.partition, pend, ctx);
    // Moves kafkajs' fetch position only (auto-commit is off): the commit follows the write.
    ctx.resolveOffset(String(pend.position - 1));
  }

  /**
   * With the worker: pack the batch, hand it over and return, so kafkajs fetches the next one while the worker
   * processes this one. A batch's checkpoints are taken after the previous batch's (`chain`); the batch after
   * next waits until this one's are taken (`chainBefore`).
   */
  private async offload(ctx: EachBatchPayload, st: PartState, proc: RemoteProcessor): Promise<void> {
    const { batch } = ctx;
    const p = proc.partition;
    if (this.stopAc.signal.aborted || !ctx.isRunning() || ctx.isStale()) return;
    const end = Number(batch.lastOffset()) + 1;
    const every = this.o.checkpointEvery ?? 20_000;
    const intervalMs = this.o.checkpointIntervalMs ?? 1_000;
    const raw = rawBatchOf(p, batch.messages, proc.position, end);
    proc.position = end;
    st.highWatermark = Number(batch.highWatermark);
    ctx.resolveOffset(String(end - 1));
    // Handed over at once; its checkpoints are taken after those of the batch before, in order.
    const result = raw ? this.pool!.processRaw(raw, every, intervalMs) : this.pool!.process(packBatch(p, batch.messages, end), every, intervalMs);
    result.catch(() => undefined);
    const chain = st.chain.then(async () => {
      const { pendings, openWindows } = await result;
      proc.open = openWindows;
      for (const pend of pendings) {
        // Reset meanwhile (a checkpoint failed): these come after the rewind point and are redone.
        if (this.parts.get(p) !== st) return;
        if (pend.position === st.taken && pend.messages.length === 0 && pend.counts.consumed === 0) continue;
        await this.commitPending(st, p, pend, ctx);
      }
    });
    st.chainBefore = st.chain;
    st.chain = chain.catch((e) => {
      if (!(e instanceof EarlierCheckpointFailed)) this.onFailed(st, p, e);
    });
    this.track(st.chain);
    // Stopping or moving: what was handed over is written before the batch ends (and so before the group is left).
    if (this.stopAc.signal.aborted || !ctx.isRunning()) {
      await st.chain;
      await st.writing.catch(() => undefined);
    }
  }

  /** Write a checkpoint: inline in one transaction (exactly-once), else in the background after the previous one. */
  private async commitPending(st: PartState, p: number, pend: Pending, ctx: EachBatchPayload): Promise<void> {
    if (this.eos) {
      await this.writeTransaction(st, p, pend, ctx);
      st.taken = st.committed = pend.position;
      return;
    }
    await st.writing;
    st.taken = pend.position;
    const write = this.write(st, p, pend, ctx).catch((e) => {
      this.onFailed(st, p, e);
      throw new EarlierCheckpointFailed(`partition ${p}: the previous checkpoint failed: ${message(e)}`, { cause: e });
    });
    this.track(write);
    st.writing = write;
  }

  /** Keep a background promise in `writes` until it settles (drain waits for them). */
  private track(p: Promise<void>): void {
    const tracked = p.catch(() => undefined).finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  /**
   * At-least-once: Redis, then the outputs, then (once they are acknowledged) the changelog record, then the offset
   * commit (idempotent producer, acks=all). The changelog record goes alone: in one request with the outputs, a
   * partition that failed (or, with several brokers, a request still being retried) could leave the checkpoint
   * written and an output not, and a restore would skip it.
   */
  private async write(st: PartState, p: number, pend: Pending, ctx: EachBatchPayload): Promise<void> {
    if (this.redis) await this.storeWindows(pend, ctx);
    for (const topicMessages of chunkMessages(pend.messages).map(byTopic)) await this.producer!.sendBatch({ topicMessages, acks: -1 });
    await this.changelogProducer!.sendBatch({ topicMessages: byTopic([this.checkpointRecord(p, pend)]), acks: -1 });
    // The outputs are readable from here on: count them before the commit so the metrics do not trail them.
    this.account(p, pend);
    st.committed = pend.position;
    // The changelog is the truth on restore; the group's offset only says how far the step got, for lag tools.
    // A commit refused in a rebalance is followed by a later one (or by the new owner's).
    await ctx.commitOffsetsIfNecessary(this.offsets(p, pend.position)).catch((e) => {
      if (!this.stopAc.signal.aborted) this.log(`partition ${p}: offset commit at ${pend.position} refused (${message(e)}); the changelog has the checkpoint`);
    });
  }

  private async writeTransaction(st: PartState, p: number, pend: Pending, ctx: EachBatchPayload): Promise<void> {
    if (this.redis) await this.storeWindows(pend, ctx);
    // The producer the restore made (and fenced older owners with). Never a new one here: a checkpoint that
    // outlived its partition (revoked meanwhile) would fence the new owner.
    const pr = this.parts.get(p) === st ? this.txProducers.get(p) : undefined;
    if (!pr) throw new ServiceError(`partition ${p} was reassigned before its checkpoint was written; the new owner redoes it`, { retriable: true });
    const producer = await pr;
    const tx = await producer.transaction();
    try {
      for (const topicMessages of this.requests(p, pend)) await tx.sendBatch({ topicMessages, acks: -1 });
      await tx.sendOffsets({ consumerGroupId: this.group, ...this.offsets(p, pend.position) });
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => undefined);
      throw e;
    }
    this.account(p, pend);
  }

  /**
   * A background checkpoint or offloaded batch failed: drop the partition's state and fetch again from its last
   * acknowledged checkpoint (or pause it, when a newer owner fenced this one).
   */
  private onFailed(st: PartState, p: number, e: unknown): void {
    // A state replaced meanwhile (revoked, restored again) is not this one's to reset.
    if (this.parts.get(p) !== st) return;
    this.parts.delete(p);
    if (this.eos) this.dropProducer(p);
    if (this.stopAc.signal.aborted) return;
    if (isFenced(e)) {
      this.fenced.add(p);
      this.consumer.pause([{ topic: this.topics.input, partitions: [p] }]);
      this.log(`partition ${p}: fenced by a newer owner; pausing it until the next assignment`);
      return;
    }
    this.m.lastError = message(e);
    this.log(`partition ${p}: checkpoint failed (${message(e)}); processing again from offset ${st.committed}`);
    this.rewind(p, st.committed);
  }

  /** Fetch the partition from `offset` next (nothing when the position is unknown or the consumer is gone). */
  private rewind(p: number, offset: number): void {
    if (offset < 0) return;
    try {
      this.consumer.seek({ topic: this.topics.input, partition: p, offset: String(offset) });
    } catch (e) {
      this.log(`partition ${p}: cannot rewind to ${offset} (${message(e)}); the next assignment starts from the group's offset`);
    }
  }

  /** Wait until every background checkpoint has settled (those started meanwhile too). */
  private async drain(): Promise<void> {
    while (this.writes.size) await Promise.all([...this.writes]);
  }

  /** The checkpoint's messages (outputs, dead letters, late ticks, changelog record) as produce requests. */
  private requests(p: number, pend: Pending): TopicMessages[][] {
    return chunkMessages([...pend.messages, this.checkpointRecord(p, pend)]).map(byTopic);
  }

  /** The changelog record of a checkpoint: the engine snapshot and the position it belongs to. */
  private checkpointRecord(p: number, pend: Pending): OutMessage {
    return checkpointMessage(this.changelog, this.changelogPartitions, {
      format: 1,
      feature: this.feature.name,
      version: this.feature.version,
      topic: this.topics.input,
      partition: p,
      offset: pend.position,
      engine: pend.snapshot,
      at: Date.now(),
    });
  }

  private offsets(p: number, position: number) {
    return { topics: [{ topic: this.topics.input, partitions: [{ partition: p, offset: String(position) }] }] };
  }

  private account(p: number, pend: Pending): void {
    const c = pend.counts;
    this.m.consumed += c.consumed;
    this.m.emitted += c.emitted;
    this.m.rejected += c.rejected;
    this.m.late += c.late;
    this.m.checkpoints++;
    const now = Date.now();
    for (const t of pend.triggers) this.latency.add(Math.max(0, now - t));
    if (c.eof > 0) {
      if (!this.m.eofPartitions.includes(p)) this.m.eofPartitions = [...this.m.eofPartitions, p].sort((a, b) => a - b);
      this.log(`partition ${p}: end of input at offset ${pend.position - 1}; open windows flushed, ${this.outputPartitions} output partitions marked`);
    }
    // Bad data can be constant; say so at most every 10 s, the totals are in the metrics.
    if ((c.rejected || c.late) && now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.log(`so far ${this.m.rejected} rejected -> ${this.topics.dlq}, ${this.m.late} late -> ${this.topics.late}`);
    }
  }

  /** Write windows to Redis, retrying with backoff until it works: nothing is acknowledged before it is stored. */
  private async storeWindows(pend: Pending, ctx: EachBatchPayload): Promise<void> {
    if (pend.windows.length === 0 || !this.redis) return;
    let wait = 100;
    for (;;) {
      try {
        await putWindows(this.redis, this.feature.name, pend.windows, { maxWindows: this.o.maxWindowsPerKey });
        if (this.redisFailing) {
          this.redisFailing = false;
          this.log("redis: available again; stored the held windows, resuming");
        }
        return;
      } catch (e) {
        this.m.redisErrors++;
        this.m.lastError = `redis: ${message(e)}`;
        if (!this.redisFailing) {
          this.redisFailing = true;
          this.log(`redis: write failed (${message(e)}); holding offsets and retrying`);
        }
        if (this.stopAc.signal.aborted) {
          throw new ServiceError("stopped while Redis was unavailable; the unstored windows were not acknowledged", { retriable: true });
        }
        await sleep(wait, this.stopAc.signal);
        wait = Math.min(wait * 2, 2_000);
        // Keeps the group membership while we hold the batch; throws if a rebalance needs us to give it up.
        await ctx.heartbeat();
      }
    }
  }

  /** The transactional producer of an input partition; creating it fences (and aborts) any older one. */
  private producerFor(p: number): Promise<Producer> {
    let pr = this.txProducers.get(p);
    if (!pr) {
      pr = (async () => {
        const producer = this.kafka.producer({
          ...IDEMPOTENT,
          transactionalId: `${this.group}.${this.feature.name}.${this.topics.input}.${p}`,
        });
        await producer.connect();
        const tx = await producer.transaction();
        await tx.abort();
        return producer;
      })();
      pr.catch(() => this.txProducers.delete(p));
      this.txProducers.set(p, pr);
    }
    return pr;
  }

  private dropProducer(p: number): void {
    const pr = this.txProducers.get(p);
    this.txProducers.delete(p);
    void pr?.then((x) => x.disconnect()).catch(() => undefined);
  }

  private snapshot(): StepMetrics {
    let open = 0;
    let lag = 0;
    const byPartition: Record<string, number> = {};
    for (const [p, st] of this.parts) {
      if (!st.proc) continue;
      open += st.proc.openWindows();
      if (st.highWatermark !== undefined) {
        const l = Math.max(0, st.highWatermark - st.committed);
        byPartition[String(p)] = l;
        lag += l;
      }
    }
    const redisUp = this.redis?.status === "ready" && !this.redisFailing;
    return {
      ...this.m,
      heartbeatAt: Date.now(),
      lag,
      lagByPartition: byPartition,
      windowsOpen: open,
      latencyMs: { p50: this.latency.percentile(0.5), p99: this.latency.percentile(0.99), samples: this.latency.count },
      partitions: [...this.assigned],
      redis: this.redis ? (redisUp ? "up" : "down") : "none",
      redisDown: Boolean(this.redis) && !redisUp,
    };
  }

  private async publish(): Promise<void> {
    const m = this.snapshot();
    try {
      this.o.onMetrics?.(m);
    } catch {
      // An observer's bug must not stop the step.
    }
    if (this.o.metricsFile) {
      try {
        writeMetricsFile(this.o.metricsFile, m);
      } catch (e) {
        this.m.lastError = `metrics file: ${message(e)}`;
      }
    }
    if (this.redis?.status === "ready") {
      const ttl = (3 * (this.o.metricsIntervalMs ?? 1_000)) / 1_000;
      await publishMetrics(this.redis, m, Math.max(5, ttl)).catch(() => undefined);
    }
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        this.m.state = "stopping";
        this.log("stopping: finishing the current batch, checkpointing, leaving the group");
        this.stopAc.abort();
        // A no-op once ready: a settled promise stays settled.
        this.rejectReady(new ServiceError("the step was stopped before its partitions were restored", { retriable: true }));
        try {
          // Running batches end within 256 messages and write what they processed; background checkpoints land
          // (and commit) before the group is left.
          await this.drain();
          await this.consumer?.disconnect();
        } catch (e) {
          this.m.lastError = message(e);
        }
        await this.cleanup("stopped");
        this.log(`stopped (consumed ${this.m.consumed}, emitted ${this.m.emitted}, rejected ${this.m.rejected}, late ${this.m.late})`);
        this.resolveDone();
      })();
    }
    return this.stopping;
  }

  private async fail(e: unknown): Promise<void> {
    if (this.stopping) return;
    this.stopping = (async () => {
      this.stopAc.abort();
      const error = new ServiceError(`the step failed: ${message(e)}`, { cause: e, retriable: true, remedy: "check the broker; restarting the step resumes from its last checkpoint" });
      this.rejectReady(error);
      // The consumer may still be running (a failed worker thread); after a consumer crash this is a no-op.
      await this.consumer?.disconnect().catch(() => undefined);
      await this.cleanup("failed");
      this.rejectDone(error);
    })();
  }

  private async cleanup(state: StepMetrics["state"]): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.drain();
    await this.pool?.terminate().catch(() => undefined);
    this.m.state = state;
    await this.publish();
    await Promise.all([...this.txProducers.keys()].map(async (p) => (await this.txProducers.get(p))?.disconnect().catch(() => undefined)).map((x) => x.catch(() => undefined)));
    this.txProducers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.changelogProducer?.disconnect().catch(() => undefined);
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
