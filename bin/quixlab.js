#!/usr/bin/env node
// Entry shim: register tsx so feature references like `src/features/ohlc.ts#ohlc1m` (TypeScript) load at
// runtime, then hand over to the CLI, which also runs from source so there is no build step for users.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
