/**
 * One root error for everything quixlab raises on purpose. It carries a remedy sentence (what the operator
 * should do), whether retrying may help, the cause, and context fields (file, line, field, topic...).
 * The CLI maps error kinds to exit codes in one place (cli/exit.ts); nothing else parses messages.
 */
export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  topic?: string;
  partition?: number;
  [k: string]: unknown;
}

export interface QuixlabErrorOptions {
  remedy?: string;
  retriable?: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

export class QuixlabError extends Error {
  readonly remedy: string | undefined;
  readonly retriable: boolean;
  readonly context: ErrorContext;
  /** Process exit code the CLI uses for this kind: 2 = usage/input, 1 = a check failed. */
  readonly exitCode: number = 1;

  constructor(message: string, opts: QuixlabErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.remedy = opts.remedy;
    this.retriable = opts.retriable ?? false;
    this.context = Object.freeze({ ...(opts.context ?? {}) });
  }

  /** "file:line: message — remedy" on one line, as the CLI prints it. */
  oneLine(): string {
    const where = locationOf(this.context);
    const text = where ? `${where}: ${this.message}` : this.message;
    return this.remedy ? `${text} — ${this.remedy}` : text;
  }
}

/** Bad flags, bad references, unreadable or malformed input files. Exit 2. */
export class InputError extends QuixlabError {
  override readonly exitCode = 2;
}

/** A required program or service is missing or misconfigured (java, mvn, redis-server, jupyter). Exit 2. */
export class EnvironmentError extends QuixlabError {
  override readonly exitCode = 2;
}

/** A real service (Kafka, Redis, Jupyter) failed while we used it. Often retriable. */
export class ServiceError extends QuixlabError {}

/** A check ran and did not pass (parity, descriptor validation, notebook cell). Exit 1. */
export class CheckFailedError extends QuixlabError {}

export function locationOf(ctx: ErrorContext): string {
  if (!ctx.file) return "";
  let s = String(ctx.file);
  if (ctx.line !== undefined) s += `:${ctx.line}`;
  if (ctx.column !== undefined) s += `:${ctx.column}`;
  return s;
}

export function isQuixlabError(e: unknown): e is QuixlabError {
  return e instanceof QuixlabError || (typeof e === "object" && e !== null && "remedy" in e && "retriable" in e);
}
