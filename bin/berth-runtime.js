#!/usr/bin/env node
// berth-runtime: the runc-compatible OCI runtime. Compiled code lives in dist/.
import { main } from '../dist/src/runtime-cli/main.js';

process.exitCode = await main(process.argv.slice(2));
