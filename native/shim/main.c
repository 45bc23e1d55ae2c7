/* berth-shim: reads a setup program from its caller, creates the container
 * (stage 1 and 2), and then leaves, waits, or monitors as the program's mode says.
 * Usage: berth-shim <fd of the caller's socket> [<fd to read the program from>]
 * (without the second fd the program comes over the socket).
 * berth-shim --spawner <control fd>: fork shims on request (spawner.c). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_bpf.h"
#include "io.h"
#include "monitor.h"
#include "exec_trampoline.h"
#include "host_tool.h"
#include "shim.h"
#include "spawner.h"
#include "sync.h"

static void fail(struct shim *s, struct berr *err) {
  if (s->init_pid > 0) {
    kill(s->init_pid, SIGKILL);
    waitpid(s->init_pid, NULL, 0);
  }
  msg_send_error(s->caller_fd, err);
  exit(1);
}

static int connect_console_socket(struct shim *s, struct berr *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(s->console_socket) >= sizeof addr.sun_path)
    return berr_msg(err, "console socket path %s is too long", s->console_socket);
  strcpy(addr.sun_path, s->console_socket);
  s->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->console_fd < 0 || connect(s->console_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    return berr_sys(err, "connecting to console socket %s", s->console_socket);
  return 0;
}

static int read_config(struct shim *s, struct berr *err) {
  for (size_t i = 0; i < s->prog.nops; i++) {
    const struct op *op = &s->prog.ops[i];
    err->op = op->index;
    switch (op->code) {
      case OP_MODE: s->mode = (int)op_u64(op, 0); break;
      case OP_STATE_DIR: s->state_dir = op_str(op, 0); break;
      case OP_PRESERVE_FDS: s->preserve_fds = (int)op_u64(op, 0); break;
      case OP_CONSOLE_SOCKET:
        s->console_socket = op_str(op, 0);
        if (connect_console_socket(s, err) < 0) return -1;
        break;
      case OP_TERMINAL:
        s->terminal = 1;
        s->rows = (unsigned)op_u64(op, 0);
        s->cols = (unsigned)op_u64(op, 1);
        break;
      case OP_EXEC_FIFO:
        if (mkfifo(op_str(op, 0), 0600) < 0) return berr_sys(err, "creating the exec fifo %s", op_str(op, 0));
        s->fifo_fd = open(op_str(op, 0), O_RDWR | O_CLOEXEC);
        if (s->fifo_fd < 0) return berr_sys(err, "opening the exec fifo %s", op_str(op, 0));
        break;
      case OP_CGROUP_CLONE_INTO:
        /* Opened here, in the host's mount namespace: stage 1 may join the container's first. */
        s->cgroup_into_fd = open(op_str(op, 0), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->cgroup_into_fd < 0) return berr_sys(err, "opening cgroup %s", op_str(op, 0));
        break;
      case OP_CGROUP_BPF: {
        int dfd cleanup_fd = open(op_str(op, 0), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return berr_sys(err, "opening cgroup %s", op_str(op, 0));
        if (cgroup_bpf_attach_devices(dfd, op->args[1].data, op->args[1].len / 8, err) < 0) return -1;
        break;
      }
      default: break;
    }
  }
  err->op = -1;
  return 0;
}

/* Monitor mode: leave the caller's session and process tree so that killing the
 * caller (berth-runtime, berthd) never kills the container. */
static int detach(struct shim *s, struct berr *err) {
  pid_t pid = fork();
  if (pid < 0) return berr_sys(err, "forking to detach");
  if (pid > 0) _exit(0);
  if (setsid() < 0) return berr_sys(err, "setsid");
  pid = fork();
  if (pid < 0) return berr_sys(err, "forking to detach");
  if (pid > 0) _exit(0);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return berr_sys(err, "becoming a subreaper");
  write_file("/proc/self/oom_score_adj", "-1000", 5);
  char pidtext[32];
  int n = snprintf(pidtext, sizeof pidtext, "%d\n", getpid());
  if (s->state_dir) {
    int dfd cleanup_fd = open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || write_file_atomic(dfd, "shim.pid", pidtext, (size_t)n) < 0)
      return berr_sys(err, "writing %s/shim.pid", s->state_dir);
  }
  return 0;
}

static int make_pipe(int fds[2], struct berr *err) {
  if (pipe2(fds, O_CLOEXEC) < 0) return berr_sys(err, "creating a pipe");
  return 0;
}

/* Monitor mode without a terminal: the init's stdio are pipes the monitor holds. */
static int monitor_stdio(struct shim *s, int keep_stdin, struct berr *err) {
  int in[2], out[2], errp[2];
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return berr_sys(err, "opening /dev/null");
  if (s->terminal) {
    /* The init's stdio become the pty slave; until then they are /dev/null. */
    for (int i = 0; i < 3; i++) s->child_stdio[i] = devnull;
    return 0;
  }
  if (make_pipe(out, err) < 0 || make_pipe(errp, err) < 0) return -1;
  if (keep_stdin) {
    if (make_pipe(in, err) < 0) return -1;
    s->child_stdio[0] = in[0];
    s->parent_stdio[0] = in[1];
  } else {
    s->child_stdio[0] = devnull;
  }
  s->child_stdio[1] = out[1];
  s->child_stdio[2] = errp[1];
  s->parent_stdio[1] = out[0];
  s->parent_stdio[2] = errp[0];
  return 0;
}

static void close_child_stdio(struct shim *s) {
  for (int i = 0; i < 3; i++)
    if (s->child_stdio[i] >= 0) {
      int fd = s->child_stdio[i];
      for (int j = i; j < 3; j++)
        if (s->child_stdio[j] == fd) s->child_stdio[j] = -1;
      close(fd);
    }
}

static int write_id_maps(pid_t pid, const struct op *op, struct berr *err) {
  char path[64];
  if (op_u64(op, 2)) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (write_file(path, "deny", 4) < 0) return berr_sys(err, "writing %s", path);
  }
  const char *files[2] = {"uid_map", "gid_map"};
  for (int i = 0; i < 2; i++) {
    const char *text = op_str(op, i);
    if (!*text) continue;
    snprintf(path, sizeof path, "/proc/%d/%s", pid, files[i]);
    if (write_file(path, text, strlen(text)) < 0) return berr_sys(err, "writing %s", path);
  }
  return 0;
}

static void forward_to_caller(struct shim *s, uint32_t type, struct berr *err) {
  struct msg m;
  if (msg_send(s->caller_fd, type, s->init_pid, 0, NULL, 0) < 0) {
    berr_sys(err, "reporting to the caller");
    fail(s, err);
  }
  if (type == MSG_READY) return;
  if (msg_recv(s->caller_fd, &m, NULL, 0, NULL) < 0 || m.type != MSG_GO) {
    berr_msg(err, "the caller went away before the container was created");
    fail(s, err);
  }
}

/* Drive the stages until the init reports ready (or fails). */
static void create_container(struct shim *s) {
  struct berr err = {.op = -1};
  pid_t stage1 = fork();
  if (stage1 < 0) {
    berr_sys(&err, "forking stage 1");
    fail(s, &err);
  }
  if (stage1 == 0) {
    close(s->shim_stage_fd);
    stage1_run(s);
  }
  close(s->stage_fd);
  close_child_stdio(s);
  if (s->fifo_fd >= 0) close(s->fifo_fd);
  if (s->cgroup_into_fd >= 0) close(s->cgroup_into_fd);
  int wait_after_create = program_find(&s->prog, OP_WAIT_AFTER_CREATE) != NULL;
  /* Stage 1 (MSG_INIT_PID) and the init (MSG_READY) write to the same socket: READY can come first. */
  int ready_seen = 0;
  for (;;) {
    struct msg m;
    char data[MSG_MAX_DATA + 1];
    int fd;
    if (msg_recv(s->shim_stage_fd, &m, data, sizeof data, &fd) < 0) {
      int status = 0;
      pid_t who = s->init_pid > 0 ? s->init_pid : stage1;
      waitpid(who, &status, 0);
      s->init_pid = -1;
      berr_msg(&err, "container init exited during setup (status %d) without reporting why", status);
      fail(s, &err);
    }
    switch (m.type) {
      case MSG_USERNS: {
        const struct op *op = program_find(&s->prog, OP_NEW_USERNS);
        if (!op || write_id_maps(m.a, op, &err) < 0) {
          if (op) err.op = op->index;
          fail(s, &err);
        }
        msg_send(s->shim_stage_fd, MSG_GO, 0, 0, NULL, 0);
        break;
      }
      case MSG_INIT_PID:
        s->init_pid = m.a;
        if (wait_after_create) {
          forward_to_caller(s, MSG_CREATED, &err);
          msg_send(s->shim_stage_fd, MSG_GO, s->init_pid, 0, NULL, 0);
        }
        waitpid(stage1, NULL, 0); /* the init is already on its way */
        if (ready_seen) {
          if (s->mode != MODE_MONITOR) forward_to_caller(s, MSG_READY, &err);
          return;
        }
        break;
      case MSG_HOOKS:
        forward_to_caller(s, MSG_HOOKS, &err);
        msg_send(s->shim_stage_fd, MSG_GO, 0, 0, NULL, 0);
        break;
      case MSG_CONSOLE:
        s->pty_master = fd;
        break;
      case MSG_READY:
        if (s->init_pid < 0) {
          ready_seen = 1;
          break;
        }
        /* A monitor reports ready itself, once attach.sock and ctl.sock listen. */
        if (s->mode != MODE_MONITOR) forward_to_caller(s, MSG_READY, &err);
        return;
      case MSG_ERROR:
        err.op = m.a;
        err.errnum = m.b;
        snprintf(err.msg, sizeof err.msg, "%.1000s", data);
        fail(s, &err);
        break;
      default:
        berr_msg(&err, "unexpected message %u from the container's init", m.type);
        fail(s, &err);
    }
  }
}

static int run_monitor(struct shim *s) {
  struct monitor_config cfg = {.state_dir = s->state_dir, .log_max_files = 1, .terminal = s->terminal};
  const struct op *op = program_find(&s->prog, OP_MONITOR_LOG);
  if (op) {
    cfg.log_path = op_str(op, 0);
    cfg.log_max_size = (long long)op_u64(op, 1);
    cfg.log_max_files = (int)op_u64(op, 2);
  }
  if ((op = program_find(&s->prog, OP_MONITOR_OOM))) {
    cfg.oom_v1_memory_dir = *op_str(op, 0) ? op_str(op, 0) : NULL;
    cfg.oom_v2_dir = *op_str(op, 1) ? op_str(op, 1) : NULL;
  }
  if ((op = program_find(&s->prog, OP_MONITOR_STDIN))) cfg.stdin_once = (int)op_u64(op, 1);
  const char *unmounts[8];
  for (size_t i = 0; i < s->prog.nops && cfg.n_exit_unmounts < 8; i++)
    if (s->prog.ops[i].code == OP_EXIT_UNMOUNT) unmounts[cfg.n_exit_unmounts++] = op_str(&s->prog.ops[i], 0);
  cfg.exit_unmounts = unmounts;
  struct monitor_io io = {.stdin_fd = s->parent_stdio[0], .stdout_fd = s->parent_stdio[1], .stderr_fd = s->parent_stdio[2],
                          .ready_fd = s->caller_fd};
  if (s->terminal) {
    io.stdout_fd = s->pty_master;
    io.stdin_fd = op && op_u64(op, 0) ? dup(s->pty_master) : -1;
    io.stderr_fd = -1;
  }
  return monitor_run(&cfg, s->init_pid, &io);
}

/* One shim: read the program, create the container, then exit, wait or monitor. */
static int shim_run(int caller_fd, int program_fd) {
  struct shim s = {.caller_fd = caller_fd, .console_fd = -1, .init_pid = -1, .pty_master = -1, .fifo_fd = -1, .exec_fd = -1, .cgroup_into_fd = -1,
                   .child_stdio = {-1, -1, -1}, .parent_stdio = {-1, -1, -1}};
  struct berr err = {.op = -1};
  /* Not dumpable: no process in a container can open /proc/<shim>/exe (the host
   * binary), read our memory or our fds. Stages inherit this until their exec. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  fcntl(s.caller_fd, F_SETFD, FD_CLOEXEC);
  /* A program handed over as a file is there at once; the caller may still be busy. */
  if (program_read(program_fd, &s.prog, &err) < 0 || read_config(&s, &err) < 0) fail(&s, &err);
  if (program_fd != s.caller_fd) close(program_fd);
  if ((s.exec_fd = trampoline_memfd(&err)) < 0) fail(&s, &err);
  if (s.mode == MODE_MONITOR) {
    const struct op *in = program_find(&s.prog, OP_MONITOR_STDIN);
    if (detach(&s, &err) < 0 || monitor_stdio(&s, in && op_u64(in, 0), &err) < 0) fail(&s, &err);
  }
  /* Signals wait in a queue (signalfd) rather than interrupt setup; the init restores the mask. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &s.orig_mask);
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
    berr_sys(&err, "creating the stage socket");
    fail(&s, &err);
  }
  s.shim_stage_fd = sp[0];
  s.stage_fd = sp[1];
  for (size_t i = 0; i < s.prog.nops; i++) {
    const struct op *op = &s.prog.ops[i];
    if (op->code != OP_HOST_TOOL) continue;
    err.op = op->index;
    if (run_host_tool(op, &s.orig_mask, &err) < 0) fail(&s, &err);
  }
  create_container(&s);
  switch (s.mode) {
    case MODE_EXIT: return 0;
    case MODE_WAIT: return wait_mode_run(&s);
    default: return run_monitor(&s);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    puts("berth-shim 0.1.0");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--spawner") == 0) {
    struct spawner_title title = {argv[1], (size_t)(argv[2] + strlen(argv[2]) - argv[1])};
    return spawner_run(atoi(argv[2]), title, shim_run);
  }
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: berth-shim <caller socket fd> [<program fd>]\n       berth-shim --spawner <control fd>\n");
    return 2;
  }
  int caller_fd = atoi(argv[1]);
  return shim_run(caller_fd, argc == 3 ? atoi(argv[2]) : caller_fd);
}
