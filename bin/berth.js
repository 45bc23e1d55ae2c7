#!/usr/bin/env node
// berth: the Docker-style CLI (src/cli/main.ts).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
