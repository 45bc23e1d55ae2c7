// Classic BPF (struct sock_filter) encoding and a code emitter that keeps
// every conditional jump within its 8-bit reach.

/** One struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Opcodes (linux/bpf_common.h, linux/filter.h).
export const BPF_LD_W_ABS = 0x20; // A = *(u32 *)(seccomp_data + k)
export const BPF_ALU_AND_K = 0x54; // A &= k
export const BPF_JMP_JA = 0x05; // pc += k (32-bit, unconditional)
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGT_K = 0x25;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_JMP_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** BPF_MAXINSNS: the kernel refuses longer classic programs. */
export const BPF_MAXINSNS = 4096;

/** Largest jt/jf offset a conditional jump can encode. */
const MAX_COND_JUMP = 255;

/** Size of one struct sock_filter in bytes. */
export const SOCK_FILTER_SIZE = 8;

/** Serialises instructions as the little-endian struct sock_filter array seccomp(2) takes. */
export function encodeProgram(insns: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((insn, i) => {
    const off = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(insn.code, off);
    buf.writeUInt8(insn.jt, off + 2);
    buf.writeUInt8(insn.jf, off + 3);
    buf.writeUInt32LE(insn.k >>> 0, off + 4);
  });
  return buf;
}

/** Reads a struct sock_filter array back (tests, diagnostics). */
export function decodeProgram(buf: Buffer): SockFilter[] {
  const out: SockFilter[] = [];
  for (let off = 0; off + SOCK_FILTER_SIZE <= buf.length; off += SOCK_FILTER_SIZE) {
    out.push({
      code: buf.readUInt16LE(off),
      jt: buf.readUInt8(off + 2),
      jf: buf.readUInt8(off + 3),
      k: buf.readUInt32LE(off + 4),
    });
  }
  return out;
}

/**
 * A position in the program under construction, counted from its END
 * (0 = last instruction). Labels stay valid while more code is emitted.
 */
export type Label = number;

/**
 * Builds a program backwards, from its last instruction to its first.
 *
 * Emitting backwards means every jump target already exists when the jump is
 * written, so its distance is known exactly. When a conditional jump would
 * need more than 255 instructions, a BPF_JA (32-bit offset) trampoline - or a
 * copy of the target when the target is a RET - is placed right after it.
 * That is what lets profiles with hundreds of syscalls compile without any
 * after-the-fact relaxation pass.
 */
export class BackwardEmitter {
  private readonly rev: SockFilter[] = [];
  /** The most recently emitted RET for each return value, so nearby jumps can share it. */
  private readonly rets = new Map<number, Label>();

  /** Number of instructions emitted so far. */
  get length(): number {
    return this.rev.length;
  }

  /** A RET k that a jump emitted now can reach: an existing one if near enough, else a new one. */
  ret(k: number): Label {
    const near = this.rets.get(k >>> 0);
    if (near !== undefined && this.distance(near) <= MAX_COND_JUMP) return near;
    return this.pushRet(k);
  }

  /** Emits a non-jump instruction (load, ALU) that falls through to `next`. */
  stmt(code: number, k: number, next: Label): Label {
    this.fallThroughTo(next);
    return this.push({ code, jt: 0, jf: 0, k: k >>> 0 });
  }

  /** Emits a conditional jump: if (A <op> k) goto jt else goto jf. */
  jump(code: number, k: number, jt: Label, jf: Label): Label {
    let t = jt;
    let f = jf;
    // Each trampoline lands right after the jump but pushes the other target
    // one instruction further away, so re-check both until both fit.
    for (;;) {
      if (this.distance(t) > MAX_COND_JUMP) t = this.reachable(t);
      else if (this.distance(f) > MAX_COND_JUMP) f = this.reachable(f);
      else break;
    }
    return this.push({ code, jt: this.distance(t), jf: this.distance(f), k: k >>> 0 });
  }

  /** Emits an unconditional jump to `target` (or nothing if it is next anyway). */
  goto(target: Label): Label {
    if (this.distance(target) === 0) return target;
    return this.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: this.distance(target) });
  }

  /** The finished program, first instruction first. */
  program(): SockFilter[] {
    return [...this.rev].reverse();
  }

  private pushRet(k: number): Label {
    const label = this.push({ code: BPF_RET_K, jt: 0, jf: 0, k: k >>> 0 });
    this.rets.set(k >>> 0, label);
    return label;
  }

  private push(insn: SockFilter): Label {
    this.rev.push(insn);
    return this.rev.length - 1;
  }

  /** Offset a jump emitted now would need to land on `target`. */
  private distance(target: Label): number {
    return this.rev.length - target - 1;
  }

  /** Ensures `next` is the instruction right after the one about to be emitted. */
  private fallThroughTo(next: Label): void {
    if (this.distance(next) === 0) return;
    const insn = this.rev[next];
    if (insn !== undefined && insn.code === BPF_RET_K) this.pushRet(insn.k);
    else this.goto(next);
  }

  /** A label equivalent to `target` that a conditional jump emitted now can reach. */
  private reachable(target: Label): Label {
    if (this.distance(target) <= MAX_COND_JUMP) return target;
    const insn = this.rev[target];
    // Duplicating a RET costs the same as a trampoline and saves a jump at run time.
    if (insn !== undefined && insn.code === BPF_RET_K) return this.ret(insn.k);
    return this.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: this.distance(target) });
  }
}
