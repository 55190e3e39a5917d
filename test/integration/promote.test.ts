/**
 * `quixlab promote` end to end on a real broker and Redis, on copies of the shipped notebooks in a project folder
 * inside the repository (so the generated code's `import ... from "quixlab"` resolves to this package).
 * Needs the package built (`npm run build`): notebooks and apps import the compiled `quixlab`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTopics } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { loadDescriptor } from "../../src/descriptor/index.js";
import { loadFeatureRef } from "../../src/feature/ref.js";
import { compareWindows } from "../../src/replay/parity.js";
import { testServices, uniqueName } from "../harness/services.js";
import { bin, exec, quixlab, repoRoot as repo } from "../helpers/cli.js";
import { keepsEveryLine } from "../helpers/text.js";
import { dedupe, produceLines, readOutputUntilEof } from "./stream-helpers.js";

const TICKS = "data/coinbase-ticker-2021-04-17.jsonl";

/** Every file of the project except quixlab's state and git's (what promote must leave alone on failure). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = join(e.parentPath, e.name).slice(dir.length + 1);
    if (e.isFile() && !/^(\.quixlab|\.git)(\/|$)/.test(rel)) out[rel] = await readFile(join(dir, rel), "utf8");
  }
  return out;
}

describe("quixlab promote (real Kafka and Redis)", { timeout: 600_000 }, () => {
  let proj: string;
  let brokers: string[];
  let redisUrl: string;
  let original: string;
  const promote = (...args: string[]) => quixlab(["promote", ...args, "--broker", brokers.join(","), "--redis", redisUrl], { cwd: proj });
  const git = (...args: string[]) => exec("git", args, { cwd: proj });

  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    await mkdir(join(repo, "tmp"), { recursive: true });
    proj = await mkdtemp(join(repo, "tmp", "promote-it-"));
    await mkdir(join(proj, "notebooks"));
    await mkdir(join(proj, "data"));
    for (const nb of ["ohlc.ipynb", "custom-feature.ipynb", "indicators.ipynb"]) await copyFile(join(repo, "notebooks", nb), join(proj, "notebooks", nb));
    await copyFile(join(repo, "test", "fixtures", "promote", "stream-differs.ipynb"), join(proj, "notebooks", "stream-differs.ipynb"));
    await copyFile(join(repo, TICKS), join(proj, TICKS));
    original = await readFile(join(repo, "test", "fixtures", "promote", "quix.yaml"), "utf8");
    await writeFile(join(proj, "quix.yaml"), original);
    // A repository of its own, so --commit can be checked without touching the one this test runs in.
    for (const args of [["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "test"], ["add", "."], ["commit", "-qm", "base"]]) {
      const r = await git(...args);
      assert.equal(r.code, 0, r.err);
    }
    assert.equal((await git("rev-parse", "--show-toplevel")).out.trim(), proj);
  });

  after(async () => {
    if (proj) await rm(proj, { recursive: true, force: true });
  });

  it("promotes ohlc1m from ohlc.ipynb after parity, committing exactly its files", async () => {
    // Staged work of the user's that the promote commit must not take along.
    await writeFile(join(proj, "notes.txt"), "mine\n");
    assert.equal((await git("add", "notes.txt")).code, 0);

    const r = await promote("notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "candles-1m", "--ticks", TICKS, "--commit");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^PARITY OK {2}ohlc1m/m);
    assert.match(r.out, /^promoted candles-1m candles-1m-v1 from notebooks\/ohlc\.ipynb#ohlc1m$/m);

    const after = await readFile(join(proj, "quix.yaml"), "utf8");
    const loaded = loadDescriptor(after, "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "candles-1m")!;
    assert.deepEqual([dep.application, dep.version, dep.deploymentType], ["candles-1m", "candles-1m-v1", "Service"]);
    assert.equal((await git("rev-parse", "candles-1m-v1")).out, (await git("rev-parse", "HEAD")).out, "the version is a tag on the promote's commit");
    assert.deepEqual(
      dep.variables.map((v) => [v.name, v.value]),
      [
        ["input", "ticks"],
        ["output", "candles-1m"],
        ["dlq", "ticks.dlq"],
        ["late", "candles-1m.late"],
        ["consumer_group", "candles-1m"],
      ],
    );
    // Every topic the step uses is declared, so Quix creates them; the changelog is compacted.
    const declared = new Map(loaded.value.topics.map((t) => [t.name, t]));
    for (const t of ["ticks", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"]) assert.ok(declared.has(t), `${t} is declared`);
    assert.equal(declared.get("candles-1m.ohlc1m.changelog")!.configuration.cleanupPolicy, "Compact");
    // The fixture's ticks-source deployment has no app folder here; everything promote wrote validates.
    const validate = await quixlab(["descriptor", "validate", "--json"], { cwd: proj });
    const report = JSON.parse(validate.out) as { errors: { code: string; path: string }[] };
    assert.deepEqual(
      report.errors.map((e) => [e.code, e.path]),
      [["missing-app", "deployments[0].application"]],
      validate.out,
    );
    assert.ok(keepsEveryLine(original, after), "every original line, comments included, is still there in order");

    const show = await git("show", "--name-only", "--format=%s", "HEAD");
    const [subject, , ...files] = show.out.trim().split("\n");
    assert.equal(subject, "promote candles-1m candles-1m-v1 from notebooks/ohlc.ipynb#ohlc1m");
    assert.deepEqual(files.sort(), [
      "candles-1m/.dockerignore",
      "candles-1m/Dockerfile",
      "candles-1m/app.yaml",
      "candles-1m/feature.ts",
      "candles-1m/main.ts",
      "candles-1m/package.json",
      "candles-1m/quixlab-0.1.0.tgz",
      "candles-1m/tsconfig.json",
      "quix.yaml",
    ]);
    const appPkg = JSON.parse(await readFile(join(proj, "candles-1m", "package.json"), "utf8"));
    assert.equal(appPkg.dependencies.quixlab, "file:quixlab-0.1.0.tgz", "no registry serves quixlab: the app folder carries it");
    assert.equal((await git("diff", "--cached", "--name-only")).out, "notes.txt\n", "the user's staged file is still staged, not committed");

    const tsc = await exec(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "candles-1m/tsconfig.json"], { cwd: proj });
    assert.equal(tsc.code, 0, `the app type-checks:\n${tsc.out}${tsc.err}`);
  });

  it("promotes a feature over ohlc1m (rsi14): the gate replays both steps of the chain, and the step reads candles-1m's output", async () => {
    const r = await promote("notebooks/indicators.ipynb", "--export", "rsi14", "--name", "rsi-14", "--ticks", TICKS);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^step 1 of 2: ohlc1m \(reads the ticks\)$/m);
    assert.match(r.out, /^step 2 of 2: rsi14 \(reads ohlc1m\)$/m);
    assert.match(r.out, /^every step of the chain has parity$/m);
    assert.match(r.out, /^promoted rsi-14 \S+ from notebooks\/indicators\.ipynb#rsi14$/m);
    const loaded = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8"), "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "rsi-14")!;
    const vars = Object.fromEntries(dep.variables.map((v) => [v.name, v.value]));
    assert.deepEqual([vars.input, vars.output, vars.dlq], ["candles-1m", "rsi-14", "candles-1m.dlq"], "the chain: it reads what candles-1m writes");
    const graph = await quixlab(["descriptor", "graph"], { cwd: proj });
    assert.equal(graph.code, 0, graph.err);
    assert.match(graph.out, /\[candles-1m\] Service\n\s+├─▶ \(candles-1m\)\n[\s│]+└─▶ \[rsi-14\] Service/, "the graph shows the chain");
  });

  it("re-promoting the unchanged feature is a no-op: no replay, no writes", async () => {
    const before = await snapshot(proj);
    const r = await promote("notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "candles-1m", "--ticks", TICKS);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "candles-1m candles-1m-v1 is up to date with notebooks/ohlc.ipynb#ohlc1m: nothing to promote (no replay needed)\n");
    assert.deepEqual(await snapshot(proj), before);
  });

  it("promotes the custom feature with its helper cell; --dry-run first shows the diff and writes nothing", async () => {
    const before = await snapshot(proj);
    const dry = await promote("notebooks/custom-feature.ipynb", "--export", "vwapVol1m", "--name", "vwap-vol-1m", "--ticks", TICKS, "--dry-run");
    assert.equal(dry.code, 0, dry.out + dry.err);
    assert.match(dry.out, /^dry run: parity holds, so promote would make these changes \(nothing was written\):$/m);
    assert.match(dry.out, /^--- a\/quix\.yaml\n\+\+\+ b\/quix\.yaml$/m);
    assert.match(dry.out, /^\+ {2}- name: vwap-vol-1m$/m);
    assert.match(dry.out, /^==> vwap-vol-1m\/feature\.ts \(new file\) <==$/m);
    assert.deepEqual(await snapshot(proj), before);

    const r = await promote("notebooks/custom-feature.ipynb", "--export", "vwapVol1m", "--name", "vwap-vol-1m", "--ticks", TICKS);
    assert.equal(r.code, 0, r.out + r.err);
    const code = await readFile(join(proj, "vwap-vol-1m", "feature.ts"), "utf8");
    assert.match(code, /function logReturns\(/);
    assert.match(code, /^\/\/ Generated by quixlab from notebook notebooks\/custom-feature\.ipynb#vwapVol1m, cells imports, helper, vwap-fn, feature\.$/m);
    const loaded = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8"));
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(
      loaded.value.deployments.map((d) => `${d.name} ${d.version}`),
      ["ticks-source v7", "candles-1m candles-1m-v1", "rsi-14 uncommitted", "vwap-vol-1m uncommitted"],
    );
    const tsc = await exec(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "vwap-vol-1m/tsconfig.json"], { cwd: proj });
    assert.equal(tsc.code, 0, `the app type-checks:\n${tsc.out}${tsc.err}`);
  });

  it("the promoted apps run as streaming steps (quixlab run, and main.ts as the image runs it) and give the batch windows", async () => {
    const kafka = kafkaClient(brokers);
    const lines = (await readFile(join(proj, TICKS), "utf8")).split("\n").filter(Boolean);
    const apps = [
      { dir: "candles-1m", ref: "candles-1m/feature.ts#ohlc1m", command: [bin, "run", "candles-1m/feature.ts#ohlc1m"], cwd: proj },
      { dir: "vwap-vol-1m", ref: "vwap-vol-1m/feature.ts#vwapVol1m", command: ["--import", "tsx", "main.ts"], cwd: join(proj, "vwap-vol-1m") },
    ];
    for (const app of apps) {
      const input = uniqueName(`${app.dir}-in`);
      const output = uniqueName(`${app.dir}-out`);
      await createTopics(brokers, [
        { topic: input, partitions: 2 },
        { topic: output, partitions: 2 },
      ]);
      const env = { input, output, Quix__Broker__Address: brokers.join(","), REDIS_URL: redisUrl, consumer_group: uniqueName(`${app.dir}-group`) };
      const step: ChildProcess = spawn(process.execPath, app.command, { cwd: app.cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
      let log = "";
      step.stderr!.on("data", (d: Buffer) => (log += d.toString()));
      const exited = once(step, "exit");
      try {
        await produceLines(kafka, input, lines, 2);
        const streamed = await Promise.race([
          readOutputUntilEof(kafka, output, 2, 90_000),
          exited.then(([code]) => Promise.reject(new Error(`${app.dir} exited early (${code}):\n${log}`))),
        ]);
        const feature = await loadFeatureRef(app.ref, proj);
        const batch = await feature.batchRecords(join(proj, TICKS));
        assert.ok(batch.records.length > 0);
        const parity = compareWindows(batch.records, dedupe(streamed));
        assert.equal(parity.ok, true, `${app.dir}: ${JSON.stringify({ ...parity, mismatches: parity.mismatches.slice(0, 2) })}`);
        // Both ways of running a promoted app hand the feature to the step's worker thread by reference.
        assert.match(log, /decoding and windowing in a worker thread/, `${app.dir}:\n${log}`);
      } finally {
        step.kill("SIGTERM");
        const [code] = await exited;
        assert.equal(code, 0, `${app.dir} stops cleanly on SIGTERM:\n${log}`);
      }
    }
  });

  it("a changed notebook makes --check fail; promoting again (--commit) tags a new version and --check passes", async () => {
    const nbFile = join(proj, "notebooks", "ohlc.ipynb");
    const text = await readFile(nbFile, "utf8");
    const edited = text.replace('const ohlc1m = defineFeature({ name: \\"ohlc1m\\", window: tumbling(\\"1m\\", { grace: \\"2s\\" })', 'const ohlc1m = defineFeature({ name: \\"ohlc1m\\", window: tumbling(\\"1m\\", { grace: \\"3s\\" })');
    assert.notEqual(edited, text);
    await writeFile(nbFile, edited);

    const stale = await quixlab(["promote", "--check"], { cwd: proj });
    assert.equal(stale.code, 1);
    assert.match(stale.out, /^stale candles-1m \(candles-1m\/ from notebooks\/ohlc\.ipynb#ohlc1m\): feature\.ts differs/m);
    assert.match(stale.out, /^ok {4}vwap-vol-1m/m);

    const before = await snapshot(proj);
    const r = await promote("notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "candles-1m", "--ticks", TICKS, "--commit");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^promoted candles-1m candles-1m-v2 from notebooks\/ohlc\.ipynb#ohlc1m$/m);
    const now = await snapshot(proj);
    const changed = Object.keys(now).filter((f) => now[f] !== before[f]);
    assert.deepEqual(changed.sort(), ["candles-1m/feature.ts", "quix.yaml"]);
    assert.match(now["candles-1m/feature.ts"]!, /grace: "3s"/);
    const dep = loadDescriptor(now["quix.yaml"]!).value.deployments.find((d) => d.name === "candles-1m")!;
    assert.equal(dep.version, "candles-1m-v2");
    const [v1, v2] = [(await git("rev-parse", "candles-1m-v1")).out, (await git("rev-parse", "candles-1m-v2")).out];
    assert.notEqual(v1, v2, "two promotes, two versions, each a commit");
    assert.equal((await git("cat-file", "-t", v2.trim())).out.trim(), "commit");
    assert.ok(keepsEveryLine(original, now["quix.yaml"]!));

    const clean = await quixlab(["promote", "--check"], { cwd: proj });
    assert.equal(clean.code, 0, clean.out);
  });

  it("a feature whose stream behaviour differs: exit 1 after the replay, every file byte-identical", async () => {
    const before = await snapshot(proj);
    const r = await promote("notebooks/stream-differs.ipynb", "--export", "skewed1m", "--name", "skewed-1m", "--ticks", TICKS);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^PARITY FAILED {2}skewed_1m/m);
    assert.match(r.out, /^not promoted: the stream's output differs from the batch result \(the report above says where\), so quix\.yaml and skewed-1m\/ were left as they were$/m);
    assert.deepEqual(await snapshot(proj), before);
  });

  it("a feature over a deployment that now runs another definition of its input is refused before any replay, files kept", async () => {
    // candles-1m runs ohlc1m with grace 3 s now (promoted again above); rsi14 reads quixlab's ohlc1m (grace 2 s).
    const before = await snapshot(proj);
    const r = await promote("notebooks/indicators.ipynb", "--export", "rsi14", "--name", "rsi-14", "--ticks", TICKS);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /'rsi14' reads 'ohlc1m' version \w+, but deployment candles-1m runs 'ohlc1m' version \w+ \(from notebooks\/ohlc\.ipynb#ohlc1m\): another definition/);
    assert.doesNotMatch(r.out + r.err, /PARITY/, "no replay ran");
    assert.deepEqual(await snapshot(proj), before);
  });
});
