/**
 * The replay source: a recording into a topic, each line as in the file, keyed by product_id, with its event
 * time as the Kafka timestamp, paced by event time at `Nx` (1x keeps the recording's gaps) or as fast as the
 * broker takes it. With `loop` it plays the file again and again; so that windows keep moving forward, every
 * pass after the first has its event times shifted by the recording's span, and only then is `time` rewritten
 * in the value.
 */
import { type OutMessage, openAdmin } from "../kafka/index.js";
import { inputMessages } from "../replay/produce.js";
import { INGEST_HEADER, produceEof } from "../stream/control.js";
import type { SourceConfig } from "./config.js";
import { type SourceHandle, type SourceRunOptions, startSource } from "./handle.js";
import { targetOf } from "./topic.js";
import { recordingSpan, shiftTime } from "./shift.js";
import { sleep } from "../util/sleep.js";


/**
 * Start the replay source of `config` (`type: "replay"`); without `loop` its `done` resolves after the last line
 * (and the end-of-input markers, with `eof`).
 * @example await runReplaySource(await resolveSourceConfig("replay", process.env, { ticks: "data/t.jsonl", topic: "ticks" })).done
 */
export function runReplaySource(config: SourceConfig, o: SourceRunOptions = {}): SourceHandle {
  return startSource(config, o, async ({ meter, topic, producer }, signal, log, ready) => {
    const { m, source } = meter;
    const file = config.ticks!;
    source.connected = true;
    const span = config.loop ? await recordingSpan(file) : 0;
    if (config.loop && span === 0) log(`${file} has fewer than two event times: every pass repeats the same times`);
    ready();
    const products = new Set<string>();
    const wallStart = Date.now();
    let firstEvent: number | undefined;
    let chunk: OutMessage[] = [];
    const flush = async () => {
      if (!chunk.length) return;
      const sentAt = Date.now();
      for (const c of chunk) c.headers = { [INGEST_HEADER]: String(sentAt) };
      const n = chunk.length;
      await producer.send(chunk);
      chunk = [];
      m.emitted += n;
      source.lastMessageAt = sentAt;
    };
    for (let pass = 0; !signal.aborted; pass++) {
      const shift = pass * span;
      for await (const batch of inputMessages(file)) {
        for (const line of batch) {
          if (signal.aborted) break;
          const time = line.time === undefined ? undefined : line.time + shift;
          if (time !== undefined && Number.isFinite(config.speed)) {
            firstEvent ??= time;
            const wait = wallStart + (time - firstEvent) / config.speed - Date.now();
            if (wait > 5) {
              await flush();
              await sleep(wait, signal);
              if (signal.aborted) break;
            }
          }
          m.consumed++;
          if (line.key !== null && !products.has(line.key)) {
            products.add(line.key);
            source.products = [...products].sort();
          }
          const value = shift && time !== undefined ? shiftTime(line.value, shift) : line.value;
          // A line without a key (a bad one) goes to partition 0, as the replay command sends it.
          chunk.push({ topic, key: line.key, ...(line.key === null ? { partition: 0 } : {}), value, ...(time === undefined ? {} : { timestamp: String(time) }) });
          if (chunk.length >= 2_000) await flush();
        }
        if (signal.aborted) break;
      }
      await flush();
      if (!config.loop) break;
      if (!signal.aborted) log(`pass ${pass + 1} done (${m.emitted} messages so far); next pass shifted by ${span} ms`);
    }
    await flush();
    if (config.eof && !signal.aborted) {
      const admin = await openAdmin(targetOf(config));
      const partitions = await admin.partitionCount(topic).finally(() => admin.disconnect().catch(() => undefined));
      await produceEof(producer, topic, Math.max(1, partitions));
      log(`end of input marked on ${partitions} partition(s) of ${topic}`);
    }
    log(`${signal.aborted ? "stopped" : "finished"} after ${m.emitted} messages`);
  });
}
