import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isQuixlabError } from "../src/errors/index.js";
import { packageRoot } from "../src/util/paths.js";
import type { Command, CommandIO } from "./io.js";
import { colorEnabled, paint } from "./io.js";

/** Each command lives in its own module and is imported only when used (keeps `--help` fast). */
const commands: Record<string, () => Promise<Command>> = {
  services: async () => (await import("./commands/services.js")).default,
  batch: async () => (await import("./commands/batch.js")).default,
  run: async () => (await import("./commands/run.js")).default,
  replay: async () => (await import("./commands/replay.js")).default,
  record: async () => (await import("./commands/record.js")).default,
  notebook: async () => (await import("./commands/notebook.js")).default,
  kernel: async () => (await import("./commands/kernel.js")).default,
  promote: async () => (await import("./commands/promote.js")).default,
  init: async () => (await import("./commands/init.js")).default,
  descriptor: async () => (await import("./commands/descriptor.js")).default,
  up: async () => (await import("./commands/up.js")).default,
  down: async () => (await import("./commands/down.js")).default,
  status: async () => (await import("./commands/status.js")).default,
  dashboard: async () => (await import("./commands/dashboard.js")).default,
  source: async () => (await import("./commands/source.js")).default,
  add: async () => (await import("./commands/add.js")).default,
  vector: async () => (await import("./commands/vector.js")).default,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The optional package (a peerDependency: ink, typescript, danfojs-node...) whose absence `e` reports, if any.
 * A deployed step installs quixlab without them; the CLI commands and notebook helpers that use them say so.
 */
export function missingPeer(e: unknown): { name: string; range: string } | undefined {
  if ((e as NodeJS.ErrnoException)?.code !== "ERR_MODULE_NOT_FOUND") return undefined;
  const name = /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec(String((e as Error).message))?.[1];
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { peerDependencies?: Record<string, string> };
  const range = name ? pkg.peerDependencies?.[name] : undefined;
  return name && range ? { name, range } : undefined;
}

/** The sentence that tells how to install a missing optional package (ink and react together: Ink renders with React). */
function installHint(peer: { name: string; range: string }): string {
  const both = peer.name === "ink" || peer.name === "react" ? "ink@^6.3.0 react@^19.1.0" : `${peer.name}@${peer.range}`;
  return `npm install ${both} (a project made by 'quixlab init' already has it)`;
}

async function available(): Promise<[string, Command | string][]> {
  const out: [string, Command | string][] = [];
  for (const [name, load] of Object.entries(commands)) {
    try {
      out.push([name, await load()]);
    } catch (e) {
      // Listed with what it needs when an optional package is missing; a module not written yet is not listed.
      const peer = missingPeer(e);
      if (peer) out.push([name, `(needs the optional package ${peer.name}: ${installHint(peer)})`]);
      else if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return out;
}

/** Run the CLI; returns the exit code (0 ok, 1 a check failed, 2 usage or input error). */
export async function main(argv: string[], io: Partial<CommandIO> = {}): Promise<number> {
  const full: CommandIO = {
    cwd: io.cwd ?? process.cwd(),
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
  };
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    full.stdout.write(`${version()}\n`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const list = await available();
    const width = Math.max(...list.map(([n]) => n.length));
    full.stdout.write(
      `quixlab ${version()} — define a feature once, prove batch/stream parity on real Kafka, promote it.\n\n` +
        `usage: quixlab <command> [options]   (quixlab <command> --help for details)\n\ncommands:\n` +
        list.map(([n, c]) => `  ${n.padEnd(width)}  ${typeof c === "string" ? c : c.summary}`).join("\n") +
        "\n",
    );
    return name ? 0 : 2;
  }
  const load = commands[name];
  const color = colorEnabled(full.stderr, full.env);
  if (!load) {
    full.stderr.write(`${paint(color, 31, "error")}: unknown command '${name}' — run 'quixlab --help' for the list\n`);
    return 2;
  }
  try {
    const cmd = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      full.stdout.write(cmd.help.endsWith("\n") ? cmd.help : `${cmd.help}\n`);
      return 0;
    }
    return await cmd.run(rest, full);
  } catch (e) {
    const peer = missingPeer(e);
    if (peer) {
      full.stderr.write(`${paint(color, 31, "error")}: 'quixlab ${name}' needs the optional package ${peer.name}, which is not installed — ${installHint(peer)}\n`);
      return 2;
    }
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(`commands/${name}.`)) {
      full.stderr.write(`error: '${name}' is not available in this build\n`);
      return 2;
    }
    if (isQuixlabError(e)) {
      full.stderr.write(`${paint(color, 31, "error")}: ${e.oneLine()}\n`);
      if (full.env.QUIXLAB_DEBUG && e.cause) full.stderr.write(`${String((e.cause as Error).stack ?? e.cause)}\n`);
      return e.exitCode;
    }
    full.stderr.write(`${paint(color, 31, "internal error")}: ${(e as Error).stack ?? String(e)}\n`);
    return 70;
  }
}
