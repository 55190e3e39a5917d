import { EnvironmentError, InputError } from "../errors/index.js";
import type { BrokerProvider } from "./types.js";

export interface BrokerChoice {
  provider: BrokerProvider;
  /** Why, in words, for the log line the operator sees. */
  reason: string;
  /** Bootstrap addresses when the choice is `external`. */
  brokers?: string[];
}

export interface BrokerSelectionInput {
  /** `auto` (default), `local`, `testcontainers`, `external`, or `HOST:PORT[,HOST:PORT]`. */
  flag?: string;
  /** An address passed alongside the flag (e.g. from an options object). */
  address?: string;
  env?: { KAFKA_BROKERS?: string | undefined };
  dockerAvailable: boolean;
  /** Brokers recorded by `quixlab services up` that answered just now. */
  running?: string[];
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;

/** Parse `HOST:PORT[,HOST:PORT]`; `source` names where it came from (a flag, KAFKA_BROKERS) for the error. */
export function parseBrokerList(text: string, source = "--broker"): string[] {
  const parts = text.split(",").map((s) => s.trim());
  const bad = (part: string, why: string) =>
    new InputError(`bad broker address '${part}' in ${source}: ${why}`, {
      remedy: "write HOST:PORT[,HOST:PORT], e.g. 127.0.0.1:9092",
      context: { field: source },
    });
  if (parts.every((p) => p === "")) throw bad(text, "it is empty");
  return parts.map((part) => {
    const m = HOST_PORT.exec(part);
    if (!m) throw bad(part, "expected HOST:PORT");
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw bad(part, `port ${port} is out of range 1-65535`);
    return part;
  });
}

function looksLikeAddress(flag: string): boolean {
  return flag.includes(":") || flag.includes(",");
}

/**
 * Decide which broker provider to use, purely from the inputs. `auto` prefers, in order: an address given or
 * `KAFKA_BROKERS`, a broker left running by `quixlab services up`, Testcontainers when Docker answers, and
 * finally a local JVM broker (which needs only Java and Maven).
 */
export function chooseBrokerProvider(input: BrokerSelectionInput): BrokerChoice {
  const flag = input.flag ?? "auto";
  const address = input.address || undefined;
  const envBrokers = input.env?.KAFKA_BROKERS || undefined;
  if (looksLikeAddress(flag)) {
    return { provider: "external", reason: "an address was given", brokers: parseBrokerList(flag) };
  }
  switch (flag) {
    case "local":
      return { provider: "local", reason: "asked for the local provider" };
    case "testcontainers":
      if (!input.dockerAvailable) {
        throw new EnvironmentError("the testcontainers provider needs a Docker engine, and none answered", {
          remedy: "start Docker (or set DOCKER_HOST), or use --broker local",
        });
      }
      return { provider: "testcontainers", reason: "asked for the testcontainers provider" };
    case "external":
      if (address) return { provider: "external", reason: "asked for the external provider", brokers: parseBrokerList(address, "address") };
      if (envBrokers) return { provider: "external", reason: "KAFKA_BROKERS is set", brokers: parseBrokerList(envBrokers, "KAFKA_BROKERS") };
      throw new InputError("the external provider needs an address, and none was given", {
        remedy: "pass --broker HOST:PORT or set KAFKA_BROKERS=HOST:PORT",
      });
    case "auto":
      if (address) return { provider: "external", reason: "an address was given", brokers: parseBrokerList(address, "address") };
      if (envBrokers) return { provider: "external", reason: "KAFKA_BROKERS is set", brokers: parseBrokerList(envBrokers, "KAFKA_BROKERS") };
      if (input.running?.length) {
        return { provider: "external", reason: "reusing the broker started by 'quixlab services up'", brokers: input.running };
      }
      if (input.dockerAvailable) return { provider: "testcontainers", reason: "a Docker engine answered" };
      return { provider: "local", reason: "no address, no KAFKA_BROKERS and no Docker engine" };
    default:
      throw new InputError(`unknown broker provider '${flag}'`, {
        remedy: "use --broker auto, local, testcontainers, or HOST:PORT",
        context: { field: "--broker" },
      });
  }
}
