/* spawn-timer: the runtime benchmark's timing helper (built by bench/runtime.ts
 * into its temp dir; not part of berth).
 *
 *   spawn-timer exec [--timeout SECONDS] -- COMMAND [ARGS...]
 *     Reads CLOCK_MONOTONIC, forks and execs COMMAND with fd 3 = the write end
 *     of a pipe, waits for it to exit (SIGKILL after the timeout), collects the
 *     16-byte stamp records (8-byte NUL-padded tag + u64 ns) written to that
 *     pipe by anything that inherited it, and prints one JSON line:
 *       {"t0":NS,"end":NS,"status":N,"timedOut":false,"stamps":{"TAG":NS,...}}
 *     COMMAND's stdout goes to /dev/null; its stderr is ours.
 *
 *   spawn-timer proxy FD          (installed as BERTH_SHIM=<this binary>)
 *     Plays berth-shim for berth-runtime and the caller for the real shim
 *     ($BENCH_REAL_SHIM): reads the whole setup program from FD, then stamps
 *     SHIMFORK, forks and execs the real shim on a fresh socketpair at the same
 *     fd number, sends it the program and relays bytes both ways until the shim
 *     exits; exits with the shim's status. Stamps go to fd $BENCH_STAMP_FD
 *     (default 3, i.e. berth-runtime --preserve-fds 1):
 *       PROXYRUN  this proxy started (berth-runtime spawned "the shim")
 *       PROGRCVD  the whole program has arrived from berth-runtime
 *       SHIMFORK  just before fork() of the real shim
 *       SHIMREDY  the shim's READY message arrived (the init is about to exec)
 *     so SHIMFORK -> PAYLOAD (stamped by the container's first instruction) is
 *     the shim's spawn-to-execve time, with the program already in hand, as when
 *     berth-runtime encodes it before spawning.
 *     $BENCH_DROP_OPS (diagnostics): comma-separated op codes to remove from the
 *     program before it is sent, e.g. "20" runs the shim without its cgroup joins. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct stamp {
  char tag[8];
  uint64_t ns;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "spawn-timer: %s: %s\n", what, strerror(errno));
  exit(125);
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

/* ---- exec mode ---- */

#define MAX_STAMPS 16

static int exec_mode(int argc, char **argv) {
  double timeout = 30;
  int i = 0;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout = atof(argv[++i]);
    else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else break;
  }
  if (i >= argc) {
    fprintf(stderr, "spawn-timer exec: no command\n");
    return 125;
  }
  char **cmd = argv + i;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) die("opening /dev/null");
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (p[1] == 3) fcntl(3, F_SETFD, 0);
    else if (dup2(p[1], 3) < 0) _exit(125);
    if (dup2(devnull, 1) < 0) _exit(125);
    execvp(cmd[0], cmd);
    fprintf(stderr, "spawn-timer: exec %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  struct stamp stamps[MAX_STAMPS];
  int nstamps = 0;
  unsigned char partial[sizeof(struct stamp)];
  size_t have = 0;
  int pipe_open = 1, exited = 0, timed_out = 0, status = 0;
  uint64_t end = 0, deadline = t0 + (uint64_t)(timeout * 1e9), drain_deadline = 0;
  while (pipe_open || !exited) {
    uint64_t t = now_ns();
    if (!exited && t >= deadline) {
      kill(pid, SIGKILL);
      timed_out = 1;
      deadline = UINT64_MAX;
    }
    /* After the command exits, something it left behind may hold the pipe: give it 2 s. */
    if (exited && drain_deadline && t >= drain_deadline) break;
    struct pollfd fds[2] = {{pipe_open ? p[0] : -1, POLLIN, 0}, {exited || pidfd < 0 ? -1 : pidfd, POLLIN, 0}};
    int wait_ms = pidfd < 0 && !exited ? 1 : 100;
    int r = poll(fds, 2, wait_ms);
    if (r < 0 && errno != EINTR) die("poll");
    if (!exited && (pidfd < 0 || (fds[1].revents & POLLIN))) {
      pid_t w = waitpid(pid, &status, pidfd < 0 ? WNOHANG : 0);
      if (w == pid) {
        end = now_ns();
        exited = 1;
        drain_deadline = end + 2000000000ull;
      }
    }
    if (pipe_open && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t n = read(p[0], partial + have, sizeof partial - have);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        pipe_open = 0;
      } else {
        have += (size_t)n;
        if (have == sizeof partial) {
          if (nstamps < MAX_STAMPS) memcpy(&stamps[nstamps++], partial, sizeof partial);
          have = 0;
        }
      }
    }
  }
  printf("{\"t0\":%llu,\"end\":%llu,\"status\":%d,\"timedOut\":%s,\"stamps\":{", (unsigned long long)t0,
         (unsigned long long)end, status_code(status), timed_out ? "true" : "false");
  for (int k = 0; k < nstamps; k++) {
    char tag[9] = {0};
    memcpy(tag, stamps[k].tag, 8);
    for (int c = 0; c < 8 && tag[c]; c++)
      if (tag[c] < 'A' || tag[c] > 'Z') tag[c] = '_';
    printf("%s\"%s\":%llu", k ? "," : "", tag, (unsigned long long)stamps[k].ns);
  }
  printf("}}\n");
  return 0;
}

/* ---- proxy mode ---- */

static int stamp_fd = 3;
static pid_t shim_pid = -1;

static void put_stamp(const char *tag, uint64_t ns) {
  struct stamp s = {{0}, ns};
  size_t n = strlen(tag);
  memcpy(s.tag, tag, n < sizeof s.tag ? n : sizeof s.tag);
  if (stamp_fd >= 0) (void)!write(stamp_fd, &s, sizeof s);
}

static void forward_signal(int sig) {
  if (shim_pid > 0) kill(shim_pid, sig);
}

/* Copies one chunk; notes when a READY message (type 4) begins a frame. */
struct frames {
  unsigned char head[16];
  size_t head_have;
  uint64_t body_left;
};

static void scan_frames(struct frames *f, const unsigned char *buf, size_t n) {
  while (n) {
    if (f->body_left) {
      size_t k = n < f->body_left ? n : (size_t)f->body_left;
      f->body_left -= k;
      buf += k;
      n -= k;
      continue;
    }
    size_t k = sizeof f->head - f->head_have;
    if (k > n) k = n;
    memcpy(f->head + f->head_have, buf, k);
    f->head_have += k;
    buf += k;
    n -= k;
    if (f->head_have == sizeof f->head) {
      uint32_t type, len;
      memcpy(&type, f->head, 4);
      memcpy(&len, f->head + 12, 4);
      if (type == 4) put_stamp("SHIMREDY", now_ns());
      f->body_left = len;
      f->head_have = 0;
    }
  }
}

/* Diagnostics only: remove every op whose code is in the comma-separated list
 * (e.g. "20" = CGROUP_JOIN) to see what those ops cost. Op layout: u16 code,
 * u16 argc, u32 args length, args (native/shim/program.h). */
static size_t drop_ops(unsigned char *prog, size_t total, const char *list) {
  size_t in = 8, out = 8;
  while (in + 8 <= total) {
    uint16_t code;
    uint32_t len;
    memcpy(&code, prog + in, 2);
    memcpy(&len, prog + in + 4, 4);
    size_t size = 8 + (size_t)len;
    if (in + size > total) break;
    int drop = 0;
    for (const char *p = list; *p;) {
      char *end;
      long c = strtol(p, &end, 10);
      if (end == p) break;
      if (c == code) drop = 1;
      p = *end == ',' ? end + 1 : end;
    }
    if (!drop) {
      memmove(prog + out, prog + in, size);
      out += size;
    }
    in += size;
  }
  uint32_t body = (uint32_t)(out - 8);
  memcpy(prog + 4, &body, 4);
  return out;
}

/* berth-runtime passes the program on a second fd (a file) when it gives one. */
static int proxy_mode(const char *fdarg, const char *progarg) {
  uint64_t started = now_ns();
  const char *env = getenv("BENCH_STAMP_FD");
  if (env) stamp_fd = atoi(env);
  put_stamp("PROXYRUN", started);
  const char *real = getenv("BENCH_REAL_SHIM");
  if (!real) {
    fprintf(stderr, "spawn-timer proxy: BENCH_REAL_SHIM is not set\n");
    return 125;
  }
  int caller = atoi(fdarg);
  fcntl(caller, F_SETFD, FD_CLOEXEC);
  if (stamp_fd >= 0) fcntl(stamp_fd, F_SETFD, 0);
  int source = progarg ? atoi(progarg) : caller;
  uint32_t header[2];
  if (read_all(source, header, sizeof header) < 0) die("reading the program header");
  if (header[1] > (64u << 20)) {
    fprintf(stderr, "spawn-timer proxy: program too large\n");
    return 125;
  }
  size_t total = sizeof header + header[1];
  unsigned char *prog = malloc(total);
  if (!prog) die("malloc");
  memcpy(prog, header, sizeof header);
  if (read_all(source, prog + sizeof header, header[1]) < 0) die("reading the program");
  if (source != caller) close(source);
  put_stamp("PROGRCVD", now_ns());
  if ((env = getenv("BENCH_DROP_OPS")) && *env) total = drop_ops(prog, total, env);

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) die("socketpair");
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(sp[1], caller) < 0) _exit(125);
    char *args[] = {(char *)real, (char *)fdarg, NULL};
    execv(real, args);
    fprintf(stderr, "spawn-timer proxy: exec %s: %s\n", real, strerror(errno));
    _exit(127);
  }
  shim_pid = pid;
  close(sp[1]);
  if (write_all(sp[0], prog, total) < 0) die("sending the program to the shim");
  put_stamp("SHIMFORK", t0);
  free(prog);

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) die("pidfd_open");
  struct frames f = {{0}, 0, 0};
  int from_shim = 1, from_caller = 1, exited = 0, status = 0;
  unsigned char buf[65536];
  while (!exited || from_shim) {
    struct pollfd fds[3] = {{from_shim ? sp[0] : -1, POLLIN, 0}, {from_caller ? caller : -1, POLLIN, 0},
                            {exited ? -1 : pidfd, POLLIN, 0}};
    int r = poll(fds, 3, exited ? 200 : -1);
    if (r < 0 && errno != EINTR) die("poll");
    if (r == 0 && exited) break; /* the shim is gone; nothing more will come */
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sp[0], buf, sizeof buf);
      if (n <= 0) from_shim = 0;
      else {
        scan_frames(&f, buf, (size_t)n);
        (void)write_all(caller, buf, (size_t)n);
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(caller, buf, sizeof buf);
      if (n <= 0) {
        from_caller = 0;
        shutdown(sp[0], SHUT_WR);
      } else (void)write_all(sp[0], buf, (size_t)n);
    }
    if (!exited && (fds[2].revents & POLLIN)) {
      if (waitpid(pid, &status, 0) == pid) exited = 1;
    }
  }
  return status_code(status);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "exec") == 0) return exec_mode(argc - 2, argv + 2);
  if (argc == 3 && strcmp(argv[1], "proxy") == 0) return proxy_mode(argv[2], NULL);
  if (argc == 3 && argv[1][0] >= '0' && argv[1][0] <= '9') return proxy_mode(argv[1], argv[2]);
  /* As BERTH_SHIM, berth-runtime runs us with a single argument: the socket's fd. */
  if (argc == 2 && argv[1][0] >= '0' && argv[1][0] <= '9') return proxy_mode(argv[1], NULL);
  fprintf(stderr, "usage: spawn-timer exec [--timeout S] -- CMD [ARGS...] | spawn-timer proxy FD\n");
  return 2;
}
