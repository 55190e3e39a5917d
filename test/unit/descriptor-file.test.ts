import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DescriptorInvalidError,
  editDescriptor,
  loadDescriptor,
  newDescriptor,
  planDescriptorEdit,
  upsertDeployment,
  upsertTopic,
  withDescriptorLock,
  writeDescriptorAtomic,
} from "../../src/descriptor/index.js";
import { CheckFailedError, InputError } from "../../src/errors/index.js";

const fixturePath = (name: string) => fileURLToPath(new URL(`../fixtures/descriptor/${name}`, import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-descriptor-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh copy of a fixture in the temp dir. */
async function copy(name: string, as: string): Promise<string> {
  const file = join(dir, as);
  await writeFile(file, await readFile(fixturePath(name), "utf8"));
  return file;
}

/** Files other than `keep` in the temp dir whose name starts with `base` (temp files, locks). */
async function leftovers(base: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f !== base && f.includes(base));
}

describe("writeDescriptorAtomic", () => {
  it("replaces the file, keeps its mode and leaves no temporary file", async () => {
    const file = await copy("design-form.yaml", "atomic.yaml");
    await chmod(file, 0o640);
    await writeDescriptorAtomic(file, "metadata:\n  version: 2.0\n");
    assert.equal(await readFile(file, "utf8"), "metadata:\n  version: 2.0\n");
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.deepEqual(await leftovers("atomic.yaml"), []);
  });

  it("refuses to write when the file is not what the caller read", async () => {
    const file = await copy("design-form.yaml", "expected.yaml");
    const before = await readFile(file, "utf8");
    await assert.rejects(writeDescriptorAtomic(file, "x: 1\n", { expectedOriginal: "something else" }), CheckFailedError);
    assert.equal(await readFile(file, "utf8"), before);
    await assert.rejects(writeDescriptorAtomic(file, "x: 1\n", { expectedOriginal: null }), /changed on disk/);
    await writeDescriptorAtomic(file, "x: 1\n", { expectedOriginal: before });
    assert.equal(await readFile(file, "utf8"), "x: 1\n");
  });
});

describe("editDescriptor", () => {
  const spec = {
    name: "ohlc-1h",
    application: "ohlc-1h",
    deploymentType: "Service" as const,
    resources: { cpu: 200, memory: 500 },
    variables: [{ name: "input", inputType: "InputTopic" as const, value: "ticks" }],
  };

  it("applies a valid edit and writes it", async () => {
    const file = await copy("commented.yaml", "edit-ok.yaml");
    const res = await editDescriptor(file, (doc) => {
      upsertDeployment(doc, spec);
    });
    assert.equal(res.changed, true);
    const text = await readFile(file, "utf8");
    assert.equal(text, res.after);
    assert.ok(text.startsWith(res.before.slice(0, res.before.indexOf("  # add new deployments above this line"))));
    assert.ok(loadDescriptor(text).value.deployments.some((d) => d.name === "ohlc-1h"));
    assert.deepEqual(await leftovers("edit-ok.yaml"), []);
  });

  it("refuses an edit that would make the file invalid, leaving it byte-identical", async () => {
    const file = await copy("commented.yaml", "edit-bad.yaml");
    const before = await readFile(file, "utf8");
    const mtime = (await stat(file)).mtimeMs;
    await assert.rejects(
      editDescriptor(file, (doc) => {
        upsertDeployment(doc, { ...spec, resources: { cpu: 0, memory: 500, replicas: 0 }, variables: [{ name: "input", inputType: "InputTopic", value: "nowhere" }] });
      }),
      (e: unknown) => {
        assert.ok(e instanceof DescriptorInvalidError);
        assert.equal(e.exitCode, 1);
        assert.deepEqual(
          e.errors.map((x) => x.code),
          ["invalid-resource", "invalid-replicas", "unknown-topic"],
        );
        assert.match(e.message, /edit-bad\.yaml:\d+:\d+ {2}deployment "ohlc-1h": cpu must be a positive whole number/);
        return true;
      },
    );
    assert.equal(await readFile(file, "utf8"), before);
    assert.equal((await stat(file)).mtimeMs, mtime);
    assert.deepEqual(await leftovers("edit-bad.yaml"), []);
  });

  it("does not write when the edit changes nothing", async () => {
    const file = await copy("commented.yaml", "edit-noop.yaml");
    const mtime = (await stat(file)).mtimeMs;
    const res = await editDescriptor(file, (doc) => {
      upsertTopic(doc, { name: "ticks" });
    });
    assert.equal(res.changed, false);
    assert.equal((await stat(file)).mtimeMs, mtime);
  });

  it("starts from the template only when asked to create the file", async () => {
    const file = join(dir, "new-quix.yaml");
    await assert.rejects(editDescriptor(file, () => {}), InputError);
    const res = await editDescriptor(file, (doc) => void upsertTopic(doc, { name: "ticks" }), { create: true });
    assert.equal(res.changed, true);
    assert.ok((await readFile(file, "utf8")).startsWith(newDescriptor().slice(0, newDescriptor().indexOf("topics:"))));
  });

  it("will not edit a file that is not YAML", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(file, "metadata:\n\tversion: 1\n");
    await assert.rejects(editDescriptor(file, () => {}), (e: unknown) => e instanceof InputError && e.oneLine().startsWith(`${file}:2:1: not valid YAML`));
  });

  it("plans an edit without touching disk", () => {
    const plan = planDescriptorEdit(newDescriptor(), "quix.yaml", (doc) => void upsertTopic(doc, { name: "ticks" }));
    assert.notEqual(plan.after, plan.before);
    assert.deepEqual(plan.descriptor.topics.map((t) => t.name), ["ticks"]);
  });
});

describe("withDescriptorLock", () => {
  it("runs critical sections one at a time", async () => {
    const file = join(dir, "serial.yaml");
    const events: string[] = [];
    const section = (name: string) =>
      withDescriptorLock(file, async () => {
        events.push(`${name}+`);
        // Yield to the event loop several times so an unserialised peer would interleave here.
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        events.push(`${name}-`);
      });
    await Promise.all([section("a"), section("b"), section("c")]);
    for (let i = 0; i < events.length; i += 2) assert.equal(events[i]!.slice(0, -1), events[i + 1]!.slice(0, -1), events.join(" "));
    assert.deepEqual(await leftovers("serial.yaml"), []);
  });

  it("breaks a lock left by a process that has died", async () => {
    const file = join(dir, "stale.yaml");
    const child = spawn(process.execPath, ["-e", ""]);
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    await writeFile(`${file}.lock`, JSON.stringify({ pid: child.pid, host: (await import("node:os")).hostname(), token: "dead", at: 0 }));
    assert.equal(await withDescriptorLock(file, () => "ran", { timeoutMs: 5_000 }), "ran");
    assert.deepEqual(await leftovers("stale.yaml"), []);
  });

  it("waits for a live holder and gives up with a remedy after the timeout", async () => {
    const file = join(dir, "held.yaml");
    const lock = JSON.stringify({ pid: process.pid, host: (await import("node:os")).hostname(), token: "someone-else", at: Date.now() });
    await writeFile(`${file}.lock`, lock);
    await assert.rejects(withDescriptorLock(file, () => "ran", { timeoutMs: 150 }), (e: unknown) => {
      assert.ok(e instanceof CheckFailedError);
      assert.match(e.message, new RegExp(`locked by process ${process.pid}`));
      assert.match(e.remedy ?? "", /delete .*held\.yaml\.lock/);
      return true;
    });
    // Someone else's lock is never removed by a waiter.
    assert.equal(await readFile(`${file}.lock`, "utf8"), lock);
  });
});

describe("two processes editing the same file", () => {
  it("serialise: 2 × 20 interleaved edits leave a valid file containing all of them", async () => {
    const file = await copy("design-form.yaml", "race.yaml");
    const writer = fixturePath("concurrent-writer.ts");
    const start = (prefix: string): ChildProcess =>
      spawn(process.execPath, ["--import", "tsx", writer, file, prefix, "20"], { stdio: ["pipe", "pipe", "inherit"] });
    const children = [start("alpha"), start("beta")];
    const exits = children.map((c) => once(c, "exit"));
    // Start both writers at the same moment, once each has loaded.
    await Promise.all(children.map((c) => once(c.stdout!, "data")));
    for (const c of children) c.stdin!.write("go\n");
    const codes = (await Promise.all(exits)).map(([code]) => code);
    assert.deepEqual(codes, [0, 0]);

    const { value, errors } = loadDescriptor(await readFile(file, "utf8"));
    assert.deepEqual(errors, []);
    const names = new Set(value.deployments.map((d) => d.name));
    for (const p of ["alpha", "beta"]) for (let i = 0; i < 20; i++) assert.ok(names.has(`${p}-${i}`), `${p}-${i} missing`);
    assert.equal(value.deployments.length, 3 + 40);
    assert.equal(value.topics.length, 2 + 40);
    // The original comment survived 40 rewrites.
    assert.ok((await readFile(file, "utf8")).startsWith("# quixlab project: Coinbase ticks in, OHLC candles out.\n"));
    assert.deepEqual(await leftovers("race.yaml"), []);
  });
});
