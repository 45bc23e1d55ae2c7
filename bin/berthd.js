#!/usr/bin/env node
// berthd: the Docker Engine API daemon (src/daemon/main.ts).
import { main } from '../dist/src/daemon/main.js';

process.exitCode = await main(process.argv.slice(2));
// Handles of running containers' watchers are unref'd; nothing else should keep us alive.
process.exit();
