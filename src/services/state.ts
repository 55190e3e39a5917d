import { rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors/index.js";
import { readJsonFile, writeJsonAtomic } from "../util/json-file.js";
import { stateDir } from "../util/paths.js";

/** What `quixlab services up` records about a service it started (or adopted) for later commands. */
export interface ServiceRecord {
  provider: string;
  /** Present when quixlab runs the process itself. */
  pid?: number;
  /** Its temp dir (config, data, logs), removed by `down`. */
  dir?: string;
  startupMs: number;
  startedAt: string;
}

export interface BrokerRecord extends ServiceRecord {
  brokers: string[];
}

export interface RedisRecord extends ServiceRecord {
  url: string;
}

/** Contents of `<cwd>/.quixlab/services.json`. */
export interface ServicesState {
  version: 1;
  broker?: BrokerRecord;
  redis?: RedisRecord;
}

/** Path of the state file under `cwd`. */
export function servicesFile(cwd: string = process.cwd()): string {
  return join(stateDir(cwd), "services.json");
}

/**
 * The services `quixlab services up` recorded under `cwd`, or undefined when there are none. It does not
 * check they still run: `servicesStatus()` does (replay and run use this to reuse a broker).
 */
export function readServices(cwd: string = process.cwd()): ServicesState | undefined {
  const file = servicesFile(cwd);
  const data = readJsonFile(file, corrupt);
  if (data === undefined) return undefined;
  if (typeof data !== "object" || data === null || (data as { version?: unknown }).version !== 1) {
    throw corrupt(file, "expected an object with version 1");
  }
  const state = data as ServicesState;
  if (state.broker && !(Array.isArray(state.broker.brokers) && state.broker.brokers.every((b) => typeof b === "string"))) {
    throw corrupt(file, "broker.brokers must be a list of HOST:PORT strings");
  }
  if (state.redis && typeof state.redis.url !== "string") throw corrupt(file, "redis.url must be a string");
  return state;
}

function corrupt(file: string, why: string): InputError {
  return new InputError(`cannot read the services state: ${why}`, {
    remedy: "stop stray services with 'quixlab services down' (or delete the file) and run 'quixlab services up'",
    context: { file },
  });
}

/** Write the state atomically (temp file + rename); an empty state removes the file. */
export function writeServices(cwd: string, state: ServicesState): void {
  const file = servicesFile(cwd);
  if (!state.broker && !state.redis) {
    rmSync(file, { force: true });
    return;
  }
  writeJsonAtomic(file, state);
}
