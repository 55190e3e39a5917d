import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compareVersions, originOf, quixlabOrigin, tarballName, vendoredVersion } from "../../src/packaging/index.js";
import { lockEntryFor } from "../../src/packaging/origin.js";
import { cleanHead, nextDeploymentTag, plannedTag } from "../../src/promote/git.js";
import { packageInstalled } from "../../src/infra/docker.js";
import { repoRoot } from "../helpers/cli.js";

describe("where the running quixlab came from", () => {
  const base = { root: "/p/node_modules/quixlab", version: "0.1.0" };

  it("a checkout is not an install, and must be vendored", () => {
    assert.equal(originOf({ ...base, installed: false }).kind, "checkout");
    assert.equal(quixlabOrigin(repoRoot).kind, "checkout", "this repository");
  });

  it("reads npm's lockfile entry: a registry address or a bare integrity is a registry, file: or a link a tarball", () => {
    const kind = (entry?: object) => originOf({ ...base, installed: true, entry }).kind;
    assert.equal(kind({ resolved: "https://registry.example/quixlab/-/quixlab-0.1.0.tgz", integrity: "sha512-x" }), "registry");
    assert.equal(kind({ integrity: "sha512-x", version: "0.1.0" }), "registry", "omit-lockfile-registry-resolved leaves resolved out");
    assert.equal(kind({ resolved: "file:vendor/quixlab-0.1.0.tgz", integrity: "sha512-x" }), "tarball");
    assert.equal(kind({ resolved: "../quixlab", link: true }), "tarball");
    assert.equal(kind(undefined), "tarball", "no word on it: vendoring always installs");
  });

  it("finds the entry in the hidden lockfile of the project holding the install", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quixlab-origin-"));
    try {
      await mkdir(join(dir, "node_modules", "quixlab"), { recursive: true });
      const entry = { version: "0.1.0", resolved: "file:vendor/quixlab-0.1.0.tgz" };
      await writeFile(join(dir, "node_modules", ".package-lock.json"), JSON.stringify({ packages: { "node_modules/quixlab": entry } }));
      assert.deepEqual(lockEntryFor(join(dir, "node_modules", "quixlab")), entry);
      assert.equal(lockEntryFor(dir), undefined, "not under node_modules");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names and compares tarball versions", () => {
    assert.equal(tarballName("1.2.3"), "quixlab-1.2.3.tgz");
    assert.equal(vendoredVersion("file:vendor/quixlab-1.2.3.tgz"), "1.2.3");
    assert.equal(vendoredVersion("file:quixlab-1.2.3-rc.1.tgz"), "1.2.3-rc.1");
    assert.equal(vendoredVersion("^1.2.3"), undefined);
    assert.ok(compareVersions("0.1.0", "0.2.0") < 0);
    assert.ok(compareVersions("0.10.0", "0.9.9") > 0);
    assert.ok(compareVersions("1.0.0-rc.1", "1.0.0") < 0);
    assert.equal(compareVersions("1.0.0", "1.0.0"), 0);
  });
});

describe("optional packages a provider needs", () => {
  it("auto only chooses Testcontainers when its package resolves (a step installs quixlab without it)", () => {
    assert.equal(packageInstalled("testcontainers"), true, "a checkout has it");
    assert.equal(packageInstalled("@testcontainers/kafka"), true);
    assert.equal(packageInstalled("quixlab-no-such-package"), false);
  });
});

describe("deployment versions that name something", () => {
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

  it("tags count up per deployment, past every existing tag", () => {
    assert.equal(nextDeploymentTag("candles-1m", []), "candles-1m-v1");
    assert.equal(nextDeploymentTag("candles-1m", ["candles-1m-v1", "candles-1m-v7", "candles-1m-vx", "candles-1h-v9"]), "candles-1m-v8");
    assert.equal(nextDeploymentTag("candles-1m", ["candles-1m-v2"], 5), "candles-1m-v6");
  });

  it("a clean tree gives HEAD's SHA, a dirty one or no repository gives none; --commit needs a repository", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quixlab-git-"));
    try {
      assert.equal(await cleanHead(dir), undefined, "no repository");
      await assert.rejects(plannedTag(dir, "candles-1m"), /--commit needs a git repository/);
      git(dir, "init", "-q");
      assert.equal(await cleanHead(dir), undefined, "no commit yet");
      await writeFile(join(dir, "a.txt"), "a\n");
      git(dir, "add", "a.txt");
      git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "a");
      assert.equal(await cleanHead(dir), git(dir, "rev-parse", "HEAD"));
      assert.equal(await cleanHead(dir, join(dir, "a.txt")), git(dir, "rev-parse", "HEAD"), "a.txt is in HEAD");
      await writeFile(join(dir, ".gitignore"), "ignored/\n");
      git(dir, "add", ".gitignore");
      git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "ignore");
      await mkdir(join(dir, "ignored"));
      await writeFile(join(dir, "ignored", "quix.yaml"), "x\n");
      assert.equal(await cleanHead(dir, join(dir, "ignored", "quix.yaml")), undefined, "a clean tree whose HEAD does not hold the project");
      await writeFile(join(dir, "b.txt"), "untracked\n");
      assert.equal(await cleanHead(dir), undefined, "an untracked file is uncommitted work");
      git(dir, "tag", "candles-1m-v3");
      assert.equal(await plannedTag(dir, "candles-1m"), "candles-1m-v4");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
