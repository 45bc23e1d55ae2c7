// A small classic-BPF interpreter for seccomp filters, for tests. It checks a
// program the way the kernel does before loading it (bpf_check_classic +
// seccomp_check_filter), then runs it against a struct seccomp_data.
// Written independently of the compiler: it shares no code with src/.

/** The fields of struct seccomp_data the tests set. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six u64 arguments; missing ones are 0. */
  args?: readonly (bigint | number)[];
}

const SECCOMP_DATA_SIZE = 64;
const MAXINSNS = 4096;

// Opcodes a seccomp filter may use here (the subset the compiler emits, all legal in the kernel).
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(filter: Buffer): Insn[] {
  if (filter.length % 8 !== 0) throw new Error(`filter length ${filter.length} is not a multiple of 8`);
  const insns: Insn[] = [];
  for (let off = 0; off < filter.length; off += 8) {
    insns.push({
      code: filter.readUInt16LE(off),
      jt: filter.readUInt8(off + 2),
      jf: filter.readUInt8(off + 3),
      k: filter.readUInt32LE(off + 4),
    });
  }
  return insns;
}

/** Throws if the kernel would refuse this program. */
export function verifyFilter(filter: Buffer): void {
  const insns = decode(filter);
  if (insns.length === 0 || insns.length > MAXINSNS) throw new Error(`bad program length ${insns.length}`);
  insns.forEach((insn, pc) => {
    const inRange = (off: number): boolean => pc + 1 + off < insns.length;
    switch (insn.code) {
      case LD_W_ABS:
        if (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0) throw new Error(`pc ${pc}: bad load offset ${insn.k}`);
        break;
      case ALU_AND_K:
      case RET_K:
        break;
      case JA:
        if (!inRange(insn.k)) throw new Error(`pc ${pc}: ja ${insn.k} leaves the program`);
        break;
      case JEQ_K:
      case JGT_K:
      case JGE_K:
      case JSET_K:
        if (!inRange(insn.jt) || !inRange(insn.jf)) throw new Error(`pc ${pc}: jump leaves the program`);
        break;
      default:
        throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not allowed`);
    }
  });
  const last = insns[insns.length - 1]!;
  if (last.code !== RET_K) throw new Error('program does not end with ret');
}

/** struct seccomp_data as the kernel lays it out on a little-endian machine. */
export function seccompData(d: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  buf.writeInt32LE(d.nr | 0, 0);
  buf.writeUInt32LE(d.arch >>> 0, 4);
  buf.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return buf;
}

/** Runs the filter and returns its 32-bit verdict and the instructions executed. */
export function runFilter(filter: Buffer, d: SeccompData): { ret: number; steps: number } {
  const insns = decode(filter);
  const data = seccompData(d);
  let a = 0;
  let pc = 0;
  for (let steps = 1; ; steps++) {
    const insn = insns[pc];
    if (insn === undefined) throw new Error(`pc ${pc} out of program`);
    let next = pc + 1;
    switch (insn.code) {
      case LD_W_ABS:
        a = data.readUInt32LE(insn.k);
        break;
      case ALU_AND_K:
        a = (a & insn.k) >>> 0;
        break;
      case JA:
        next += insn.k;
        break;
      case JEQ_K:
        next += a === insn.k ? insn.jt : insn.jf;
        break;
      case JGT_K:
        next += a > insn.k ? insn.jt : insn.jf;
        break;
      case JGE_K:
        next += a >= insn.k ? insn.jt : insn.jf;
        break;
      case JSET_K:
        next += (a & insn.k) !== 0 ? insn.jt : insn.jf;
        break;
      case RET_K:
        return { ret: insn.k, steps };
      default:
        throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not implemented`);
    }
    pc = next;
  }
}
