// The setup program: what berth's planner tells berth-shim to do, as an ordered
// list of primitive ops. Wire format and codes: native/shim/program.h (a unit
// test keeps the two in step).

export const Op = {
  MODE: 1,
  STATE_DIR: 2,
  PRESERVE_FDS: 3,
  CONSOLE_SOCKET: 4,
  TERMINAL: 5,
  MONITOR_LOG: 6,
  MONITOR_OOM: 7,
  MONITOR_STDIN: 8,
  WAIT_AFTER_CREATE: 9,
  CGROUP_BPF: 10,
  HOOK_STATE: 11,
  HOST_TOOL: 12,
  EXIT_UNMOUNT: 13,
  CGROUP_JOIN: 20,
  JOIN_NS: 21,
  NEW_USERNS: 22,
  UNSHARE: 23,
  TIMENS_OFFSETS: 24,
  CGROUP_CLONE_INTO: 25,
  SETHOSTNAME: 30,
  SETDOMAINNAME: 31,
  SYSCTL: 32,
  ROOT_PROPAGATION: 33,
  ROOTFS: 34,
  MOUNT: 35,
  MKNOD: 36,
  SYMLINK: 37,
  HOOK: 38,
  SYNC_HOOKS: 39,
  PIVOT_ROOT: 40,
  READONLY_ROOT: 41,
  READONLY_PATH: 42,
  MASK_PATH: 43,
  CONSOLE: 44,
  OOM_SCORE_ADJ: 45,
  RLIMIT: 46,
  UMASK: 47,
  USER: 48,
  CHDIR: 49,
  CLOEXEC_FROM: 50,
  NO_NEW_PRIVS: 51,
  CAPS_BOUNDING: 52,
  CAPS: 53,
  SECCOMP: 54,
  LSM_LABEL: 55,
  EXEC_FIFO: 56,
  REPORT_READY: 57,
  WAIT_START: 58,
  EXEC: 59,
  PERSONALITY: 60,
  CGROUPNS: 61,
  SESSION_KEYRING: 62,
  LOOPBACK_UP: 63,
  MOUNT_ROOTFS: 64,
} as const;

export type OpName = keyof typeof Op;

export const ShimMode = { exit: 0, wait: 1, monitor: 2 } as const;
export type ShimModeName = keyof typeof ShimMode;

export const MountOpt = {
  BIND: 1 << 0,
  RECURSIVE_ATTR: 1 << 4,
} as const;

/** One argument: a string (sent with its NUL), an integer (u64), raw bytes, or a list of strings. */
export type Arg = string | number | bigint | Buffer | { list: string[] };

export interface ProgramOp {
  op: OpName;
  args: Arg[];
  /** What the op does, in words, for error messages ("mounting proc on /proc"). */
  what: string;
}

function encodeArg(arg: Arg): Buffer {
  if (typeof arg === 'string') {
    if (arg.includes('\0')) throw new TypeError(`setup program: string argument contains NUL: ${JSON.stringify(arg)}`);
    return Buffer.from(arg + '\0');
  }
  if (typeof arg === 'number' || typeof arg === 'bigint') {
    const b = Buffer.alloc(8);
    // 2^64 - 1 (RLIM_INFINITY, "unlimited") arrives from JSON as 2^64, which would wrap to 0.
    const big = typeof arg === 'bigint' ? arg : arg >= 2 ** 64 - 1 ? 0xffffffffffffffffn : BigInt(arg);
    b.writeBigUInt64LE(BigInt.asUintN(64, big));
    return b;
  }
  if (Buffer.isBuffer(arg)) return arg;
  for (const item of arg.list) {
    if (item.includes('\0')) throw new TypeError(`setup program: list item contains NUL: ${JSON.stringify(item)}`);
  }
  return Buffer.from(arg.list.map((s) => s + '\0').join(''));
}

/** Serialise a program: magic 'BRT1', body length, then each op with its arguments. */
export function encodeProgram(ops: readonly ProgramOp[]): Buffer {
  // Arguments are encoded first, so the whole program is written into one buffer.
  const encodedOps = ops.map(({ op, args }) => ({ code: Op[op], args: args.map(encodeArg) }));
  let bodyLength = 0;
  for (const { args } of encodedOps) bodyLength += 8 + args.reduce((n, a) => n + 4 + a.length, 0);
  const out = Buffer.allocUnsafe(8 + bodyLength);
  out.writeUInt32LE(0x31545242, 0);
  out.writeUInt32LE(bodyLength, 4);
  let at = 8;
  for (const { code, args } of encodedOps) {
    out.writeUInt16LE(code, at);
    out.writeUInt16LE(args.length, at + 2);
    out.writeUInt32LE(args.reduce((n, a) => n + 4 + a.length, 0), at + 4);
    at += 8;
    for (const a of args) {
      out.writeUInt32LE(a.length, at);
      a.copy(out, at + 4);
      at += 4 + a.length;
    }
  }
  return out;
}
