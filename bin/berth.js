#!/usr/bin/env node
// berth: the Docker-style CLI (src/cli/main.ts), run from its bundle (dist/bundle, built by
// `npm run build`): one module loads far faster than the files tsc emits.
import { main } from '../dist/bundle/berth.js';

process.exitCode = await main(process.argv.slice(2));
