/* Stage 2: the container's init. Runs the program's container ops in order, reports
 * ready, waits for `start`, and execs the user's process. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "creds.h"
#include "exec_trampoline.h"
#include "hooks.h"
#include "io.h"
#include "rootfs.h"
#include "shim.h"
#include "sync.h"

struct init {
  struct shim *s;
  struct rootfs root;
  int host_pid;
  int fifo_fd;
  int started; /* past OP_WAIT_START: failures go to stderr, nobody is listening */
  char exec_path[4096];
};

static int write_proc(const char *path, const char *value, struct berr *err) {
  if (write_file(path, value, strlen(value)) < 0) return berr_sys(err, "writing %s", path);
  return 0;
}

static int sysctl(const struct op *op, struct berr *err) {
  char path[512];
  if (snprintf(path, sizeof path, "/proc/sys/%s", op_str(op, 0)) >= (int)sizeof path)
    return berr_msg(err, "sysctl %s: name too long", op_str(op, 0));
  if (write_file(path, op_str(op, 1), strlen(op_str(op, 1))) < 0)
    return berr_sys(err, "setting sysctl %s", op_str(op, 0));
  return 0;
}

static const char *env_path(char **envp) {
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* Find the executable now, as the process's user, so a bad command fails `create`
 * with a clear message instead of a dead container after `start`. */
static int resolve_exec(struct init *in, struct berr *err) {
  const struct op *op = program_find(&in->s->prog, OP_EXEC);
  if (!op) return berr_msg(err, "the setup program has no process to run");
  const char *file = op_str(op, 0);
  if (!*file) return berr_msg(err, "process.args must not be empty");
  if (strchr(file, '/')) {
    snprintf(in->exec_path, sizeof in->exec_path, "%s", file);
    if (access(file, X_OK) < 0) return berr_sys(err, "exec: \"%s\"", file);
    return 0;
  }
  char **envp cleanup_free = op_list(op, 2);
  if (!envp) return berr_sys(err, "allocating the environment");
  const char *path = env_path(envp);
  while (*path) {
    const char *colon = strchrnul(path, ':');
    int dirlen = (int)(colon - path);
    snprintf(in->exec_path, sizeof in->exec_path, "%.*s%s%s", dirlen, path, dirlen ? "/" : "", file);
    struct stat st;
    if (stat(in->exec_path, &st) == 0 && S_ISREG(st.st_mode) && access(in->exec_path, X_OK) == 0) return 0;
    path = *colon ? colon + 1 : colon;
  }
  errno = ENOENT;
  return berr_msg(err, "exec: \"%s\": executable file not found in $PATH", file);
}

__attribute__((noreturn)) static void do_exec(struct init *in, const struct op *op) {
  char **argv = op_list(op, 1), **envp = op_list(op, 2);
  if (!argv || !envp) {
    perror("berth: allocating the process arguments");
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &in->s->orig_mask, NULL);
  trampoline_exec(in->s->exec_fd, in->exec_path, argv, envp);
  int saved = errno;
  fprintf(stderr, "berth: exec %s: %s\n", in->exec_path, strerror(saved));
  _exit(saved == ENOENT ? 127 : 126);
}

static int wait_start(struct init *in, struct berr *err) {
  char byte;
  ssize_t n;
  do n = read(in->fifo_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) return berr_sys(err, "waiting for start");
  close(in->fifo_fd);
  in->fifo_fd = -1;
  in->started = 1;
  return 0;
}

static int sync_hooks(struct init *in, struct berr *err) {
  struct msg m;
  if (msg_send(in->s->stage_fd, MSG_HOOKS, 0, 0, NULL, 0) < 0 || msg_recv(in->s->stage_fd, &m, NULL, 0, NULL) < 0)
    return berr_sys(err, "waiting for prestart and createRuntime hooks");
  if (m.type != MSG_GO) return berr_msg(err, "prestart or createRuntime hooks failed");
  return 0;
}

/* Our pid as the host sees it, for hook state: from the first NSpid field of the
 * host's /proc, so it must be read before the pivot; 0 if it cannot be read. */
static int host_pid_from_proc(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char *line = strstr(buf, "\nNSpid:");
  return line ? atoi(line + 8) : 0;
}

/* A new network namespace starts with "lo" down; Docker's sandbox brings it up. */
static int loopback_up(struct berr *err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return berr_sys(err, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  if (rc < 0) berr_sys(err, "bringing lo up");
  close(fd);
  return rc < 0 ? -1 : 0;
}

static int run_op(struct init *in, const struct op *op, struct berr *err) {
  struct shim *s = in->s;
  switch (op->code) {
    case OP_SETHOSTNAME:
      if (sethostname(op_str(op, 0), strlen(op_str(op, 0))) < 0) return berr_sys(err, "setting the hostname");
      return 0;
    case OP_SETDOMAINNAME:
      if (setdomainname(op_str(op, 0), strlen(op_str(op, 0))) < 0) return berr_sys(err, "setting the domainname");
      return 0;
    case OP_SYSCTL: return sysctl(op, err);
    case OP_ROOT_PROPAGATION: return rootfs_propagation(op, err);
    case OP_MOUNT_ROOTFS: return rootfs_mount_snapshot(op, err);
    case OP_ROOTFS: return rootfs_setup(&in->root, op, err);
    case OP_MOUNT: return rootfs_mount(&in->root, op, err);
    case OP_MKNOD: return rootfs_mknod(&in->root, op, err);
    case OP_SYMLINK: return rootfs_symlink(&in->root, op, err);
    case OP_HOOK:
      return hook_run(&s->prog, op, in->started ? "created" : "creating", in->host_pid, &s->orig_mask, s->exec_fd, err);
    case OP_SYNC_HOOKS: return sync_hooks(in, err);
    case OP_PIVOT_ROOT: return rootfs_pivot(&in->root, op, err);
    case OP_READONLY_ROOT: return rootfs_readonly_root(err);
    case OP_READONLY_PATH: return rootfs_readonly_path(&in->root, op, err);
    case OP_MASK_PATH: return rootfs_mask_path(&in->root, op, err);
    case OP_CONSOLE: return console_setup(&in->root, op, s->console_fd, s->stage_fd, err);
    case OP_OOM_SCORE_ADJ: return write_proc("/proc/self/oom_score_adj", op_str(op, 0), err);
    case OP_RLIMIT: return creds_rlimit(op, err);
    case OP_UMASK: umask((mode_t)op_u64(op, 0)); return 0;
    case OP_USER: return creds_user(op, err);
    case OP_CHDIR: return creds_chdir(op, err);
    case OP_CLOEXEC_FROM: return creds_cloexec_from((unsigned)op_u64(op, 0), err);
    case OP_NO_NEW_PRIVS: return creds_no_new_privs(err);
    case OP_CAPS_BOUNDING: return creds_bounding(op, err);
    case OP_CAPS: return creds_caps(op, err);
    case OP_SECCOMP: return creds_seccomp(op, err);
    case OP_LSM_LABEL: return write_proc(op_str(op, 0), op_str(op, 1), err);
    case OP_REPORT_READY:
      if (resolve_exec(in, err) < 0) return -1;
      if (msg_send(s->stage_fd, MSG_READY, in->host_pid, 0, NULL, 0) < 0) return berr_sys(err, "reporting ready");
      return 0;
    case OP_WAIT_START: return wait_start(in, err);
    case OP_SESSION_KEYRING: return creds_session_keyring(op_str(op, 0), err);
    case OP_CGROUPNS:
      if (unshare(CLONE_NEWCGROUP) < 0) return berr_sys(err, "creating the cgroup namespace");
      return 0;
    case OP_PERSONALITY:
      if (personality((unsigned long)op_u64(op, 0)) < 0) return berr_sys(err, "setting the personality");
      return 0;
    case OP_LOOPBACK_UP: return loopback_up(err);
    case OP_EXEC: do_exec(in, op);
    default: return 0; /* shim and stage-1 ops */
  }
}

static void fail(struct init *in, struct berr *err) {
  if (in->started) {
    fprintf(stderr, "berth: %s\n", err->msg);
    _exit(err->errnum == ENOENT ? 127 : 126);
  }
  msg_send_error(in->s->stage_fd, err);
  _exit(1);
}

void stage2_run(struct shim *s) {
  struct init in = {.s = s, .root = {.fd = -1}, .fifo_fd = s->fifo_fd};
  struct berr err = {.op = -1};
  /* Only a caller that wires the container first (network) makes the init wait. */
  if (program_find(&s->prog, OP_WAIT_AFTER_CREATE)) {
    struct msg m;
    if (msg_recv(s->stage_fd, &m, NULL, 0, NULL) < 0 || m.type != MSG_GO) _exit(1);
    in.host_pid = m.a;
  } else if (program_find(&s->prog, OP_HOOK)) {
    in.host_pid = host_pid_from_proc(); /* only hooks need it */
  }
  umask(0); /* device nodes and mount points get exactly the modes asked for */
  if (setsid() < 0) {
    berr_sys(&err, "setsid");
    fail(&in, &err);
  }
  for (int i = 0; i < 3; i++)
    if (s->child_stdio[i] >= 0 && dup2(s->child_stdio[i], i) < 0) {
      berr_sys(&err, "setting up stdio");
      fail(&in, &err);
    }
  for (size_t i = 0; i < s->prog.nops; i++) {
    const struct op *op = &s->prog.ops[i];
    if (op->code < OP_SETHOSTNAME) continue;
    if (run_op(&in, op, &err) < 0) {
      err.op = op->index;
      fail(&in, &err);
    }
  }
  berr_msg(&err, "the setup program ended without OP_EXEC");
  fail(&in, &err);
  _exit(1);
}
