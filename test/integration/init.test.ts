/**
 * `quixlab init` gives a project that works with the two commands of its own README (run as written, with the
 * test session's broker and Redis added to the promote). The project sits inside the repository so its
 * `quixlab` dependency resolves to this package without an install; needs the package built (`npm run build`).
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadDescriptor } from "../../src/descriptor/index.js";
import { testServices } from "../harness/services.js";
import { quixlab, repoRoot as repo } from "../helpers/cli.js";


describe("quixlab init, then the README's two commands", { timeout: 300_000 }, () => {
  let parent: string;
  let proj: string;

  before(async () => {
    await mkdir(join(repo, "tmp"), { recursive: true });
    parent = await mkdtemp(join(repo, "tmp", "init-it-"));
    proj = join(parent, "my-features");
  });
  after(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("creates a project whose README commands check the notebook and promote its feature", async () => {
    const init = await quixlab(["init", "my-features"], { cwd: parent });
    assert.equal(init.code, 0, init.err);

    const readme = await readFile(join(proj, "README.md"), "utf8");
    const commands = (readme.match(/^npx quixlab .*$/gm) ?? []).slice(0, 2);
    assert.equal(commands.length, 2);
    const { brokers, redisUrl } = await testServices();
    const [check, promote] = commands.map((c) => c.replace(/^npx quixlab /, "").split(" "));

    const checked = await quixlab(check!, { cwd: proj });
    assert.equal(checked.code, 0, checked.out + checked.err);
    assert.match(checked.out, /candles1m/);

    const promoted = await quixlab([...promote!, "--broker", brokers.join(","), "--redis", redisUrl], { cwd: proj });
    assert.equal(promoted.code, 0, promoted.out + promoted.err);
    assert.match(promoted.out, /^promoted candles-1m uncommitted from notebooks\/candles\.ipynb#candles1m$/m);
    assert.match(promoted.out, /version: uncommitted names no commit, so it is not deployable yet/);

    const loaded = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8"), "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(
      loaded.value.deployments.map((d) => [d.name, d.application, d.version]),
      [
        ["ticks-replay", "ticks-replay", "uncommitted"],
        ["candles-1m", "candles-1m", "uncommitted"],
      ],
      "the project's replay source, then the promoted step reading what it writes",
    );
    assert.deepEqual(
      loaded.value.topics.map((t) => [t.name, t.configuration.cleanupPolicy ?? "-"]),
      [
        ["ticks", "-"],
        ["candles-1m", "-"],
        ["ticks.dlq", "-"],
        ["candles-1m.late", "-"],
        // the notebook emits early results (emit: "update"), so the step writes the open minute there too
        ["candles-1m.updates", "-"],
        ["candles-1m.candles_1m.changelog", "Compact"],
      ],
      "every topic the step uses is declared, so Quix creates them",
    );
    const validated = await quixlab(["descriptor", "validate", "--json"], { cwd: proj });
    assert.equal(validated.code, 0, validated.out + validated.err);
    const report = JSON.parse(validated.out) as { ok: boolean; files: { file: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.files.map((f) => f.file),
      ["quix.yaml", "ticks-replay/app.yaml", "candles-1m/app.yaml"],
      "the whole project: quix.yaml and each app's app.yaml",
    );
    const synced = await quixlab(["promote", "--check"], { cwd: proj });
    assert.equal(synced.code, 0, synced.out);
  });
});
