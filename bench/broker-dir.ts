/**
 * Where a bench broker keeps its log: in memory (tmpfs, /dev/shm) when the host has one with room for the largest
 * suite, so the figures measure the step and the client rather than the host's filesystem; else the OS temp dir.
 * QUIXLAB_BENCH_BROKER_DIR names another folder (`/tmp`, say, to measure on disk). Why, with the measurements:
 * bench/README.md, "The bench broker's log is on tmpfs".
 */
import { existsSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";

/** statfs(2) magic numbers of the filesystems a bench host is likely to have (ext2 and ext3 share ext4's). */
const FILESYSTEMS = new Map<number, string>([
  [0x01021994, "tmpfs"],
  [0xef53, "ext4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x794c7630, "overlayfs"],
]);

/**
 * Room the broker's log needs in memory: the 10M-tick replay writes 3.4 GB of ticks, plus its outputs and dead
 * letters (Docker's default /dev/shm, 64 MB, would fill at once).
 */
const MIN_FREE_BYTES = 6 * 2 ** 30;

/** A folder, the kind of filesystem it is on, and why it was chosen when that is not the default (for the notes). */
export interface BrokerDir {
  parentDir: string;
  fs: string;
  why?: string;
}

/** The bench broker's folder: QUIXLAB_BENCH_BROKER_DIR, else /dev/shm when it is a tmpfs with room, else the OS temp dir. */
export function benchBrokerDir(env: NodeJS.ProcessEnv = process.env): BrokerDir {
  const named = env.QUIXLAB_BENCH_BROKER_DIR;
  if (named) {
    if (!existsSync(named)) throw new Error(`QUIXLAB_BENCH_BROKER_DIR=${named}: no such folder; name an existing one (e.g. /tmp) or unset it`);
    return at(named);
  }
  const shm = "/dev/shm";
  if (existsSync(shm)) {
    const s = statfsSync(shm);
    if (filesystem(s.type) === "tmpfs") {
      const free = s.bavail * s.bsize;
      if (free >= MIN_FREE_BYTES) return { parentDir: shm, fs: "tmpfs" };
      return { ...at(tmpdir()), why: `${shm} has ${(free / 2 ** 30).toFixed(1)} GiB free, under ${MIN_FREE_BYTES / 2 ** 30} GiB` };
    }
  }
  return at(tmpdir());
}

/** The OS temp dir (where the tests' brokers live), for a row measured on disk. */
export function diskBrokerDir(): BrokerDir {
  return at(tmpdir());
}

function at(parentDir: string): BrokerDir {
  return { parentDir, fs: filesystem(statfsSync(parentDir).type) };
}

function filesystem(type: number): string {
  return FILESYSTEMS.get(type) ?? `filesystem 0x${type.toString(16)}`;
}

/**
 * What a note says of the broker's log: "tmpfs", "ext4 (/dev/shm has 0.1 GiB free, …)"; the folder is the local
 * broker's only, so a container's or an external broker's is "unknown (… broker)".
 */
export function brokerLogOn(d: BrokerDir, provider: string): string {
  if (provider !== "local") return `unknown (${provider} broker)`;
  return d.why ? `${d.fs} (${d.why})` : d.fs;
}
