// cgroup v2 has no devices.allow: device access is decided by a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup. This builds that
// program from OCI rules, after runc's devicefilter.go (itself from crun's
// ebpf.c). The rules first go through the v1 emulator, so v1 and v2 agree;
// the emulator leaves only exceptions that all share one action, so the order
// of the blocks below does not matter.
//
// The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = (access << 16) | type.

import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import { internal } from '../../util/errors.js';
import { DeviceEmulator, normalizeDeviceRules, ruleString, WILDCARD, type DeviceRule } from './devices-rules.js';

// linux/bpf.h
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

// Opcodes used (class | op | source).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT

const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** A jump to "the next block", resolved once the block's length is known. */
const NEXT_BLOCK = Symbol('next');
type Pending = Insn & { target?: typeof NEXT_BLOCK };

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

function prologue(): Insn[] {
  return [
    insn(LDX_MEM_W, R2, R1, 0, 0), // r2 = ctx->access_type
    insn(ALU32_AND_K, R2, 0, 0, 0xffff), // r2 = type
    insn(LDX_MEM_W, R3, R1, 0, 0),
    insn(ALU32_RSH_K, R3, 0, 0, 16), // r3 = access
    insn(LDX_MEM_W, R4, R1, 4, 0), // r4 = major
    insn(LDX_MEM_W, R5, R1, 8, 0), // r5 = minor
  ];
}

function returnInsns(allow: boolean): Insn[] {
  return [insn(ALU32_MOV_K, R0, 0, 0, allow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0)];
}

function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) {
    bits |= ch === 'r' ? BPF_DEVCG_ACC_READ : ch === 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

/** One rule: fall through to its verdict when type, access, major and minor all match; else jump past it. */
function ruleBlock(rule: DeviceRule): Insn[] {
  if (rule.type === 'a') throw internal(`cgroup: device program: unexpected wildcard rule ${ruleString(rule)}`);
  const block: Pending[] = [];
  const jne = (reg: number, imm: number): Pending => ({ ...insn(JMP_JNE_K, reg, 0, 0, imm), target: NEXT_BLOCK });
  block.push(jne(R2, rule.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  const bits = accessBits(rule.access);
  if (bits !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
    // if ((access & bits) != access) next — every requested bit must be granted.
    block.push(insn(ALU32_MOV_X, R1, R3, 0, 0));
    block.push(insn(ALU32_AND_K, R1, 0, 0, bits));
    block.push({ ...insn(JMP_JNE_X, R1, R3, 0, 0), target: NEXT_BLOCK });
  }
  if (rule.major !== WILDCARD) block.push(jne(R4, rule.major));
  if (rule.minor !== WILDCARD) block.push(jne(R5, rule.minor));
  block.push(...returnInsns(rule.allow));
  // Resolve: a jump at index i to the block's end has off = len - (i + 1).
  return block.map(({ target, ...i }, idx) => (target === NEXT_BLOCK ? { ...i, off: block.length - (idx + 1) } : i));
}

/** The instructions for a device rule list (exported for tests; see deviceFilterProgram for bytes). */
export function deviceFilterInsns(rules: LinuxDeviceCgroup[]): Insn[] {
  const emu = DeviceEmulator.fromRules(normalizeDeviceRules(rules));
  const clean = emu.cleanRules();
  const out = prologue();
  clean.forEach((rule, idx) => {
    if (rule.type === 'a') {
      // At most one, first, switching to allow-all; the default verdict below covers it.
      if (idx !== 0 || rule.allow !== emu.defaultAllow) {
        throw internal(`cgroup: device program: bad wildcard rule at ${idx} (${ruleString(rule)})`);
      }
      return;
    }
    if (rule.allow === emu.defaultAllow) throw internal(`cgroup: device program: no-op rule at ${idx} (${ruleString(rule)})`);
    out.push(...ruleBlock(rule));
  });
  out.push(...returnInsns(emu.defaultAllow));
  return out;
}

/** struct bpf_insn[]: u8 code, u8 dst_reg:4 | src_reg:4 (dst in the low nibble on little-endian), s16 off, s32 imm. */
export function encodeInsns(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    const o = n * 8;
    buf.writeUInt8(i.code, o);
    buf.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), o + 1);
    buf.writeInt16LE(i.off, o + 2);
    buf.writeInt32LE(i.imm | 0, o + 4);
  });
  return buf;
}

/** The BPF_PROG_TYPE_CGROUP_DEVICE program for these rules, ready for cgroup_bpf_attach_devices(). */
export function deviceFilterProgram(rules: LinuxDeviceCgroup[]): Buffer {
  return encodeInsns(deviceFilterInsns(rules));
}
