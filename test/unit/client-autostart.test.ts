// Starting the daemon on demand: when nothing answers and we are root, the client launches
// it detached, waits for /_ping, and goes on; a daemon that dies is reported with its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../src/client/index.js';

const asRoot = { skip: process.getuid?.() !== 0 ? 'autostart happens only as root' : false };

const FAKE_DAEMON = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [sock, pidFile, mode] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
if (mode === 'die') { console.error('fake berthd: cannot start'); process.exit(3); }
console.log('fake berthd listening');
setTimeout(() => {
  createServer((req, res) => { res.writeHead(200, { 'Api-Version': '1.45' }); res.end('OK'); }).listen(sock);
}, 200);
`;

function setup(): { dir: string; script: string; sock: string; pidFile: string; log: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-autostart-'));
  const script = join(dir, 'fake-berthd.mjs');
  writeFileSync(script, FAKE_DAEMON);
  const pidFile = join(dir, 'pid');
  const cleanup = (): void => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // not started, or already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, script, sock: join(dir, 'berth.sock'), pidFile, log: join(dir, 'berthd.log'), cleanup };
}

test('a daemon that is not running is started, and the request goes through', asRoot, async () => {
  const s = setup();
  const env = { ...process.env };
  delete env.BERTH_NO_AUTOSTART;
  const client = new EngineClient({ host: `unix://${s.sock}`, autostart: true, env, daemonLaunch: { command: [process.execPath, s.script, s.sock, s.pidFile], logPath: s.log } });
  try {
    const ping = await client.negotiate();
    assert.equal(ping.apiVersion, '1.45');
    assert.equal(readFileSync(s.log, 'utf8'), 'fake berthd listening\n');
  } finally {
    client.close();
    s.cleanup();
  }
});

test('a daemon that exits at once is reported with its log; BERTH_NO_AUTOSTART=1 starts nothing', asRoot, async () => {
  const s = setup();
  const env = { ...process.env };
  delete env.BERTH_NO_AUTOSTART;
  const launch = { command: [process.execPath, s.script, s.sock, s.pidFile, 'die'], logPath: s.log };
  try {
    const client = new EngineClient({ host: `unix://${s.sock}`, autostart: true, env, daemonLaunch: launch });
    await assert.rejects(client.negotiate(), { message: `berthd exited with status 3; see ${s.log}` });
    assert.equal(readFileSync(s.log, 'utf8'), 'fake berthd: cannot start\n');
    client.close();
    rmSync(s.pidFile);
    const optedOut = new EngineClient({ host: `unix://${s.sock}`, autostart: true, env: { ...env, BERTH_NO_AUTOSTART: '1' }, daemonLaunch: launch });
    await assert.rejects(optedOut.negotiate(), /Cannot connect to the berth daemon/);
    assert.throws(() => readFileSync(s.pidFile), /ENOENT/);
    optedOut.close();
  } finally {
    s.cleanup();
  }
});
