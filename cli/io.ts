/** What every command gets: its streams and working directory, so tests can pass fakes. */
export interface CommandIO {
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** One line for `quixlab --help`. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}

/** Colour only on a TTY and only when NO_COLOR is unset (https://no-color.org). */
export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !("NO_COLOR" in env) && env.TERM !== "dumb";
}

export function paint(on: boolean, code: number, s: string): string {
  return on ? `\u001b[${code}m${s}\u001b[0m` : s;
}

/** Old name of `colorEnabled` (kept while modules move over; Biome mistakes `use*` for a React hook). */
export const useColor = colorEnabled;
