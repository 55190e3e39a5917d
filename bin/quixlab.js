#!/usr/bin/env node
// Entry shim: register tsx so feature references like `src/feature/shipped/ohlc.ts#ohlc1m` (TypeScript) load at
// runtime, then hand over to the CLI. In a checkout the CLI runs from source (no build step while developing);
// an installed package (npm pack) carries only the compiled dist/.
import { existsSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const source = new URL("../cli/main.ts", import.meta.url);
const { main } = await import(existsSync(source) ? source.href : new URL("../dist/cli/main.js", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
