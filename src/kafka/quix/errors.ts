import { EnvironmentError, type QuixlabErrorOptions } from "../../errors/index.js";

/** Quix Cloud did not give what a step needs: a refused token, an unreachable Portal API, odd broker settings. Exit 2. */
export class QuixCloudError extends EnvironmentError {
  /** The HTTP status, when the Portal API answered with an error. */
  readonly status: number | undefined;

  constructor(message: string, opts: QuixlabErrorOptions & { status?: number } = {}) {
    super(message, opts);
    this.status = opts.status;
  }
}

/** A topic the step uses is not in the workspace and could not be created there. Exit 2. */
export class QuixTopicError extends QuixCloudError {}
