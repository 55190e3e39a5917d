/**
 * A broker restart in the middle of a replay (issue #13): the replay's own local broker is SIGKILLed while the
 * ticks are being produced and started again on the same port and log directory. The step (a child process),
 * the replay's producer and its reader all carry on, and the result is what batch computes: parity holds and
 * every malformed line reached the dead-letter topic exactly once. The broker is this test's own, so the
 * session's shared broker is never touched.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBroker } from "../../src/broker/index.js";
import type { BrokerHandle } from "../../src/broker/types.js";
import { replay } from "../../src/replay/replay.js";
import { writeTicksFile } from "../../src/tick/index.js";
import { testRedisUrl } from "../harness/services.js";
import { repoRoot as root } from "../helpers/cli.js";

const N = 150_000;
const MALFORMED_RATE = 0.01;

describe("replay through a broker restart (its own local broker, SIGKILLed mid-replay)", { timeout: 300_000 }, () => {
  let broker: BrokerHandle;
  let dir: string;
  let ticks: string;
  let malformed = 0;
  const log: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-broker-restart-"));
    ticks = join(dir, "ticks.jsonl");
    await writeTicksFile(ticks, { n: N, products: 3, seed: 13, intervalMs: 10, malformedRate: MALFORMED_RATE });
    broker = await startBroker({ provider: "local", log: (l) => log.push(l) });
    assert.ok(broker.kill && broker.restart, "a local broker can be killed and started again");
  });

  after(async () => {
    await broker?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps parity, loses and repeats nothing, with --chaos 0", async () => {
    let outage: Promise<void> | undefined;
    let killedAt = -1;
    let restartedAt = -1;
    const address = broker.brokers.join(",");
    const report = await replay({
      ref: "src/feature/shipped/ohlc.ts#ohlc1m",
      ticks,
      cwd: root,
      broker: address,
      redis: await testRedisUrl(),
      chaos: 0,
      log: (l) => log.push(l),
      onProgress: (p) => {
        if (outage || p.phase !== "producing" || p.produced < N / 3) return;
        killedAt = p.produced;
        outage = (async () => {
          await broker.kill!("SIGKILL");
          log.push(`test: broker SIGKILLed after ${killedAt} ticks produced`);
          await new Promise((r) => setTimeout(r, 2_000));
          await broker.restart!();
          restartedAt = Date.now();
          log.push("test: broker started again on the same port and log directory");
        })();
      },
    });
    await outage;
    const tail = log.slice(-40).join("\n");
    assert.ok(killedAt > 0 && killedAt < N, `the broker was killed mid-produce (at ${killedAt} of ${N})\n${tail}`);
    assert.ok(restartedAt > 0, "the broker came back");
    assert.equal(broker.brokers.join(","), address, "same address after the restart");
    assert.equal(report.ticks, N);
    assert.equal(report.parity.ok, true, `${JSON.stringify(report.parity)}\n${tail}`);
    assert.equal(report.parity.extra, 0, "nothing the batch pass does not have");
    assert.equal(report.parity.missing, 0, "nothing lost");
    malformed = report.rejected;
    assert.ok(malformed > 0, "the file has malformed lines");
    assert.equal(report.rejectedInStream, malformed, "every malformed line reached the dead-letter topic once");
    assert.equal(report.chaos.kills, 0, "the step itself was never killed");
  });
});
