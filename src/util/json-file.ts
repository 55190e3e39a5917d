import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The parsed JSON of `file`, or undefined when there is no such file. Text that does not parse is thrown as
 * `corrupt(file, why)`, so the caller's error says which state it is and what to do.
 */
export function readJsonFile(file: string, corrupt: (file: string, why: string) => Error): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw corrupt(file, (e as Error).message);
  }
}

/** Write `value` as indented JSON atomically (temp file, then rename), creating the folder; readers never see half. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
