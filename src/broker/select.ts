import { InputError } from "../errors/index.js";
import { chooseProvider, type ProviderRules } from "../infra/provider.js";
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

/** Kafka's part of the one provider chooser (`src/infra/provider.ts`). */
export const BROKER_RULES: ProviderRules<BrokerProvider, string[], BrokerChoice, BrokerSelectionInput> = {
  service: "broker",
  option: "--broker",
  envName: "KAFKA_BROKERS",
  addressField: "address",
  address: (input) => input.address,
  anAddress: "an address",
  connect: "external",
  noAddress: {
    message: "the external provider needs an address, and none was given",
    remedy: "pass --broker HOST:PORT or set KAFKA_BROKERS=HOST:PORT",
  },
  noDockerRemedy: "start Docker (or set DOCKER_HOST), or use --broker local",
  unknownRemedy: "use --broker auto, local, testcontainers, or HOST:PORT",
  isAddress: looksLikeAddress,
  parse: parseBrokerList,
  choice: (provider, reason, brokers) => (brokers ? { provider, reason, brokers } : { provider, reason }),
  named: { local: () => ({ provider: "local", reason: "asked for the local provider" }) },
  own: () => ({ provider: "local", reason: "no address, no KAFKA_BROKERS and no Docker engine" }),
};

/**
 * Decide which broker provider to use, purely from the inputs. `auto` prefers, in order: an address given or
 * `KAFKA_BROKERS`, a broker left running by `quixlab services up`, Testcontainers when Docker answers, and
 * finally a local JVM broker (which needs only Java and Maven).
 */
export function chooseBrokerProvider(input: BrokerSelectionInput): BrokerChoice {
  return chooseProvider(BROKER_RULES, input);
}
