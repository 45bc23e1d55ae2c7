/* The setup program: an ordered list of primitive operations that berth's
 * TypeScript planner computes from an OCI config and the shim executes.
 * Wire format (little-endian), read once from the sync socket:
 *   u32 magic 'BRT1' | u32 body length | ops...
 *   op  = u16 code | u16 argc | u32 args length | args...
 *   arg = u32 length | bytes  (strings carry their NUL; integers are u64)
 * Keep the codes in step with src/runtime/program.ts (a unit test compares them). */
#ifndef BERTH_PROGRAM_H
#define BERTH_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PROGRAM_MAGIC 0x31545242u /* "BRT1" */
#define PROGRAM_MAX_BYTES (64u << 20)
#define OP_MAX_ARGS 8

enum op_code {
  /* shim: configuration read before anything is created */
  OP_MODE = 1,              /* u64 mode (enum shim_mode) */
  OP_STATE_DIR = 2,         /* str dir for shim.pid, exit, oom, sockets */
  OP_PRESERVE_FDS = 3,      /* u64 count of fds from 3 passed on to the process */
  OP_CONSOLE_SOCKET = 4,    /* str path of a unix socket that receives the pty master */
  OP_TERMINAL = 5,          /* u64 rows, u64 cols: the process gets a pty */
  OP_MONITOR_LOG = 6,       /* str path, u64 max size, u64 max files */
  OP_MONITOR_OOM = 7,       /* str v1 memory dir, str v2 dir ("" when none) */
  OP_MONITOR_STDIN = 8,     /* u64 keep stdin open, u64 stdin once */
  OP_WAIT_AFTER_CREATE = 9, /* pause after the init exists until the caller says go */
  OP_CGROUP_BPF = 10,       /* str cgroup2 dir, bytes bpf_insn[]: device filter */
  OP_HOOK_STATE = 11,       /* str, str, str: state JSON = a + status + b + pid + c */
  OP_HOST_TOOL = 12,        /* str file, list argv, str stdin: run on the host, in order, before
                               the container is made (berthd: its network namespace and veths) */
  OP_EXIT_UNMOUNT = 13,     /* str path: detached and removed once the process has exited,
                               before the exit file (the container's network namespace) */

  /* stage 1: namespaces and cgroups, in a child of the shim */
  OP_CGROUP_JOIN = 20,   /* str cgroup v1 "tasks" (or cgroup.procs) path: write "0" */
  OP_JOIN_NS = 21,       /* u64 CLONE_NEW* type, str path */
  OP_NEW_USERNS = 22,    /* str uid_map, str gid_map, u64 deny setgroups */
  OP_UNSHARE = 23,       /* u64 CLONE_NEW* flags (not user) */
  OP_TIMENS_OFFSETS = 24,/* str text for /proc/self/timens_offsets */
  OP_CGROUP_CLONE_INTO = 25, /* str cgroup2 dir: the init is born there (clone3 CLONE_INTO_CGROUP) */

  /* stage 2: the container's init, in order */
  OP_SETHOSTNAME = 30,   /* str */
  OP_SETDOMAINNAME = 31, /* str */
  OP_SYSCTL = 32,        /* str path below /proc/sys, str value */
  OP_ROOT_PROPAGATION = 33, /* u64 MS_* propagation flag for "/" (recursive) */
  OP_ROOTFS = 34,        /* str host path of the rootfs, u64 bind it onto itself (own mount ns) */
  OP_MOUNT = 35,         /* str source, str target (in rootfs), str fstype, u64 flags,
                            str data, u64 propagation flags, u64 mount options (MOPT_*),
                            u64 recursive attr set */
  OP_MKNOD = 36,         /* str path (in rootfs), u64 mode (with type), u64 dev, u64 uid, u64 gid */
  OP_SYMLINK = 37,       /* str target, str link path (in rootfs) */
  OP_HOOK = 38,          /* str path, list argv, list env, u64 timeout s, str name (lists: NUL-terminated items) */
  OP_SYNC_HOOKS = 39,    /* ask the caller to run prestart/createRuntime hooks now */
  OP_PIVOT_ROOT = 40,    /* u64 how: 0 pivot_root, 1 MS_MOVE + chroot (--no-pivot), 2 chroot only (no mount ns) */
  OP_READONLY_ROOT = 41,
  OP_READONLY_PATH = 42, /* str */
  OP_MASK_PATH = 43,     /* str */
  OP_CONSOLE = 44,       /* u64 rows, u64 cols, u64 uid, u64 gid */
  OP_OOM_SCORE_ADJ = 45, /* str value */
  OP_RLIMIT = 46,        /* u64 resource, u64 soft, u64 hard, str name */
  OP_UMASK = 47,         /* u64 */
  OP_USER = 48,          /* u64 uid, u64 gid, bytes u32[] additional gids, u64 set groups */
  OP_CHDIR = 49,         /* str */
  OP_CLOEXEC_FROM = 50,  /* u64 first fd that must not survive exec */
  OP_NO_NEW_PRIVS = 51,
  OP_CAPS_BOUNDING = 52, /* u64 mask of capabilities kept in the bounding set */
  OP_CAPS = 53,          /* u64 effective, permitted, inheritable, ambient */
  OP_SECCOMP = 54,       /* bytes sock_filter[], u64 flags */
  OP_LSM_LABEL = 55,     /* str /proc/self/attr file, str value */
  OP_EXEC_FIFO = 56,     /* str path: opened now, waited on at OP_WAIT_START */
  OP_REPORT_READY = 57,  /* tell the caller the container is created */
  OP_WAIT_START = 58,
  OP_EXEC = 59,          /* str file, list argv, list env */
  OP_PERSONALITY = 60,   /* u64 */
  OP_CGROUPNS = 61,      /* create the cgroup namespace (the init is in its cgroups by now) */
  OP_SESSION_KEYRING = 62, /* str name: join a new session keyring (runc's default) */
  OP_LOOPBACK_UP = 63,
  OP_MOUNT_ROOTFS = 64,  /* str target (host path), str fstype, str source, str data, str cwd ("": none):
                            the container's root filesystem, mounted in its own mount namespace */   /* bring "lo" up in the (new) network namespace, as Docker's sandbox does */
};

enum shim_mode {
  MODE_EXIT = 0,    /* leave after create; the init belongs to the caller's subreaper */
  MODE_WAIT = 1,    /* stay as the parent, forward signals, exit with the process's status */
  MODE_MONITOR = 2, /* detach and monitor: logs, attach, control, exit file */
};

/* Mount options the planner decides and the executor carries out. */
enum mount_opt {
  MOPT_BIND = 1 << 0,           /* bind a host path (file or directory, as the source is);
                                   flags other than MS_REC are applied by remount */
  MOPT_RECURSIVE_ATTR = 1 << 4, /* apply the recursive attr set with mount_setattr */
};

struct op_arg {
  const unsigned char *data;
  uint32_t len;
};

struct op {
  int index; /* position in the program, for error reports */
  uint16_t code;
  uint16_t argc;
  struct op_arg args[OP_MAX_ARGS];
};

struct program {
  unsigned char *buf;
  size_t nops;
  struct op *ops;
};

int program_read(int fd, struct program *prog, struct berr *err);
void program_free(struct program *prog);

/* Typed argument access; an op with the wrong shape fails the whole program at read time. */
const char *op_str(const struct op *op, int i);
uint64_t op_u64(const struct op *op, int i);
const struct op *program_find(const struct program *prog, uint16_t code);

#endif

#ifndef BERTH_PROGRAM_LIST
#define BERTH_PROGRAM_LIST
/* Split a list argument (NUL-terminated items) into a NULL-terminated array; free() it. */
char **op_list(const struct op *op, int i);
#endif
