#!/usr/bin/env node
// berth-runtime: the runc-compatible OCI runtime. The CLI runs from one bundled
// module (dist/bundle, built by `npm run build`): Node loads it far faster than
// the dozens of files tsc emits.
import { main } from '../dist/bundle/berth-runtime.js';

process.exitCode = await main(process.argv.slice(2));
