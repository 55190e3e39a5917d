/**
 * The test session's Docker engine and images: started and built by the same scripts as CI's
 * (.ci/docker-engine.sh, .ci/images/build.sh), once per run, and skipped at once when already there.
 *
 *   const docker = await ensureDocker({ images: true, log }); if (!docker.ok) skip(docker.why)
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { dockerAvailable } from "../../src/infra/docker.js";
import { which } from "../../src/infra/process.js";

const root = resolve(import.meta.dirname, "../..");

/**
 * Whether the engine answers (and the images are built, when asked for), or why not. `engine` says whether an
 * engine answers at all: tests may skip without one (outside CI), but not because an image failed to build.
 */
export type DockerState = { ok: true; engine: true; why?: undefined } | { ok: false; engine: boolean; why: string };

/**
 * Testcontainers as the tests run it: no Ryuk (its image cannot be built here: its Go module is refused by the Go
 * proxy; the providers' stop() removes containers), and mapped ports reached on the loopback. Testcontainers
 * would otherwise use the bridge gateway's private address, since this machine itself has a /.dockerenv.
 */
export const TESTCONTAINERS_ENV = { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1" } as const;

function runScript(script: string, args: string[], log: (line: string) => void): Promise<{ code: number; tail: string }> {
  return new Promise((done) => {
    const child = spawn("bash", [join(root, script), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        log(line);
        tail = `${tail}\n${line}`.slice(-2_000);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) => done({ code: 127, tail: e.message }));
    child.on("exit", (code) => done({ code: code ?? 1, tail: tail.trim() }));
  });
}

/**
 * Start the Docker engine if dockerd is installed and none answers; with `images`, build the images the
 * testcontainers providers run (cached by tag). Resolves with why not, never throws.
 */
export async function ensureDocker({ images = false, log = () => {} }: { images?: boolean; log?: (line: string) => void } = {}): Promise<DockerState> {
  const started = Date.now();
  if (!(await dockerAvailable())) {
    if (!which("dockerd")) return { ok: false, engine: false, why: "no Docker engine answers and dockerd is not installed (apt-get install -y docker.io)" };
    const engine = await runScript(".ci/docker-engine.sh", [], log);
    if (engine.code !== 0 || !(await dockerAvailable())) {
      return { ok: false, engine: false, why: `no Docker engine could be started (.ci/docker-engine.sh exited ${engine.code}: ${engine.tail.split("\n").pop()})` };
    }
  }
  if (images) {
    const built = await runScript(".ci/images/build.sh", [], log);
    if (built.code !== 0) return { ok: false, engine: true, why: `building the test images failed (.ci/images/build.sh exited ${built.code}: ${built.tail.split("\n").pop()})` };
  }
  log(`docker ready in ${Date.now() - started} ms`);
  return { ok: true, engine: true };
}
