/**
 * One chooser for the providers of every service quixlab starts (Kafka, Redis): which to use and why, in the
 * same order for all of them. `auto` takes, first to last: an address given (flag or options), the service's
 * environment variable, a service recorded by `quixlab services up` that answers, Testcontainers when a Docker
 * engine answers and can run it, and last a process of our own. A service describes itself once as
 * `ProviderRules` (names, messages, how to parse its address); `chooseProvider` is the pure decision and
 * `resolveProvider` gathers the facts it needs (services state, Docker, the optional package, the image).
 */
import { EnvironmentError, InputError } from "../errors/index.js";
import { dockerAvailable, findContainerImage, packageInstalled } from "./docker.js";
import type { Log } from "./process.js";

/** The provider that runs the service in Docker, for every service. */
export const CONTAINER_PROVIDER = "testcontainers";

/**
 * A service ready for use, whoever started it. Life cycle: a provider's start resolves once the service
 * answers; `stop()` ends what we started (a no-op for one we were given) and removes its files.
 */
export interface ServiceHandle<P extends string> {
  readonly provider: P;
  /** From "start requested" to "answered". */
  readonly startupMs: number;
  /** The process when we run it ourselves. */
  readonly pid?: number;
  /** Config, data and logs of a process we run; removed by `stop()`. */
  readonly dir?: string;
  stop(): Promise<void>;
}

/** How a caller asks for a service; each service adds where its address is passed (`address`, `url`). */
export interface StartServiceOptions<P extends string> {
  /** `auto` (default), a provider name, or an address in the service's own form. */
  provider?: "auto" | P | (string & {});
  /** Looks for a service started by `quixlab services up` under this directory (auto only). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
  /** A process of our own only: leave it running after this process exits (`quixlab services up`). */
  detached?: boolean;
}

/** What was chosen, and why in words for the operator's log line. */
export interface ProviderChoice<P extends string> {
  provider: P;
  reason: string;
}

/** An address as a service takes it: a URL, or a list of `HOST:PORT`. */
export type ServiceAddress = string | readonly string[];

/**
 * What `chooseProvider` decides from. Each service adds the field its address comes in (`address`, `url`,
 * named by its rules) and may add facts of its own (e.g. whether redis-server is on PATH).
 */
export interface ChooserInput<A extends ServiceAddress> {
  /** `auto` (default), a provider name, or an address. */
  flag?: string;
  /** Read for the service's variable (KAFKA_BROKERS, REDIS_URL); empty counts as unset. */
  env?: Readonly<Record<string, string | undefined>>;
  dockerAvailable: boolean;
  /** The address of a service recorded by `quixlab services up` that answered just now; empty counts as none. */
  running?: A;
}

/** A service's part of the choice: its names, messages and address form. */
export interface ProviderRules<P extends string, A extends ServiceAddress, C extends ProviderChoice<P>, I extends ChooserInput<A>> {
  /** For messages: `broker`, `Redis`. */
  service: string;
  /** The CLI flag: `--broker`, `--redis`. */
  option: string;
  /** The environment variable auto reads: `KAFKA_BROKERS`, `REDIS_URL`. */
  envName: string;
  /** The input field an address comes in (named when it is bad): `address`, `url`. */
  addressField: string;
  /** The address passed in that field, if any. */
  address(input: I): string | undefined;
  /** For "... was given": `an address`, `a URL`. */
  anAddress: string;
  /** The provider that uses a service someone else runs, at an address: `external`, `url`. */
  connect: P;
  /** The error when `connect` is asked for with no address anywhere. */
  noAddress: { message: string; remedy: string };
  /** The remedy when Testcontainers is asked for and no Docker engine answers. */
  noDockerRemedy: string;
  /** The remedy for an unknown provider name. */
  unknownRemedy: string;
  /** Whether a flag is an address rather than a provider name. */
  isAddress(flag: string): boolean;
  /** Check an address; `source` names the flag or variable it came from (the rules' own default when absent). */
  parse(text: string, source?: string): A;
  /** Build a choice, with its address when it has one. */
  choice(provider: P, reason: string, address?: A): C;
  /** Providers asked for by name, other than `connect` and Testcontainers; each may refuse with an error. */
  named: Readonly<Record<string, (input: I) => C>>;
  /** Auto's last step: a process of our own. */
  own(input: I): C;
}

/**
 * Decide which provider to use, purely from the inputs (see the module comment for auto's order). An explicit
 * name wins over the environment; an unknown one, or one that cannot work here, is an error with a remedy.
 */
export function chooseProvider<P extends string, A extends ServiceAddress, C extends ProviderChoice<P>, I extends ChooserInput<A>>(rules: ProviderRules<P, A, C, I>, input: I): C {
  const flag = input.flag ?? "auto";
  const address = rules.address(input) || undefined;
  const envAddress = input.env?.[rules.envName] || undefined;
  const given = (asked: string): C | undefined => {
    if (address) return rules.choice(rules.connect, asked, rules.parse(address, rules.addressField));
    if (envAddress) return rules.choice(rules.connect, `${rules.envName} is set`, rules.parse(envAddress, rules.envName));
    return undefined;
  };
  if (rules.isAddress(flag)) return rules.choice(rules.connect, `${rules.anAddress} was given`, rules.parse(flag));
  if (flag === "auto") {
    const found = given(`${rules.anAddress} was given`);
    if (found) return found;
    if (input.running?.length) return rules.choice(rules.connect, `reusing the ${rules.service} started by 'quixlab services up'`, input.running);
    if (input.dockerAvailable) return rules.choice(CONTAINER_PROVIDER as P, "a Docker engine answered");
    return rules.own(input);
  }
  if (flag === rules.connect) {
    const found = given(`asked for the ${flag} provider`);
    if (found) return found;
    throw new InputError(rules.noAddress.message, { remedy: rules.noAddress.remedy });
  }
  if (flag === CONTAINER_PROVIDER) {
    if (!input.dockerAvailable) {
      throw new EnvironmentError("the testcontainers provider needs a Docker engine, and none answered", { remedy: rules.noDockerRemedy });
    }
    return rules.choice(CONTAINER_PROVIDER as P, "asked for the testcontainers provider");
  }
  const named = Object.hasOwn(rules.named, flag) ? rules.named[flag] : undefined;
  if (named) return named(input);
  throw new InputError(`unknown ${rules.service} provider '${flag}'`, { remedy: rules.unknownRemedy, context: { field: rules.option } });
}

/** What `resolveProvider` needs beyond the rules: how to find the service's running copy and its images. */
export interface ProviderSetup<P extends string, A extends ServiceAddress, C extends ProviderChoice<P>, I extends ChooserInput<A>> {
  rules: ProviderRules<P, A, C, I>;
  /** The log line's prefix: `kafka`, `redis`. */
  prefix: string;
  /** The address of what `quixlab services up` recorded under `cwd`, when it answers now. */
  running(cwd: string): Promise<A | undefined>;
  /** Facts of the service's own that its rules read (e.g. whether redis-server is on PATH). */
  facts?(env: NodeJS.ProcessEnv): Partial<I>;
  /** The optional package Testcontainers needs for this service, and the install line naming all it needs. */
  containerPackage: { name: string; install: string };
  /** Container images to try, in order. */
  images(env: NodeJS.ProcessEnv): string[];
  /** Fail before announcing a choice that cannot work here (no JRE, no embedded build). */
  check?(choice: C, env: NodeJS.ProcessEnv): void;
}

export interface ResolveOptions {
  flag?: string;
  address?: string;
  cwd?: string;
  env: NodeJS.ProcessEnv;
  log?: Log;
}

/** A choice and, for Testcontainers under auto, the image found for it. */
export interface Resolved<C> {
  choice: C;
  image?: string;
}

/**
 * Gather what `chooseProvider` decides from, decide, and log the choice with its reason. Under auto, an engine
 * that answers but cannot run the service (the optional package missing, no image and no registry) is no
 * reason to fail: it falls back to a process of our own, saying why. An explicit testcontainers fails later,
 * when the container cannot start.
 */
export async function resolveProvider<P extends string, A extends ServiceAddress, C extends ProviderChoice<P>, I extends ChooserInput<A>>(
  setup: ProviderSetup<P, A, C, I>,
  opts: ResolveOptions,
): Promise<Resolved<C>> {
  const { rules } = setup;
  const env = opts.env;
  const flag = opts.flag ?? "auto";
  const envAddress = env[rules.envName];
  const undecided = flag === "auto" && !opts.address && !envAddress;
  const running = undecided && opts.cwd ? await setup.running(opts.cwd) : undefined;
  const docker = (undecided && !running) || flag === CONTAINER_PROVIDER ? await dockerAvailable(env) : false;
  const input = { flag, [rules.addressField]: opts.address, env, dockerAvailable: docker, running, ...setup.facts?.(env) } as ChooserInput<A> as I;
  let choice = chooseProvider(rules, input);
  let image: string | undefined;
  const fallBack = (why: string) => ({ ...rules.own(input), reason: `a Docker engine answered, but ${why}` });
  if (choice.provider === CONTAINER_PROVIDER && flag === "auto") {
    const { name, install } = setup.containerPackage;
    if (!packageInstalled(name)) {
      choice = fallBack(`the optional package ${name} is not installed (${install})`);
    } else {
      const found = await findContainerImage(setup.images(env), { env, log: opts.log });
      if (found.why) choice = fallBack(found.why);
      image = found.image;
    }
  }
  setup.check?.(choice, env);
  opts.log?.(`${setup.prefix}: ${choice.provider} provider (${choice.reason})`);
  return { choice, image };
}
