/**
 * What a bench suite returns and what run.ts loads. Its own module so the suites, which run.ts imports, do not
 * import run.ts back (an import circle).
 */

/** One measurement; when compared with a baseline, ratio = value / baseline (higher is better for rates). */
export interface Row {
  suite: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  /** The ratio the project aims for; `ok` says whether this run reached it. */
  target?: number;
  ok?: boolean;
  note?: string;
}

/** A suite module: `export const name` and `export async function run()`. */
export interface Suite {
  name: string;
  run(): Promise<Row[]>;
}
