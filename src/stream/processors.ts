import type { GroupBatch } from "../kafka/index.js";
import type { EngineSnapshot } from "../window/engine.js";
import type { ProcessingWorker } from "./offload.js";
import { packBatch, runBatch } from "./packed.js";
import { PartitionProcessor, type Pending } from "./partition.js";
import { unpackRecords } from "./records.js";
import type { BatchProcessor, StepContext } from "./state.js";

/** In the step's own thread: the batch is processed before `process` returns. */
class LocalProcessor implements BatchProcessor {
  readonly pipelined = false;
  constructor(
    private readonly proc: PartitionProcessor,
    private readonly every: number,
    private readonly intervalMs: number,
  ) {}

  get partition(): number {
    return this.proc.partition;
  }
  get position(): number {
    return this.proc.position;
  }
  set position(p: number) {
    this.proc.position = p;
  }
  openWindows(): number {
    return this.proc.openWindows();
  }

  process(b: GroupBatch): Promise<Pending[]> {
    try {
      return Promise.resolve(runBatch(this.proc, b.raw ? unpackRecords(b.raw) : b.messages, b.lastOffset + 1, this.every, this.intervalMs));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  closeIdle(now: number): Promise<Pending | undefined> {
    return Promise.resolve(this.proc.closeIdle(now) > 0 ? this.proc.take() : undefined);
  }
}

/** In the worker thread: the batch's bytes move there and `process` resolves when the worker answers. */
class RemoteProcessor implements BatchProcessor {
  readonly pipelined = true;
  private open = 0;
  constructor(
    private readonly pool: ProcessingWorker,
    readonly partition: number,
    public position: number,
    private readonly every: number,
    private readonly intervalMs: number,
  ) {}

  openWindows(): number {
    return this.open;
  }

  async process(b: GroupBatch): Promise<Pending[]> {
    const end = b.lastOffset + 1;
    this.position = end;
    const result = b.raw ? this.pool.processRaw(b.raw, this.every, this.intervalMs) : this.pool.process(packBatch(b.partition, b.messages, end), this.every, this.intervalMs);
    const { pendings, openWindows } = await result;
    this.open = openWindows;
    return pendings;
  }

  async closeIdle(now: number): Promise<Pending | undefined> {
    const { pendings, openWindows } = await this.pool.closeIdle(this.partition, now);
    this.open = openWindows;
    return pendings[0];
  }
}

/** Makes each partition's processor, in the worker when the step has one. */
export class Processors {
  constructor(
    private readonly ctx: StepContext,
    private readonly pool?: ProcessingWorker,
  ) {}

  /** A processor continuing at `position`, from a checkpoint's engine when given. */
  async open(partition: number, position: number, snapshot?: EngineSnapshot): Promise<BatchProcessor> {
    const { o, layout } = this.ctx;
    const { inputPartitions, outputPartitions } = layout;
    if (this.pool) {
      await this.pool.open({ partition, position, snapshot, topics: { ...o.topics }, inputPartitions, outputPartitions });
      return new RemoteProcessor(this.pool, partition, position, o.checkpointEvery, o.checkpointIntervalMs);
    }
    const proc = new PartitionProcessor({ feature: o.feature, topics: o.topics, partition, inputPartitions, outputPartitions, position, snapshot });
    return new LocalProcessor(proc, o.checkpointEvery, o.checkpointIntervalMs);
  }

  /** The partition is no longer held: the worker forgets its engine. */
  close(partition: number): void {
    void this.pool?.close(partition).catch(() => undefined);
  }
}
