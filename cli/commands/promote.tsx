/** @jsxRuntime automatic @jsxImportSource react */
import { relative, resolve } from "node:path";
import { render } from "ink";
import { InputError } from "../../src/errors/index.js";
import { checkPromoted, type SyncReport } from "../../src/promote/check.js";
import { unifiedDiff } from "../../src/promote/diff.js";
import { type PromoteChange, type PromotePlan, UNCOMMITTED } from "../../src/promote/plan.js";
import { type PromoteResult, promote } from "../../src/promote/promote.js";
import type { ReplayProgress } from "../../src/replay/replay.js";
import { reportJson, reportText } from "../../src/replay/report.js";
import { parse } from "../args.js";
import { type Command, type CommandIO, colorEnabled, paint } from "../io.js";
import { ReplayView } from "../ui/replay/ReplayView.js";

const usage =
  "quixlab promote <notebook> --export <name> --name <deployment> --ticks <file> [--input topic] [--output topic] [--replicas N] [--cpu m] [--memory MB] [--dry-run] [--commit] [--descriptor quix.yaml] [--apps-dir .] [--broker B] [--redis R] [--speed max|Nx] [--model] [--json] | quixlab promote --check [--descriptor quix.yaml] [--json]";

const command: Command = {
  summary: "turn a notebook's exported feature (or model) into an app folder and a quix.yaml deployment, gated by replay",
  help: `usage:
  quixlab promote <notebook> --export <name> --name <deployment> --ticks <file> [options]
  quixlab promote --check [--descriptor quix.yaml] [--json]

Extracts the exported feature from the notebook (the cell marked '//| export' and every earlier cell it uses),
replays the recorded ticks through a real Kafka broker into that module running as a streaming step, and
compares the stream's windows with the batch result. Only when they are equal does it write the application
folder <apps-dir>/<deployment>/ (app.yaml, main.ts, feature.ts, package.json, Dockerfile, tsconfig.json, and
quixlab-<version>.tgz when no registry serves quixlab: the folder builds alone with 'docker build') and
upsert the deployment in quix.yaml, adding its topics under topics: with default settings. When parity fails it
exits 1 and every file is left exactly as it was.

The deployment's version names what it was promoted from: with --commit, a tag <deployment>-v<N> (N one above
that deployment's tags) on the commit of the written files; without it, the commit SHA when the git tree is
clean, else 'uncommitted', which is not deployable (commit, then promote again). A new version is written when
the app's code changed; an unchanged feature is a no-op (no replay, no writes). feature.ts, main.ts and app.yaml are regenerated each time (edit the notebook, not them);
package.json, Dockerfile, tsconfig.json and .dockerignore are written once and then left to you.

A model (a defineModel constant) is promoted the same way, as the model step: its app folder has model.ts
instead of feature.ts, and its main.ts runs runModelStep. Every feature of its vector must already run as a
deployment in quix.yaml (promote them first): the model reads them from the store their steps fill. Its input
is the trigger feature's deployment output, its output the predictions topic (default the deployment name), and
REDIS_URL names the store (kept when quix.yaml sets it; 'quixlab up' gives its own). The gate is
'replay --model': the features and the model step on the ticks, predictions equal to batchPredictions one for one.

options:
  --export NAME       the exported feature or model (a defineFeature or defineModel constant in a '//| export'
                      cell) (required)
  --model             the export must be a model (it is detected either way)
  --name NAME         the deployment's name, also its app folder's (required)
  --ticks FILE        recorded ticks to prove parity on (required)
  --input TOPIC       input topic (default: the deployment's current value, else 'ticks')
  --output TOPIC      output topic (default: the deployment's current value, else the deployment name)
  --replicas N        replicas (default: current, else 1)
  --cpu M             millicores (default: current, else 200)
  --memory MB         memory in MB (default: current, else 500)
  --dry-run           replay, then print the quix.yaml diff and the files it would write; write nothing
  --commit            git-commit exactly the files written ('promote <name> <name>-vN from <notebook>#<export>')
                      and tag that commit <name>-vN; changes staged for other files stay staged, uncommitted
  --descriptor FILE   the project descriptor (default ./quix.yaml; created when missing); its folder is the
                      project root, which app folders and the notebook path in feature.ts are relative to
  --apps-dir DIR      where app folders go (default .)
  --broker B          for the replay: auto (default), local, testcontainers, HOST:PORT
  --redis R           for the replay: auto (default), none, local, redis://HOST:PORT; a model's replay needs a
                      store holding none of its features' data, so it defaults to a fresh redis-server (local)
  --speed S           for the replay: max (default) or Nx; a model over a recording longer than a feature's
                      retention needs e.g. 100x
  --json              print the result (with the replay report) as one JSON object
  --check             for CI: exit 1 when a promoted app's feature.ts no longer matches what its notebook gives

exit codes: 0 promoted (or nothing to do, or --check clean), 1 parity failed (nothing written) or --check found
stale apps, 2 bad flags or input`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        export: { type: "string" },
        name: { type: "string" },
        ticks: { type: "string" },
        input: { type: "string" },
        output: { type: "string" },
        replicas: { type: "string" },
        cpu: { type: "string" },
        memory: { type: "string" },
        "dry-run": { type: "boolean" },
        commit: { type: "boolean" },
        descriptor: { type: "string" },
        "apps-dir": { type: "string" },
        broker: { type: "string" },
        redis: { type: "string" },
        speed: { type: "string" },
        model: { type: "boolean" },
        json: { type: "boolean" },
        check: { type: "boolean" },
      },
      usage,
    );
    const descriptor = values.descriptor ?? "quix.yaml";
    if (values.check) {
      if (positionals.length) throw new InputError(`--check takes no notebook (got '${positionals[0]}')`, { remedy: "run 'quixlab promote --check [--descriptor quix.yaml]'" });
      return check(resolve(io.cwd, descriptor), Boolean(values.json), io);
    }
    const notebook = positionals[0];
    if (!notebook) throw new InputError("missing the notebook", { remedy: `usage: ${usage}` });
    if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`, { remedy: `usage: ${usage}` });
    for (const flag of ["export", "name", "ticks"] as const) {
      if (!values[flag]) throw new InputError(`missing --${flag}`, { remedy: `usage: ${usage}` });
    }
    if (values["dry-run"] && values.commit) throw new InputError("--dry-run and --commit contradict each other", { remedy: "pass one of them" });
    const int = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new InputError(`bad ${flag} '${v}'`, { remedy: `give a whole number of at least 1, e.g. ${flag} 2`, context: { field: flag } });
      return Number(v);
    };

    const json = Boolean(values.json);
    const tty = Boolean(io.stdout.isTTY) && !json;
    const color = colorEnabled(io.stdout, io.env);
    const say = (s: string) => {
      if (!json) io.stdout.write(`${s}\n`);
    };
    let progress: ReplayProgress = { phase: "starting", ticks: 0, produced: 0, windowsExpected: 0, windowsReceived: 0, producedPerSec: 0, kills: 0 };
    let ink: ReturnType<typeof render> | undefined;
    let lastDraw = 0;
    let result: PromoteResult;
    try {
      result = await promote({
        cwd: io.cwd,
        notebook,
        exportName: values.export!,
        name: values.name!,
        ticks: values.ticks!,
        input: values.input,
        output: values.output,
        replicas: int(values.replicas, "--replicas"),
        cpu: int(values.cpu, "--cpu"),
        memory: int(values.memory, "--memory"),
        descriptor,
        appsDir: values["apps-dir"],
        dryRun: values["dry-run"],
        commit: values.commit,
        broker: values.broker,
        redis: values.redis,
        speed: values.speed,
        model: values.model,
        onPlan: (plan) => {
          if (plan.noop) return;
          say(`promote ${plan.source} as ${plan.deployment} ${plan.version} (${plan.appDir}/): replaying ${values.ticks} to prove parity first`);
          if (tty) ink = render(<ReplayView progress={progress} />, { stdout: io.stdout, stderr: io.stderr, patchConsole: false });
        },
        log: (line) => {
          if (!tty && !json) io.stderr.write(`${line}\n`);
        },
        onProgress: (p) => {
          progress = p;
          const now = Date.now();
          if (ink && (now - lastDraw > 100 || p.phase !== "producing")) {
            lastDraw = now;
            ink.rerender(<ReplayView progress={progress} />);
          }
        },
      });
    } catch (e) {
      ink?.unmount();
      throw e;
    }
    if ("report" in result) {
      const report = result.report;
      if (ink) {
        ink.rerender(<ReplayView progress={progress} report={report} />);
        ink.unmount();
        await ink.waitUntilExit();
      } else if (!json) {
        io.stdout.write(reportText(report, (s) => paint(color, report.parity.ok ? 32 : 31, s)));
      }
    }
    if (json) io.stdout.write(`${JSON.stringify(resultJson(result))}\n`);
    else io.stdout.write(resultText(result, color));
    return result.status === "parity-failed" ? 1 : 0;
  },
};

export default command;

function changeLine(c: PromoteChange): string {
  if (c.kind === "file") return `${c.action} ${c.path}`;
  if (c.kind === "deployment") return `quix.yaml: ${c.action === "inserted" ? "add" : c.action === "updated" ? "update" : "keep"} deployment ${c.name} (${c.version})`;
  return `quix.yaml: ${c.action === "inserted" ? "add" : c.action === "updated" ? "update" : "keep"} topic ${c.name}`;
}

function dryRunText(plan: PromotePlan): string {
  const out: string[] = ["", "dry run: parity holds, so promote would make these changes (nothing was written):"];
  for (const c of plan.changes) if (c.kind === "file" || c.action !== "unchanged") out.push(`  ${changeLine(c)}`);
  const diff = unifiedDiff(plan.descriptorBefore, plan.descriptorAfter, "quix.yaml");
  if (diff) out.push("", diff.trimEnd());
  for (const f of plan.files) {
    out.push("", `==> ${f.path} (${f.action === "create" ? "new file" : "changed"}) <==`);
    // A new file shows whole; a changed one as a diff of what changes.
    if (typeof f.content !== "string" || (f.previous !== null && typeof f.previous !== "string")) {
      out.push(`${f.path}: ${f.content.length} bytes (binary)`);
      continue;
    }
    out.push(f.previous === null ? f.content.trimEnd() : unifiedDiff(f.previous, f.content, f.path).trimEnd());
  }
  return `${out.join("\n")}\n`;
}

function resultText(r: PromoteResult, color: boolean): string {
  const p = r.plan;
  switch (r.status) {
    case "noop":
      return `${p.deployment} ${p.version} is up to date with ${p.source}: nothing to promote (no replay needed)\n`;
    case "parity-failed":
      return `\n${paint(color, 31, "not promoted")}: the stream's output differs from the batch result (the report above says where), so quix.yaml and ${p.appDir}/ were left as they were\n`;
    case "dry-run":
      return dryRunText(p);
    case "promoted": {
      const version = r.applied.outcome?.version ?? p.version;
      const lines = [``, `${paint(color, 32, "promoted")} ${p.deployment} ${version} from ${p.source}`];
      for (const f of r.applied.written) lines.push(`  wrote ${f}`);
      if (r.commit) lines.push(`  committed ${r.commit.slice(0, 12)}${r.tag ? ` and tagged it ${r.tag}` : ""}: promote ${p.deployment} ${version} from ${p.source}`);
      if (version === UNCOMMITTED) {
        lines.push(`  version: ${UNCOMMITTED} names no commit, so it is not deployable yet: commit your work and promote again, or promote with --commit (tags ${p.deployment}-v<N>)`);
      }
      return `${lines.join("\n")}\n`;
    }
  }
}

function resultJson(r: PromoteResult): Record<string, unknown> {
  const p = r.plan;
  return {
    status: r.status,
    deployment: p.deployment,
    version: r.status === "promoted" ? (r.applied.outcome?.version ?? p.version) : p.version,
    source: p.source,
    application: p.appDir,
    changes: p.changes,
    written: r.status === "promoted" ? r.applied.written : [],
    commit: r.status === "promoted" ? (r.commit ?? null) : null,
    tag: r.status === "promoted" ? (r.tag ?? null) : null,
    replay: "report" in r ? reportJson(r.report) : null,
  };
}

async function check(descriptorFile: string, json: boolean, io: CommandIO): Promise<number> {
  const report: SyncReport = await checkPromoted(descriptorFile);
  if (json) {
    io.stdout.write(`${JSON.stringify(report)}\n`);
    return report.ok ? 0 : 1;
  }
  const color = colorEnabled(io.stdout, io.env);
  if (report.apps.length === 0) {
    io.stdout.write(`no promoted apps in ${relative(io.cwd, descriptorFile) || descriptorFile}\n`);
    return 0;
  }
  for (const a of report.apps) {
    const mark = a.status === "ok" ? paint(color, 32, "ok   ") : paint(color, 31, "stale");
    io.stdout.write(`${mark} ${a.deployment} (${a.application}/ from ${a.source})${a.detail ? `: ${a.detail}` : ""}\n`);
  }
  const stale = report.apps.filter((a) => a.status === "stale");
  if (stale.length) {
    io.stdout.write(`\n${stale.length} promoted app(s) no longer match their notebook or this quixlab: promote them again (${stale.map((a) => a.deployment).join(", ")})\n`);
  }
  return report.ok ? 0 : 1;
}
