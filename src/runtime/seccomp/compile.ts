// The seccomp compiler: OCI LinuxSeccomp profile -> classic BPF program for
// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog).
//
// Program shape (the code is emitted backwards, see BackwardEmitter):
//
//   ld  seccomp_data.arch
//   jeq AUDIT_ARCH_<native>  -> section    (one jeq per ABI family in the filter)
//   ...
//   ret BAD_ARCH_ACTION
//   section AUDIT_ARCH_X86_64:  ld nr; jge X32_SYSCALL_BIT -> x32 part : x86_64 part
//   section other:              ld nr; <search tree>
//   search tree:  jge pivot -> right : left  ...  leaves: jeq nr -> handler, last miss -> ret default
//   handler: the syscall's rules in profile order; each rule checks its
//            conditions (all must hold) and returns its action, a failed
//            condition falls to the next rule, the last to the default action.
//
// Semantics follow runc + libseccomp where the OCI spec leaves room:
// - syscall names an ABI does not have are skipped silently (profiles list
//   syscalls for every arch at once);
// - rules whose action equals the default action are dropped (runc does this;
//   libseccomp refuses them);
// - several rules for one syscall are tried in profile order and the first
//   whose conditions all hold decides (libseccomp instead merges them into a
//   tree where an unconditional rule overrides conditional ones; profiles that
//   depend on that difference are ambiguous anyway);
// - several conditions in one rule are ANDed, including several on the same
//   argument (libseccomp >= 2.4; note runc instead splits a rule with repeated
//   argument indexes into one rule per condition, i.e. ORs them);
// - on 32-bit ABIs (x86, x32, arm) only the low 32 bits of an argument are
//   compared, with operands truncated to 32 bits, as libseccomp does;
// - on x86 (i386), rules for socket and SysV IPC calls also match the
//   socketcall(2)/ipc(2) multiplexer with arg0 selecting the call (libseccomp's
//   abi_rule_add), replacing the rule's own arg0 conditions there.

import type { LinuxSeccomp } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../util/errors.js';
import {
  BackwardEmitter,
  BPF_ALU_AND_K,
  BPF_JMP_JEQ_K,
  BPF_JMP_JGE_K,
  BPF_JMP_JGT_K,
  BPF_LD_W_ABS,
  BPF_MAXINSNS,
  encodeProgram,
  type Label,
  type SockFilter,
} from './bpf.js';
import { type Condition, type NormalizedProfile, normalizeProfile, SECCOMP_RET } from './profile.js';
import {
  ARCH_IS_32BIT,
  AUDIT_ARCH,
  type HostArch,
  multiplexedSyscall,
  type SeccompArch,
  syscallNumber,
  X32_SYSCALL_BIT,
} from './syscalls.js';

export interface CompiledSeccomp {
  /** struct sock_filter[] (8 bytes each, little-endian), ready for struct sock_fprog. */
  filter: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
  flags: number;
}

/**
 * What a syscall from an ABI not in the filter gets. libseccomp's default
 * for SCMP_FLTATR_ACT_BADARCH is SCMP_ACT_KILL (= SECCOMP_RET_KILL_THREAD),
 * and runc does not change it, so neither do we: a container that switches
 * ABI to slip past the filter dies.
 */
export const BAD_ARCH_ACTION = SECCOMP_RET.KILL_THREAD;

// struct seccomp_data offsets. Arguments are u64; all supported ABIs are
// little-endian, so the low word comes first.
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (index: number): number => 16 + 8 * index;
const argHigh = (index: number): number => 16 + 8 * index + 4;

/** Syscalls per leaf of the search tree: linear jeq runs beat more jge levels at this size. */
const LEAF_SIZE = 4;

/** One rule as it applies to one syscall number. */
interface Entry {
  conditions: Condition[];
  action: number;
}

/** Where a search-tree leaf sends a syscall: straight to a RET, or to a handler's code. */
type Target = { ret: number } | { label: Label };

/** Compiles `profile` for a host of `hostArch`. Throws InvalidArgument for a bad profile. */
export function compileSeccomp(profile: LinuxSeccomp, hostArch: HostArch): CompiledSeccomp {
  const norm = normalizeProfile(profile, hostArch);
  const gen = new Generator(norm.defaultAction);
  const program = gen.program(sectionsOf(norm));
  if (program.length > BPF_MAXINSNS) {
    throw invalidArgument(
      `seccomp: the compiled filter has ${program.length} instructions, more than the kernel's limit of ` +
        `${BPF_MAXINSNS} (BPF_MAXINSNS); use fewer rules or argument conditions`,
    );
  }
  return { filter: encodeProgram(program), flags: norm.flags };
}

/** The rules of one ABI family, keyed by the value of seccomp_data.arch. */
interface Section {
  audit: number;
  /** x86_64 (or another 64/32-bit ABI) rules for nr < X32_SYSCALL_BIT. */
  main?: Map<number, Entry[]>;
  mainIs32: boolean;
  /** x32 rules (numbers include X32_SYSCALL_BIT); only for AUDIT_ARCH_X86_64. */
  x32?: Map<number, Entry[]>;
}

/** Groups the profile's ABIs by audit arch, native first (it is checked first at run time). */
function sectionsOf(profile: NormalizedProfile): Section[] {
  const sections: Section[] = [];
  for (const arch of profile.arches) {
    const audit = AUDIT_ARCH[arch];
    let section = sections.find((s) => s.audit === audit);
    if (section === undefined) {
      section = { audit, mainIs32: false };
      sections.push(section);
    }
    if (arch === 'x32') {
      section.x32 = rulesFor(profile, arch);
    } else {
      section.main = rulesFor(profile, arch);
      section.mainIs32 = ARCH_IS_32BIT[arch];
    }
  }
  return sections;
}

/** Per syscall number of `arch`, the rules that apply to it in profile order. */
function rulesFor(profile: NormalizedProfile, arch: SeccompArch): Map<number, Entry[]> {
  const byNr = new Map<number, Entry[]>();
  const add = (nr: number, entry: Entry): void => {
    const list = byNr.get(nr);
    if (list === undefined) byNr.set(nr, [entry]);
    else list.push(entry);
  };
  for (const rule of profile.rules) {
    if (rule.action === profile.defaultAction) continue;
    for (const name of rule.names) {
      const nr = syscallNumber(name, arch);
      if (nr !== undefined) add(nr, { conditions: rule.conditions, action: rule.action });
      const mux = multiplexedSyscall(name, arch);
      const muxNr = mux === undefined ? undefined : syscallNumber(mux.via, arch);
      if (mux !== undefined && muxNr !== undefined) {
        const select: Condition = { index: 0, op: 'EQ', value: BigInt(mux.call), valueTwo: 0n };
        add(muxNr, { conditions: [select, ...rule.conditions.filter((c) => c.index !== 0)], action: rule.action });
      }
    }
  }
  for (const [nr, entries] of byNr) {
    const trimmed = trimEntries(entries, profile.defaultAction);
    if (trimmed.length === 0) byNr.delete(nr);
    else byNr.set(nr, trimmed);
  }
  return byNr;
}

/** Drops rules that can never decide anything: those after an unconditional one, and a trailing unconditional default. */
function trimEntries(entries: Entry[], defaultAction: number): Entry[] {
  const firstUnconditional = entries.findIndex((e) => e.conditions.length === 0);
  const live = firstUnconditional < 0 ? entries : entries.slice(0, firstUnconditional + 1);
  const last = live[live.length - 1];
  if (last !== undefined && last.conditions.length === 0 && last.action === defaultAction) live.pop();
  return live;
}

/** Emits the program; holds the emitter and the default action. */
class Generator {
  private readonly e = new BackwardEmitter();

  constructor(private readonly defaultAction: number) {}

  program(sections: readonly Section[]): SockFilter[] {
    // Emitted last-first: the sections (in reverse), then the arch dispatch that precedes them.
    const labels = [...sections].reverse().map((s) => this.section(s)).reverse();
    let next = this.e.ret(BAD_ARCH_ACTION);
    for (let i = sections.length - 1; i >= 0; i--) {
      next = this.e.jump(BPF_JMP_JEQ_K, sections[i]!.audit, labels[i]!, next);
    }
    this.e.stmt(BPF_LD_W_ABS, OFF_ARCH, next);
    return this.e.program();
  }

  private section(s: Section): Label {
    if (s.audit !== AUDIT_ARCH.x86_64) {
      return this.e.stmt(BPF_LD_W_ABS, OFF_NR, this.tree(s.main ?? new Map(), s.mainIs32));
    }
    // x86_64 and x32 share AUDIT_ARCH_X86_64; only X32_SYSCALL_BIT in nr tells them apart.
    let high: Label;
    if (s.x32 !== undefined) {
      high = this.tree(s.x32, true);
    } else {
      // Without an x32 section, x32 calls get the bad-arch action - except nr
      // -1, which a tracer uses to skip a syscall and which seccomp sees again
      // afterwards (libseccomp lets it through to the default action too).
      high = this.e.jump(BPF_JMP_JEQ_K, 0xffffffff, this.e.ret(this.defaultAction), this.e.ret(BAD_ARCH_ACTION));
    }
    const low = s.main !== undefined ? this.tree(s.main, s.mainIs32) : this.e.ret(BAD_ARCH_ACTION);
    const split = this.e.jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, high, low);
    return this.e.stmt(BPF_LD_W_ABS, OFF_NR, split);
  }

  /** Handlers plus a search tree over syscall numbers; expects nr in A. */
  private tree(rules: Map<number, Entry[]>, is32: boolean): Label {
    const handlers = new Map<string, Label>();
    const items: { nr: number; target: Target }[] = [];
    for (const nr of [...rules.keys()].sort((a, b) => a - b)) {
      const entries = rules.get(nr)!;
      const only = entries[0]!;
      if (entries.length === 1 && only.conditions.length === 0) {
        items.push({ nr, target: { ret: only.action } });
        continue;
      }
      // Syscalls with identical rules (e.g. the i386 socket calls) share one handler.
      const key = JSON.stringify(entries, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      let label = handlers.get(key);
      if (label === undefined) {
        label = this.handler(entries, is32);
        handlers.set(key, label);
      }
      items.push({ nr, target: { label } });
    }
    return this.search(items, 0, items.length);
  }

  /** Binary search over items[lo, hi) by syscall number. */
  private search(items: readonly { nr: number; target: Target }[], lo: number, hi: number): Label {
    if (hi - lo <= LEAF_SIZE) {
      let next = this.e.ret(this.defaultAction);
      for (let i = hi - 1; i >= lo; i--) {
        const item = items[i]!;
        next = this.e.jump(BPF_JMP_JEQ_K, item.nr, this.resolve(item.target), next);
      }
      return next;
    }
    // Split on a leaf boundary so that leaves are full: fewer jge nodes.
    const leaves = Math.ceil((hi - lo) / LEAF_SIZE);
    const mid = lo + Math.floor(leaves / 2) * LEAF_SIZE;
    const right = this.search(items, mid, hi);
    const left = this.search(items, lo, mid);
    return this.e.jump(BPF_JMP_JGE_K, items[mid]!.nr, right, left);
  }

  private resolve(target: Target): Label {
    return 'ret' in target ? this.e.ret(target.ret) : target.label;
  }

  /** A syscall's rules in order: first rule whose conditions all hold returns its action. */
  private handler(entries: readonly Entry[], is32: boolean): Label {
    let next = this.e.ret(this.defaultAction);
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      let pass = this.e.ret(entry.action);
      for (let j = entry.conditions.length - 1; j >= 0; j--) {
        pass = this.condition(entry.conditions[j]!, pass, next, is32);
      }
      next = pass;
    }
    return next;
  }

  /** Code that goes to `yes` if the condition holds for the current syscall, else to `no`. */
  private condition(c: Condition, yes: Label, no: Label, is32: boolean): Label {
    switch (c.op) {
      case 'EQ':
        return this.equal(c.index, c.value, yes, no, is32);
      case 'NE':
        return this.equal(c.index, c.value, no, yes, is32);
      case 'GT':
        return this.greater(c.index, c.value, BPF_JMP_JGT_K, yes, no, is32);
      case 'GE':
        return this.greater(c.index, c.value, BPF_JMP_JGE_K, yes, no, is32);
      case 'LT': // not (arg >= value)
        return this.greater(c.index, c.value, BPF_JMP_JGE_K, no, yes, is32);
      case 'LE': // not (arg > value)
        return this.greater(c.index, c.value, BPF_JMP_JGT_K, no, yes, is32);
      case 'MASKED_EQ':
        return this.maskedEqual(c.index, c.value, c.valueTwo, yes, no, is32);
    }
  }

  /** arg == value: both 32-bit halves equal. */
  private equal(index: number, value: bigint, yes: Label, no: Label, is32: boolean): Label {
    const low = this.e.stmt(BPF_LD_W_ABS, argLow(index), this.e.jump(BPF_JMP_JEQ_K, lo32(value), yes, no));
    if (is32) return low;
    return this.e.stmt(BPF_LD_W_ABS, argHigh(index), this.e.jump(BPF_JMP_JEQ_K, hi32(value), low, no));
  }

  /** Unsigned arg > value (jgt) or arg >= value (jge): decided by the high word unless it ties. */
  private greater(index: number, value: bigint, jump: number, yes: Label, no: Label, is32: boolean): Label {
    const low = this.e.stmt(BPF_LD_W_ABS, argLow(index), this.e.jump(jump, lo32(value), yes, no));
    if (is32) return low;
    const tie = this.e.jump(BPF_JMP_JEQ_K, hi32(value), low, no);
    return this.e.stmt(BPF_LD_W_ABS, argHigh(index), this.e.jump(BPF_JMP_JGT_K, hi32(value), yes, tie));
  }

  /** (arg & mask) == datum, word by word. */
  private maskedEqual(index: number, mask: bigint, datum: bigint, yes: Label, no: Label, is32: boolean): Label {
    const lowCmp = this.e.jump(BPF_JMP_JEQ_K, lo32(datum), yes, no);
    const low = this.e.stmt(BPF_LD_W_ABS, argLow(index), this.e.stmt(BPF_ALU_AND_K, lo32(mask), lowCmp));
    // (high & 0) == 0 always holds: skip the high word for masks that only cover the low one.
    if (is32 || (hi32(mask) === 0 && hi32(datum) === 0)) return low;
    const highCmp = this.e.jump(BPF_JMP_JEQ_K, hi32(datum), low, no);
    return this.e.stmt(BPF_LD_W_ABS, argHigh(index), this.e.stmt(BPF_ALU_AND_K, hi32(mask), highCmp));
  }
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
