/* Stage 1: join and create namespaces and cgroups, then fork the container's init
 * as a sibling (CLONE_PARENT) so the shim, not this short-lived stage, is its parent. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io.h"
#include "shim.h"
#include "sync.h"

static int join_cgroup(const struct op *op, struct berr *err) {
  if (write_file(op_str(op, 0), "0", 1) < 0) return berr_sys(err, "joining cgroup %s", op_str(op, 0));
  return 0;
}

static int join_ns(const struct op *op, struct berr *err) {
  const char *path = op_str(op, 1);
  int fd cleanup_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening namespace %s", path);
  if (setns(fd, (int)op_u64(op, 0)) < 0) return berr_sys(err, "joining namespace %s", path);
  return 0;
}

static int new_userns(struct shim *s, const struct op *op, struct berr *err) {
  if (unshare(CLONE_NEWUSER) < 0) return berr_sys(err, "creating a user namespace");
  struct msg m;
  if (msg_send(s->stage_fd, MSG_USERNS, getpid(), 0, NULL, 0) < 0 ||
      msg_recv(s->stage_fd, &m, NULL, 0, NULL) < 0)
    return berr_sys(err, "waiting for the uid/gid mappings");
  if (m.type != MSG_GO) return berr_msg(err, "the shim did not write the uid/gid mappings");
  (void)op;
  /* Become the namespace's root so the namespaces made next are usable. */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    return berr_sys(err, "becoming root in the user namespace (is uid/gid 0 mapped?)");
  return 0;
}

static int new_namespaces(const struct op *op, struct berr *err) {
  if (unshare((int)op_u64(op, 0)) < 0) return berr_sys(err, "creating namespaces (flags %#llx)", (unsigned long long)op_u64(op, 0));
  return 0;
}

static int timens_offsets(const struct op *op, struct berr *err) {
  const char *text = op_str(op, 0);
  if (write_file("/proc/self/timens_offsets", text, strlen(text)) < 0)
    return berr_sys(err, "writing time namespace offsets");
  return 0;
}

static int run_op(struct shim *s, const struct op *op, struct berr *err) {
  switch (op->code) {
    case OP_CGROUP_JOIN: return join_cgroup(op, err);
    case OP_JOIN_NS: return join_ns(op, err);
    case OP_NEW_USERNS: return new_userns(s, op, err);
    case OP_UNSHARE: return new_namespaces(op, err);
    case OP_TIMENS_OFFSETS: return timens_offsets(op, err);
    default: return 0;
  }
}

/* Fork the init as the shim's child. With a cgroup2 directory it is born inside it
 * (CLONE_INTO_CGROUP): unlike a write to cgroup.procs, that never takes the global
 * threadgroup lock, whose RCU grace period costs 5-20 ms per container. */
static pid_t fork_init(struct shim *s, struct berr *err) {
  const struct op *into = program_find(&s->prog, OP_CGROUP_CLONE_INTO);
  if (into) {
    /* With CLONE_PARENT the exit signal is inherited (stage 1's SIGCHLD); clone3 insists on 0. */
    struct clone_args args = {.flags = CLONE_PARENT | CLONE_INTO_CGROUP, .exit_signal = 0, .cgroup = (uint64_t)s->cgroup_into_fd};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL)) {
      if (pid < 0) berr_sys(err, "forking the container's init into cgroup %s", op_str(into, 0));
      return pid;
    }
    /* No clone3 (kernels before 5.7): join the usual way, then fork. */
    int procs cleanup_fd = openat(s->cgroup_into_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (procs < 0 || write(procs, "0", 1) != 1) return berr_sys(err, "joining cgroup %s", op_str(into, 0));
  }
  /* A raw clone: the child starts here like fork(), in the new pid namespace if one was made. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) berr_sys(err, "forking the container's init");
  return pid;
}

void stage1_run(struct shim *s) {
  struct berr err = {.op = -1};
  for (size_t i = 0; i < s->prog.nops; i++) {
    const struct op *op = &s->prog.ops[i];
    if (run_op(s, op, &err) < 0) {
      err.op = op->index;
      msg_send_error(s->stage_fd, &err);
      _exit(1);
    }
  }
  pid_t pid = fork_init(s, &err);
  if (pid < 0) {
    msg_send_error(s->stage_fd, &err);
    _exit(1);
  }
  if (pid == 0) stage2_run(s);
  msg_send(s->stage_fd, MSG_INIT_PID, pid, 0, NULL, 0);
  _exit(0);
}
