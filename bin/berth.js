#!/usr/bin/env node
// berth: the Docker-style CLI. The daemon and its client arrive with issue 5;
// until then this says so instead of pretending.
process.stderr.write('berth: the berth CLI is not implemented yet; use berth-runtime to run OCI bundles (see README)\n');
process.exitCode = 1;
