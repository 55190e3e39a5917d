import { relative } from "node:path";
import { ensureKafkaJars, kafkaJarsCached } from "../../src/broker/index.js";
import { InputError } from "../../src/errors/index.js";
import { servicesDown, servicesRestart, servicesStatus, servicesUp } from "../../src/services/index.js";
import type { BrokerRecord, RedisRecord, ServicesState } from "../../src/services/state.js";
import { EMBEDDED_REDIS_SOURCE, embeddedRedisCached, embeddedRedisSupported, ensureEmbeddedRedis } from "../../src/redis/provider.js";
import { parse } from "../args.js";
// Aliased: biome takes a `use...` call for a React hook.
import { type Command, paint, useColor as colorEnabled } from "../io.js";

const usage = "quixlab services up|down|status|restart|fetch [--broker auto|local|HOST:PORT] [--redis auto|local|embedded|none|URL] [--only kafka|redis] [--kill] [--json]";

type Row = { name: string; record: BrokerRecord | RedisRecord; note: string };

function address(r: BrokerRecord | RedisRecord): string {
  return "brokers" in r ? r.brokers.join(",") : r.url;
}

function table(rows: Row[]): string {
  const cells = rows.map((r) => [r.name, r.record.provider, address(r.record), r.record.pid === undefined ? "" : `pid ${r.record.pid}`, r.note]);
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((c) => c[i]!.length))) ?? [];
  return cells.map((c) => c.map((s, i) => s.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

function rowsOf(state: ServicesState, note: (name: "kafka" | "redis", r: BrokerRecord | RedisRecord) => string): Row[] {
  const rows: Row[] = [];
  if (state.broker) rows.push({ name: "kafka", record: state.broker, note: note("kafka", state.broker) });
  if (state.redis) rows.push({ name: "redis", record: state.redis, note: note("redis", state.redis) });
  return rows;
}

const command: Command = {
  summary: "start, inspect or stop a local Kafka broker and Redis in the background",
  help: `usage: ${usage}

  up       start a real Apache Kafka broker (KRaft, run with java from Maven Central jars) and a redis-server
           (from PATH, else the embedded one) in the background, and record their addresses in
           .quixlab/services.json so replay/run reuse them.
           Services already running are kept.
  status   show the recorded services and whether each answers (a real admin call / PING)
  down     stop them, remove their temp dirs and the state file
  restart  start the recorded broker and Redis again, each on the same address and in the same dir (also when
           one is down): the broker's topics, messages and offsets survive; Redis runs without persistence, so
           only its address does. A broker or Redis you run yourself is left alone.
  fetch    download the broker's jars and the embedded redis-server (used when redis-server is not on PATH)
           into the cache now (done by 'up' when needed)

options:
  --broker P   up: auto (KAFKA_BROKERS if set, else local), local, or HOST:PORT of a broker you run
  --redis P    up: auto (REDIS_URL if set, else local, else embedded), local, embedded, none, or redis://HOST:PORT
  --only S     restart: only kafka or only redis
  --kill       restart: end the process with SIGKILL (a crash) instead of a clean shutdown first
  --json       print the result as one JSON object

exit codes: 0 ok, 1 status found a service down (or none recorded), 2 bad flags, nothing to restart, or a missing
            java/mvn/redis-server`,
  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      { broker: { type: "string" }, redis: { type: "string" }, only: { type: "string" }, kill: { type: "boolean" }, json: { type: "boolean" } },
      usage,
    );
    const [action, ...extra] = positionals;
    if (extra.length) throw new InputError(`unexpected argument '${extra[0]}'`, { remedy: `usage: ${usage}` });
    const color = colorEnabled(io.stdout, io.env);
    const say = (s: string) => io.stdout.write(`${s}\n`);
    const log = values.json ? undefined : (line: string) => io.stderr.write(`${line}\n`);
    const stateFile = relative(io.cwd, `${io.cwd}/.quixlab/services.json`);

    switch (action) {
      case "up": {
        const { state, reused } = await servicesUp({ cwd: io.cwd, broker: values.broker, redis: values.redis, env: io.env, log });
        if (values.json) {
          say(JSON.stringify({ ...state, reused }));
          return 0;
        }
        if (reused.broker && (reused.redis || !state.redis)) say("services already up; reusing them");
        const note = (name: "kafka" | "redis", r: BrokerRecord | RedisRecord) =>
          (name === "kafka" ? reused.broker : reused.redis) ? `already running (started in ${r.startupMs} ms)` : `started in ${r.startupMs} ms`;
        say(table(rowsOf(state, note)));
        say(`recorded in ${stateFile}; stop them with 'quixlab services down'`);
        return 0;
      }
      case "status": {
        const status = await servicesStatus(io.cwd);
        if (values.json) {
          say(JSON.stringify(status));
          return status.running ? 0 : 1;
        }
        if (!status.broker && !status.redis) {
          say(`no services recorded in ${stateFile} — start them with 'quixlab services up'`);
          return 1;
        }
        const state: ServicesState = { version: 1, broker: status.broker, redis: status.redis };
        const alive = (name: "kafka" | "redis") => (name === "kafka" ? status.broker?.alive : status.redis?.alive);
        say(table(rowsOf(state, (name) => (alive(name) ? paint(color, 32, "up") : paint(color, 31, "down")))));
        if (!status.running) say("some services are down — 'quixlab services up' restarts them");
        return status.running ? 0 : 1;
      }
      case "down": {
        const stopped = await servicesDown(io.cwd);
        if (values.json) say(JSON.stringify({ stopped }));
        else if (!stopped.broker && !stopped.redis) say("no services were recorded; nothing to stop");
        else say(table(rowsOf(stopped, () => "stopped")));
        return 0;
      }
      case "restart": {
        const only = values.only;
        if (only !== undefined && only !== "kafka" && only !== "redis") {
          throw new InputError(`unknown service '${only}' in --only`, { remedy: "use --only kafka or --only redis", context: { field: "--only" } });
        }
        const { state, restarted } = await servicesRestart({ cwd: io.cwd, only, kill: values.kill, env: io.env, log });
        if (values.json) {
          say(JSON.stringify({ ...state, restarted }));
          return 0;
        }
        const note = (name: "kafka" | "redis", r: BrokerRecord | RedisRecord) =>
          (name === "kafka" ? restarted.broker : restarted.redis) ? `restarted in ${r.startupMs} ms` : "left as it is";
        say(table(rowsOf(state, note)));
        return 0;
      }
      case "fetch": {
        const cached = kafkaJarsCached();
        const lib = await ensureKafkaJars({ log, env: io.env });
        // Fetched even with redis-server on PATH, so a CI warm-up covers the embedded provider too. A platform
        // without a build is only a note here: `up` with redis-server installed never needs it.
        let embeddedRedis: { path: string; cached: boolean } | { unavailable: string };
        if (embeddedRedisSupported()) {
          const wasCached = embeddedRedisCached();
          embeddedRedis = { path: await ensureEmbeddedRedis({ log, env: io.env }), cached: wasCached };
        } else {
          embeddedRedis = { unavailable: `${EMBEDDED_REDIS_SOURCE} has no redis-server for ${process.platform}-${process.arch}` };
        }
        if (values.json) {
          say(JSON.stringify({ lib, cached, embeddedRedis }));
          return 0;
        }
        say(cached ? `Kafka jars already cached in ${lib}` : `Kafka jars fetched into ${lib}`);
        if ("unavailable" in embeddedRedis) say(`${embeddedRedis.unavailable}; 'up' needs redis-server on PATH here`);
        else say(`${EMBEDDED_REDIS_SOURCE} ${embeddedRedis.cached ? "already cached in" : "fetched into"} ${embeddedRedis.path}`);
        return 0;
      }
      default:
        throw new InputError(action ? `unknown action '${action}'` : "missing action", { remedy: `usage: ${usage}` });
    }
  },
};

export default command;
