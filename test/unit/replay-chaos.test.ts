import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KILL_DELAY_MS, killSchedule, runChaos } from "../../src/replay/chaos.js";
import { prng } from "../../src/tick/generate.js";

describe("chaos: the kill schedule", () => {
  it("draws one delay per kill, within bounds, the same for the same seed", () => {
    const a = killSchedule(20, 11);
    assert.equal(a.length, 20);
    for (const d of a) assert.ok(d >= KILL_DELAY_MS.min && d < KILL_DELAY_MS.max, `${d} in bounds`);
    assert.deepEqual(killSchedule(20, 11), a);
    assert.notDeepEqual(killSchedule(20, 12), a);
    assert.deepEqual(killSchedule(0, 11), []);
  });

  it("keeps the delays a seed gave before the split (300 ms + up to 2.2 s from tick/generate's prng)", () => {
    const rnd = prng(11);
    assert.deepEqual(killSchedule(5, 11), Array.from({ length: 5 }, () => 300 + rnd() * 2_200));
    assert.equal(killSchedule(3, 5)[2], killSchedule(4, 5)[2], "a longer schedule only appends");
  });
});

describe("chaos: the executor", () => {
  it("waits, kills and restarts the step once per delay, counting as it goes", async () => {
    const events: string[] = [];
    let pid = 100;
    const step = {
      kill: async (signal: string) => {
        events.push(`kill ${signal}`);
      },
      start: () => {
        pid++;
        events.push("start");
      },
      get pid() {
        return pid;
      },
    };
    const logs: string[] = [];
    const kills: number[] = [];
    const result = await runChaos(step, [5, 7], {
      sleep: async (ms) => {
        events.push(`sleep ${ms}`);
      },
      onKill: (k) => kills.push(k),
      log: (l) => logs.push(l),
    });
    assert.deepEqual(result, { kills: 2, restarts: 2 });
    assert.deepEqual(events, ["sleep 5", "kill SIGKILL", "start", "sleep 7", "kill SIGKILL", "start"]);
    assert.deepEqual(kills, [1, 2]);
    assert.deepEqual(logs, ["chaos: kill 1/2, restarted as pid 101", "chaos: kill 2/2, restarted as pid 102"]);
  });

  it("does nothing without kills", async () => {
    const step = { kill: async () => assert.fail("no kill"), start: () => assert.fail("no start"), pid: 1 };
    assert.deepEqual(await runChaos(step, []), { kills: 0, restarts: 0 });
  });
});
