#!/usr/bin/env node
// berthd: the Docker Engine API daemon arrives with issue 5.
process.stderr.write('berthd: the daemon is not implemented yet (see README)\n');
process.exitCode = 1;
