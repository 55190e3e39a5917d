/**
 * The newcomer's path, as one test on the real services, from outside this checkout:
 *   1. a fresh clone of this repository, `npm ci`;
 *   2. `npm run demo` on a PATH without redis-server and with no Docker engine: parity, the embedded Redis;
 *   3. `npm pack`;
 *   4. `quixlab init` in a temp folder, `npm install` there (no registry serves quixlab: it is vendored);
 *   5. `notebook check`, then `promote --commit` (a tag names the version);
 *   6. `docker build` of the app folder alone, the container run with parity, `docker stop`;
 *   7. `up --detach --runtime docker` (the app's Dockerfile built and run by up), ticks into the `ticks` topic,
 *      `status --json` shows the windows, `down`.
 * Step 6 skips only when no Docker engine can start here (never under CI=true).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { kafkaClient } from "../../src/kafka/client.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { ensureDocker } from "../harness/docker.js";
import { testServices, uniqueName } from "../harness/services.js";
import { exec, type Run, repoRoot } from "../helpers/cli.js";
import { pathWithout } from "../helpers/path.js";
import { NOTEBOOK_PACKAGES, proveAppRun } from "./app-helpers.js";
import { produceLines, until } from "./stream-helpers.js";

const say = (line: string) => process.stderr.write(`[newcomer] ${line}\n`);
const docker = await ensureDocker({ images: true, log: say });
const dockerSkip = !docker.ok && !docker.engine && process.env.CI !== "true" ? `no Docker engine can start here: ${docker.why}` : false;

const TICKS = "data/coinbase-ticker-2021-04-17.jsonl";
const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.out}\n${r.err}`);

describe("the newcomer path: clone, demo, pack, init, promote, docker build, up", { timeout: 25 * 60_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "quixlab-newcomer-"));
  const clone = join(scratch, "quixlab");
  const project = join(scratch, "my-features");
  const image = uniqueName("newcomer-candles").toLowerCase();
  const timings: Record<string, number> = {};
  let services: { brokers: string[]; redisUrl: string };
  /** The clone's CLI, as `npx quixlab` runs it in the project. */
  const cli = (args: string[], cwd = project, env?: NodeJS.ProcessEnv) => exec(process.execPath, [join(project, "node_modules", ".bin", "quixlab"), ...args], { cwd, env });
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await f();
    } finally {
      timings[name] = Date.now() - started;
      say(`${name}: ${timings[name]} ms`);
    }
  };

  before(async () => {
    services = await testServices();
  });
  after(async () => {
    say(`timings (ms): ${JSON.stringify(timings)}`);
    await exec("docker", ["rmi", "-f", image]).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  it("1-2: a fresh clone installs with npm ci and runs the demo with no redis-server and no Docker", async () => {
    ok(await exec("git", ["clone", "--quiet", repoRoot, clone]), "git clone");
    ok(await timed("npm ci", () => exec("npm", ["ci", "--no-audit", "--no-fund"], { cwd: clone })), "npm ci");
    // A machine with Node, Java and Maven and nothing else: no redis-server on PATH, no engine, no services.
    const env = { PATH: pathWithout(scratch, ["redis-"]), DOCKER_HOST: `unix://${join(scratch, "no-docker.sock")}`, KAFKA_BROKERS: undefined, REDIS_URL: undefined };
    const demo = await timed("npm run demo", () => exec("npm", ["run", "demo"], { cwd: clone, env }));
    ok(demo, "npm run demo");
    assert.match(demo.out, /^PARITY OK {2}ohlc1m/m);
    assert.match(demo.out + demo.err, /redis: embedded provider \(no redis-server on PATH/, "the embedded Redis is named");
    assert.match(demo.out + demo.err, /kafka: local provider/);
  });

  it("3-4: npm pack, then quixlab init and npm install in a new folder, quixlab vendored", async () => {
    const packed = await timed("npm pack", () => exec("npm", ["pack", "--silent"], { cwd: clone }));
    ok(packed, "npm pack");
    const tarball = packed.out.trim().split("\n").pop()!;
    assert.match(tarball, /^quixlab-\d+\.\d+\.\d+\.tgz$/);
    const files = (await exec("tar", ["tzf", join(clone, tarball)])).out.split("\n");
    for (const want of ["package/bin/quixlab.js", "package/dist/src/index.js", "package/dist/src/index.d.ts", "package/dist/src/stream/worker.js", "package/templates/app/Dockerfile"]) {
      assert.ok(files.includes(want), `${want} is packed`);
    }
    assert.ok(!files.some((f) => /^package\/(test|bench)\//.test(f)), "no test or bench files");

    const init = await exec(process.execPath, [join(clone, "bin", "quixlab.js"), "init", project], { cwd: scratch });
    ok(init, "quixlab init");
    assert.match(init.out, /quixlab is vendored as vendor\/quixlab-\d+\.\d+\.\d+\.tgz/);
    // The printed next steps, followed literally.
    const next = init.out.slice(init.out.indexOf("next:")).split("\n").slice(1).map((l) => l.trim()).filter(Boolean);
    assert.equal(next[0], "cd my-features && npm install");
    ok(await timed("npm install (project)", () => exec("npm", ["install", "--no-audit", "--no-fund"], { cwd: project })), "npm install");
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
    assert.match(lock.packages["node_modules/quixlab"].resolved, /^file:vendor\/quixlab-/, "quixlab came from the vendored tarball, not a registry");
    assert.deepEqual(next.slice(1, 3).map((l) => l.split(" ").slice(0, 3).join(" ")), ["npx quixlab notebook", "npx quixlab promote"]);
  });

  it("5: notebook check, then promote --commit (the version is a tag)", async () => {
    const check = await cli(["notebook", "check", "notebooks/candles.ipynb"]);
    ok(check, "notebook check");
    assert.match(check.out, /candles1m/);
    for (const args of [["init", "-q", "-b", "main"], ["config", "user.name", "newcomer"], ["config", "user.email", "n@example.com"], ["add", "-A"], ["commit", "-qm", "new project"]]) {
      ok(await exec("git", args, { cwd: project }), `git ${args[0]}`);
    }
    const promote = await timed("promote", () =>
      cli(["promote", "notebooks/candles.ipynb", "--export", "candles1m", "--name", "candles-1m", "--ticks", TICKS, "--commit", "--broker", services.brokers.join(","), "--redis", services.redisUrl]),
    );
    ok(promote, "promote");
    assert.match(promote.out, /^promoted candles-1m candles-1m-v1 from notebooks\/candles\.ipynb#candles1m$/m);
    const tag = await exec("git", ["rev-parse", "candles-1m-v1"], { cwd: project });
    ok(tag, "git rev-parse candles-1m-v1");
    assert.equal(tag.out, (await exec("git", ["rev-parse", "HEAD"], { cwd: project })).out);
    assert.match(readFileSync(join(project, "quix.yaml"), "utf8"), /version: candles-1m-v1/);
  });

  it("6: docker build of the app folder alone, then the container runs the step with parity and stops cleanly", async (t: TestContext) => {
    if (dockerSkip) return t.skip(dockerSkip);
    assert.ok(docker.ok, docker.why);
    const build = await timed("docker build", () => exec("docker", ["build", "-q", "-t", image, "candles-1m"], { cwd: project }));
    ok(build, "docker build");
    const inspect = JSON.parse((await exec("docker", ["image", "inspect", image])).out)[0] as { Size: number; Config: { User: string } };
    assert.equal(inspect.Config.User, "node");
    const listing = await exec("docker", ["run", "--rm", "--entrypoint", "sh", image, "-c", "id -un && ls /app/node_modules"]);
    ok(listing, "listing the image's node_modules");
    const [user, ...modules] = listing.out.trim().split("\n");
    assert.equal(user, "node");
    assert.ok(modules.includes("quixlab") && modules.includes("kafkajs"), modules.join(", "));
    for (const p of NOTEBOOK_PACKAGES) assert.ok(!modules.includes(p), `the image has no ${p}`);
    say(`image ${image}: ${(inspect.Size / 1e6).toFixed(0)} MB`);

    const batchRun = await cli(["batch", "candles-1m/feature.ts#candles1m", "--ticks", TICKS, "--format", "jsonl"]);
    ok(batchRun, "quixlab batch");
    const batch = batchRun.out.trim().split("\n").map((l) => JSON.parse(l) as WindowRecord);
    const name = uniqueName("newcomer-step");
    const result = await proveAppRun({
      name: "container",
      ...services,
      ticksFile: join(project, TICKS),
      batch,
      async start(vars) {
        // Host networking: the test's broker and Redis listen on this machine's loopback.
        const envArgs = Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
        ok(await exec("docker", ["run", "-d", "--name", name, "--network", "host", ...envArgs, image]), "docker run");
        const logs = spawn("docker", ["logs", "-f", name], { stdio: ["ignore", "pipe", "pipe"] });
        let log = "";
        logs.stdout.on("data", (d: Buffer) => (log += d));
        logs.stderr.on("data", (d: Buffer) => (log += d));
        return {
          log: () => log,
          async stop() {
            await exec("docker", ["stop", "-t", "30", name]);
            const code = Number((await exec("docker", ["inspect", "-f", "{{.State.ExitCode}}", name])).out.trim());
            await until("the container's log to end", () => logs.exitCode !== null, 10_000).catch(() => logs.kill());
            await exec("docker", ["rm", "-f", name]);
            return code;
          },
        };
      },
    });
    timings["container start to ready"] = result.readyMs;
    say(`container: ready ${result.readyMs} ms after docker run; ${result.windows} windows matched`);
  });

  it("7: up --detach (the step built and run in its container where Docker answers), ticks into the ticks topic, status --json shows the windows, down", async () => {
    // test/integration/pipeline.test.ts runs deployments as Node processes; here up builds the app folder's
    // Dockerfile and runs the promoted step in its image, as Quix would.
    const runtime = docker.ok ? "docker" : "process";
    const up = await timed("up --detach", () => cli(["up", "--detach", "--runtime", runtime, "--broker", "local", "--redis", services.redisUrl, "--timeout", "180"]));
    try {
      ok(up, "up --detach");
      const status = JSON.parse((await cli(["status", "--json"])).out) as { running: boolean; brokers: string[]; steps: { name: string; runtime?: string }[] };
      assert.equal(status.running, true);
      assert.equal(status.steps.find((x) => x.name === "candles-1m")?.runtime, runtime);
      const kafka = kafkaClient(status.brokers);
      const admin = kafka.admin();
      await admin.connect();
      const partitions = (await admin.fetchTopicMetadata({ topics: ["ticks"] })).topics[0]!.partitions.length;
      await admin.disconnect();
      const lines = readFileSync(join(project, TICKS), "utf8").split("\n").filter(Boolean);
      await produceLines(kafka, "ticks", lines, partitions);
      const emitted = await until(
        "status --json to show the step's windows",
        async () => {
          const s = JSON.parse((await cli(["status", "--json"])).out) as { steps: { name: string; metrics: { consumed: number; emitted: number } | null }[] };
          const m = s.steps.find((x) => x.name === "candles-1m")?.metrics;
          return m && m.consumed >= lines.length && m.emitted > 0 ? m.emitted : undefined;
        },
        90_000,
      );
      assert.ok(emitted > 0);
    } finally {
      const down = await cli(["down"]);
      ok(down, "down");
    }
    const after = JSON.parse((await cli(["status", "--json"])).out) as { running: boolean };
    assert.equal(after.running, false);
  });
});
