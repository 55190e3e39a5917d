/**
 * The containers' side of `quixlab up`: build each docker step's image from its app folder before the steps
 * start, and find which prebuilt images the engine has. A failed build does not stop the others: that step is
 * moved to `skipped` with the build's last line as the reason.
 */
import { spawn } from "node:child_process";
import { dockerApi } from "../infra/docker.js";
import type { Log } from "../infra/process.js";
import type { PipelinePlan, StepPlan } from "./types.js";

/** The images among `names` that the engine has (`GET /images/<name>/json`). */
export async function imageExists(names: readonly string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  const have = new Set<string>();
  for (const name of new Set(names)) {
    const r = await dockerApi("GET", `/images/${encodeURIComponent(name)}/json`, { env }).catch(() => undefined);
    if (r?.status === 200) have.add(name);
  }
  return have;
}

/** Build every step's image (one build per tag; the engine's layer cache makes an unchanged folder quick). */
export async function buildImages(plan: PipelinePlan, o: { env: NodeJS.ProcessEnv; log: Log; docker?: string }): Promise<PipelinePlan> {
  const failed = new Map<string, string>();
  const built = new Set<string>();
  for (const step of plan.steps) {
    const b = step.build;
    if (!b || built.has(b.tag) || failed.has(b.tag)) continue;
    const started = Date.now();
    o.log(`building ${step.name}'s image ${b.tag} from ${b.dockerfile}`);
    const result = await dockerBuild(["build", "-t", b.tag, "-f", b.dockerfile, b.context], o.env, o.docker);
    if (result.code === 0) {
      built.add(b.tag);
      o.log(`built ${b.tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } else {
      failed.set(b.tag, result.tail);
      for (const line of result.tail.split("\n").slice(-15)) o.log(`  [build ${step.name}] ${line}`);
    }
  }
  if (failed.size === 0) return plan;
  const steps: StepPlan[] = [];
  const skipped = [...plan.skipped];
  const warnings = [...plan.warnings];
  for (const s of plan.steps) {
    const why = s.build && failed.get(s.build.tag);
    if (why === undefined) {
      steps.push(s);
      continue;
    }
    const last = why.trim().split("\n").filter(Boolean).pop() ?? "no output";
    skipped.push({ name: s.name, reason: `docker build of ${s.build!.context} failed: ${last}` });
    warnings.push(`deployment "${s.name}" is not running: its image did not build (the log above has the build's last lines)`);
  }
  return { ...plan, steps, skipped, warnings };
}

/** `docker build` with the classic builder (Debian's engine has no buildx), keeping the last 64 KB of output. */
function dockerBuild(args: string[], env: NodeJS.ProcessEnv, docker = "docker"): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    let out = "";
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString("utf8")).slice(-65_536);
    };
    const child = spawn(docker, args, { env: { ...env, DOCKER_BUILDKIT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", (e) => resolve({ code: 127, tail: `cannot run ${docker}: ${e.message}` }));
    child.once("close", (code) => resolve({ code: code ?? 1, tail: out }));
  });
}
