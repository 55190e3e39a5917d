/**
 * Where a bench broker keeps its log: in memory (tmpfs, /dev/shm) when the host has one, so the figures measure
 * the step and the client, not the host's filesystem. QUIXLAB_BENCH_BROKER_DIR names another folder (the OS temp
 * dir, say, to measure on disk).
 *
 * Why (#18, measured with the broker's request log, `kafka.request.logger` at DEBUG): on this VM's ext4 disk a
 * produce to a fresh, rarely written topic, such as a bench run's window output (about 280 bytes a second a
 * partition), spent 5–55 ms in the broker's own append (`localTimeMs`) exactly when the partition's log passed
 * its first 4 KiB, that is, when the segment's first index entry was written: the first touch of a page of the
 * memory-mapped, sparse `.index` and `.timeindex` files. The disk was idle, the broker not in GC, the client's
 * event loop free. A window's latency ends with such a produce, so that one stall, 10–15 s into a run, set the
 * p99 at 10k ticks/s: 81–109 ms in 6 of 7 runs (24 ms in the one where it took 8 ms). In a long-running topic it
 * comes once per index page (every 1–2 MiB of log a partition: over an hour for a 1 s window's output) or
 * segment; a 30 s bench on fresh topics meets it in the measured seconds. With the log on tmpfs: 17–28 ms. Kafka never fsyncs its log by default; it writes into
 * the page cache either way. The stream suite also measures 10k ticks/s on disk, beside it, with no budget.
 */
import { existsSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";

/** statfs(2) magic numbers of the filesystems a bench host is likely to have. */
const FILESYSTEMS = new Map<number, string>([
  [0x01021994, "tmpfs"],
  [0xef53, "ext4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x794c7630, "overlayfs"],
]);

/** A folder and the kind of filesystem it is on (for the rows' notes). */
export interface BrokerDir {
  parentDir: string;
  fs: string;
}

/** The bench broker's folder: QUIXLAB_BENCH_BROKER_DIR, else /dev/shm when it is a tmpfs, else the OS temp dir. */
export function benchBrokerDir(env: NodeJS.ProcessEnv = process.env): BrokerDir {
  const named = env.QUIXLAB_BENCH_BROKER_DIR;
  if (named) return onDisk(named);
  const shm = "/dev/shm";
  if (existsSync(shm) && filesystem(shm) === "tmpfs") return { parentDir: shm, fs: "tmpfs" };
  return onDisk(tmpdir());
}

/** The OS temp dir (where the tests' brokers live), for a row measured on disk. */
export function diskBrokerDir(): BrokerDir {
  return onDisk(tmpdir());
}

function onDisk(parentDir: string): BrokerDir {
  return { parentDir, fs: filesystem(parentDir) };
}

function filesystem(path: string): string {
  const type = statfsSync(path).type;
  return FILESYSTEMS.get(type) ?? `filesystem 0x${type.toString(16)}`;
}
