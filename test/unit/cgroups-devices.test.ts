// The cgroup v2 device program, run by a tiny eBPF interpreter that knows
// exactly the instructions a device filter may use, and compared with the v1
// emulator's view of the same rules (so v1 and v2 containers agree).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { LinuxDeviceCgroup } from '../../src/oci/runtime-spec.js';
import { isBerthError } from '../../src/util/errors.js';
import {
  BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR,
  deviceFilterInsns, deviceFilterProgram,
} from '../../src/runtime/cgroups/devices-bpf.js';
import { DeviceEmulator, normalizeDeviceRules, WILDCARD } from '../../src/runtime/cgroups/devices-rules.js';

type Req = { type: 'c' | 'b'; major: number; minor: number; access: string };

/** Run a BPF_PROG_TYPE_CGROUP_DEVICE program (raw bytes) on one request; returns r0. */
function run(prog: Buffer, req: Req): number {
  assert.equal(prog.length % 8, 0);
  const ctx = Buffer.alloc(12);
  let access = 0;
  for (const ch of req.access) access |= ch === 'r' ? BPF_DEVCG_ACC_READ : ch === 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  ctx.writeUInt32LE(((access << 16) | (req.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK)) >>> 0, 0);
  ctx.writeUInt32LE(req.major, 4);
  ctx.writeUInt32LE(req.minor, 8);
  const reg = new Array<bigint>(11).fill(0n);
  const CTX = 1n << 40n; // r1 is a pointer; only loads relative to it are allowed
  reg[1] = CTX;
  const M64 = (1n << 64n) - 1n;
  const u32 = (v: bigint): bigint => v & 0xffffffffn;
  const simm = (imm: number): bigint => BigInt(imm) & M64; // sign-extended to 64 bits
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    assert.ok(pc >= 0 && pc * 8 < prog.length, `pc ${pc} out of range`);
    const o = pc * 8;
    const code = prog.readUInt8(o);
    const dst = prog.readUInt8(o + 1) & 0xf;
    const src = prog.readUInt8(o + 1) >> 4;
    const off = prog.readInt16LE(o + 2);
    const imm = prog.readInt32LE(o + 4);
    pc++;
    switch (code) {
      case 0x61: // ldxw dst, [src+off]
        assert.equal(reg[src], CTX, 'load from a non-context register');
        assert.ok(off >= 0 && off <= 8 && off % 4 === 0, `bad ctx offset ${off}`);
        reg[dst] = BigInt(ctx.readUInt32LE(off));
        break;
      case 0x54: reg[dst] = u32(reg[dst]! & simm(imm)); break; // and32 imm
      case 0x74: reg[dst] = u32(reg[dst]!) >> BigInt(imm & 31); break; // rsh32 imm
      case 0xb4: reg[dst] = u32(simm(imm)); break; // mov32 imm
      case 0xbc: reg[dst] = u32(reg[src]!); break; // mov32 reg
      case 0x55: if (reg[dst] !== simm(imm)) pc += off; break; // jne imm (64-bit compare)
      case 0x5d: if (reg[dst] !== reg[src]) pc += off; break; // jne reg
      case 0x95: return Number(reg[0]); // exit
      default: assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc - 1}`);
    }
  }
  assert.fail('program did not terminate');
}

const allow = (prog: Buffer, spec: string): boolean => {
  // "c 1:3 rw" → request
  const [type, mm, access] = spec.split(' ') as ['c' | 'b', string, string];
  const [major, minor] = mm.split(':').map(Number) as [number, number];
  return run(prog, { type, major, minor, access }) === 1;
};

const rule = (allowIt: boolean, type: string, major: number | null, minor: number | null, access: string): LinuxDeviceCgroup => ({
  allow: allowIt, type, major, minor, access,
});

test('encoding: 8-byte little-endian struct bpf_insn with dst in the low nibble', () => {
  const prog = deviceFilterProgram([]);
  assert.equal(prog.length, 8 * deviceFilterInsns([]).length);
  // First instruction: r2 = *(u32 *)(r1 + 0)
  assert.deepEqual([...prog.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
  // Last two: r0 = 0; exit
  assert.deepEqual([...prog.subarray(-16)], [0xb4, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
});

test('no rules: default deny, for every type and access', () => {
  const p = deviceFilterProgram([]);
  for (const s of ['c 1:3 r', 'c 1:3 w', 'c 1:3 m', 'b 8:0 rw', 'c 136:0 rwm']) assert.equal(allow(p, s), false, s);
});

test('deny all, then allow c 1:3 rwm: only /dev/null', () => {
  const p = deviceFilterProgram([{ allow: false, access: 'rwm' }, rule(true, 'c', 1, 3, 'rwm')]);
  for (const s of ['c 1:3 r', 'c 1:3 w', 'c 1:3 m', 'c 1:3 rw']) assert.equal(allow(p, s), true, s);
  for (const s of ['c 1:5 r', 'b 1:3 r', 'c 3:1 r', 'c 0:3 r']) assert.equal(allow(p, s), false, s);
});

test('access subsets: allow c 1:5 r grants read only; combined requests need every bit', () => {
  const p = deviceFilterProgram([rule(true, 'c', 1, 5, 'r'), rule(true, 'c', 1, 9, 'rw')]);
  assert.equal(allow(p, 'c 1:5 r'), true);
  assert.equal(allow(p, 'c 1:5 w'), false);
  assert.equal(allow(p, 'c 1:5 rw'), false);
  assert.equal(allow(p, 'c 1:9 rw'), true);
  assert.equal(allow(p, 'c 1:9 m'), false);
});

test('wildcard majors and minors (null, undefined or -1)', () => {
  const p = deviceFilterProgram([
    rule(true, 'c', 136, null, 'rwm'), // /dev/pts/*
    rule(true, 'c', null, null, 'm'), // mknod any char device
    { allow: true, type: 'b', minor: 0, access: 'r' }, // any major, minor 0
    rule(true, 'c', -1, 7, 'w'),
  ]);
  assert.equal(allow(p, 'c 136:0 rw'), true);
  assert.equal(allow(p, 'c 136:99 rw'), true);
  assert.equal(allow(p, 'c 137:0 r'), false);
  assert.equal(allow(p, 'c 4000:12345 m'), true);
  assert.equal(allow(p, 'b 8:0 m'), false);
  assert.equal(allow(p, 'b 8:0 r'), true);
  assert.equal(allow(p, 'b 259:0 r'), true);
  assert.equal(allow(p, 'b 8:1 r'), false);
  assert.equal(allow(p, 'c 99:7 w'), true);
  assert.equal(allow(p, 'c 99:7 r'), false);
});

test('"a" rules reset: allow a → allow all; a later deny a wipes earlier allows', () => {
  const all = deviceFilterProgram([{ allow: true, access: 'rwm' }]);
  for (const s of ['c 1:3 r', 'b 8:0 w', 'c 10:200 m']) assert.equal(allow(all, s), true, s);
  // Type "a" given explicitly, with numbers that do not matter.
  const none = deviceFilterProgram([rule(true, 'c', 1, 3, 'rwm'), rule(false, 'a', 5, 5, 'r')]);
  assert.equal(allow(none, 'c 1:3 r'), false);
  // Allow-all with deny exceptions (v1 "black-list").
  const black = deviceFilterProgram([{ allow: true, access: 'rwm' }, rule(false, 'c', 1, 5, 'w'), rule(false, 'b', 8, null, 'rwm')]);
  assert.equal(allow(black, 'c 1:5 r'), true);
  assert.equal(allow(black, 'c 1:5 w'), false);
  assert.equal(allow(black, 'b 8:3 r'), false);
  assert.equal(allow(black, 'b 9:3 r'), true);
});

test('last matching rule wins for the same device', () => {
  const p1 = deviceFilterProgram([rule(true, 'c', 1, 3, 'rwm'), rule(false, 'c', 1, 3, 'w')]);
  assert.equal(allow(p1, 'c 1:3 r'), true);
  assert.equal(allow(p1, 'c 1:3 w'), false);
  const p2 = deviceFilterProgram([rule(true, 'c', 1, 3, 'rwm'), rule(false, 'c', 1, 3, 'rwm'), rule(true, 'c', 1, 3, 'r')]);
  assert.equal(allow(p2, 'c 1:3 r'), true);
  assert.equal(allow(p2, 'c 1:3 w'), false);
  assert.equal(allow(p2, 'c 1:3 m'), false);
  const p3 = deviceFilterProgram([{ allow: true, access: 'rwm' }, rule(false, 'c', 1, 3, 'rwm'), rule(true, 'c', 1, 3, 'rw')]);
  assert.equal(allow(p3, 'c 1:3 rw'), true);
  assert.equal(allow(p3, 'c 1:3 m'), false);
});

test('punching a hole in a wildcard rule is refused, as runc does', () => {
  assert.throws(
    () => deviceFilterProgram([rule(true, 'c', 1, null, 'rwm'), rule(false, 'c', 1, 3, 'r')]),
    (err: unknown) => isBerthError(err, 'InvalidArgument') && /punch a hole/.test(err.message),
  );
  assert.throws(() => deviceFilterProgram([rule(true, 'x', 1, 3, 'r')]), (err: unknown) => isBerthError(err, 'InvalidArgument'));
});

test('Docker-like default list: program agrees with the emulator on every device it names', () => {
  const rules: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    rule(true, 'c', null, null, 'm'),
    rule(true, 'b', null, null, 'm'),
    rule(true, 'c', 1, 3, 'rwm'),
    rule(true, 'c', 1, 8, 'rwm'),
    rule(true, 'c', 1, 7, 'rwm'),
    rule(true, 'c', 5, 0, 'rwm'),
    rule(true, 'c', 1, 5, 'rwm'),
    rule(true, 'c', 1, 9, 'rwm'),
    rule(true, 'c', 5, 1, 'rwm'),
    rule(true, 'c', 136, null, 'rwm'),
    rule(true, 'c', 5, 2, 'rwm'),
    rule(true, 'c', 10, 200, 'rwm'),
  ];
  const p = deviceFilterProgram(rules);
  assert.equal(allow(p, 'c 10:200 rw'), true); // /dev/net/tun
  assert.equal(allow(p, 'c 10:229 rw'), false); // /dev/fuse not listed
  assert.equal(allow(p, 'b 8:0 m'), true);
  assert.equal(allow(p, 'b 8:0 r'), false);
});

/** What the emulator says, straight from its minimal rule set. */
function emulatorAllows(rules: LinuxDeviceCgroup[], req: Req): boolean {
  const emu = DeviceEmulator.fromRules(normalizeDeviceRules(rules));
  const reqBits = new Set(req.access);
  for (const r of emu.cleanRules()) {
    if (r.type === 'a') continue;
    const match =
      r.type === req.type &&
      (r.major === WILDCARD || r.major === req.major) &&
      (r.minor === WILDCARD || r.minor === req.minor) &&
      [...reqBits].every((b) => r.access.includes(b));
    if (match) return r.allow;
  }
  return emu.defaultAllow;
}

test('random rule lists: the program and the emulator agree', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pickNum = (): number | null => [null, 1, 3, 5][rnd(4)] ?? null;
  const accesses = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const rules: LinuxDeviceCgroup[] = [];
    const n = 1 + rnd(6);
    for (let j = 0; j < n; j++) {
      const type = ['a', 'c', 'b', 'c'][rnd(4)] as string;
      rules.push(rule(rnd(2) === 0, type, pickNum(), pickNum(), accesses[rnd(7)] as string));
    }
    let prog: Buffer;
    try {
      prog = deviceFilterProgram(rules);
    } catch (err) {
      assert.ok(isBerthError(err, 'InvalidArgument'), String(err)); // hole punching only
      continue;
    }
    for (const type of ['c', 'b'] as const) {
      for (const major of [1, 3, 5, 7]) {
        for (const minor of [1, 3, 5, 7]) {
          for (const access of ['r', 'w', 'm', 'rw', 'rwm']) {
            const req = { type, major, minor, access };
            assert.equal(run(prog, req) === 1, emulatorAllows(rules, req), `${JSON.stringify(rules)} ${JSON.stringify(req)}`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 10000);
});
