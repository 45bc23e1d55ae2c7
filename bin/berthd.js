#!/usr/bin/env node
// berthd: the Docker Engine API daemon (src/daemon/main.ts), run from its bundle (dist/bundle):
// fewer modules start faster and keep the idle daemon smaller.
import { main } from '../dist/bundle/berthd.js';

process.exitCode = await main(process.argv.slice(2));
// Watchers of running containers are unref'd; nothing else should keep the process alive.
process.exit();
