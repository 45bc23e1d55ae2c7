/* Spawner mode: a long-lived berth-shim that forks shims for berthd.
 *
 * A fork of berthd (a ~90 MiB Node process) stalls its event loop for 5-7 ms; a fork of
 * this small static process costs a fraction of a millisecond. berthd sends a request per
 * shim; the child connects back to berthd's socket (Node cannot receive fds), names the
 * request by its token, and from there on is an ordinary shim with that socket as its
 * caller.
 *
 * Requests on the control fd, each three NUL-terminated strings:
 *   <token> <berthd's unix socket path> <program file path>
 * Replies, one line each:
 *   P <token> <pid>        forked
 *   F <token> <errno>      fork failed
 *   X <pid> <status>       a child exited (exit code, or 128 + signal; 121: before it
 *                          connected back)
 * The spawner exits when the control fd reaches EOF (berthd is gone); children go on. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "spawner.h"

#define TOKEN_LEN 32
/* The exit code of a child that failed before it connected: berthd stops waiting for it.
 * Any other exit comes after the connection, which then carries the shim's own error. */
#define EXIT_NOT_CONNECTED 121
#define REQUEST_MAX 8192

static void reply(int ctl_fd, const char *line) {
  /* berthd reads the control socket continuously; a failed write means it is gone. */
  if (write_full(ctl_fd, line, strlen(line)) < 0) _exit(0);
}

/* In the child: from here on this process is a shim whose caller is berthd's socket. */
static int become_shim(const char *token, const char *socket_path, const char *program_path, spawner_shim_fn run) {
  int program_fd = open(program_path, O_RDONLY | O_CLOEXEC);
  if (program_fd < 0) {
    dprintf(2, "berth-shim: opening the program %s: %s\n", program_path, strerror(errno));
    return EXIT_NOT_CONNECTED;
  }
  unlink(program_path);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) return EXIT_NOT_CONNECTED;
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || write_full(fd, token, TOKEN_LEN) < 0) {
    dprintf(2, "berth-shim: connecting to %s: %s\n", socket_path, strerror(errno));
    return EXIT_NOT_CONNECTED;
  }
  return run(fd, program_fd);
}

static struct spawner_title own_title;

/* "berth-shim --spawner 3" becomes "berth-shim shim": the arguments are overwritten in place. */
static void retitle_as_shim(void) {
  static const char shim[] = "shim";
  if (own_title.len < sizeof shim) return;
  memset(own_title.args, 0, own_title.len);
  memcpy(own_title.args, shim, sizeof shim);
}

static void spawn_one(int ctl_fd, int sig_fd, const sigset_t *orig_mask, const char *req, spawner_shim_fn run) {
  const char *token = req;
  const char *socket_path = token + strlen(token) + 1;
  const char *program_path = socket_path + strlen(socket_path) + 1;
  char line[128];
  if (strlen(token) != TOKEN_LEN) return;
  pid_t pid = fork();
  if (pid == 0) {
    close(ctl_fd);
    close(sig_fd);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    retitle_as_shim();
    _exit(become_shim(token, socket_path, program_path, run));
  }
  if (pid < 0) snprintf(line, sizeof line, "F %s %d\n", token, errno);
  else snprintf(line, sizeof line, "P %s %d\n", token, (int)pid);
  reply(ctl_fd, line);
}

static void reap(int ctl_fd, int sig_fd) {
  struct signalfd_siginfo info;
  while (read(sig_fd, &info, sizeof info) == sizeof info) {
  }
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    char line[64];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    snprintf(line, sizeof line, "X %d %d\n", (int)pid, code);
    reply(ctl_fd, line);
  }
}

/* Hands each complete request (three NUL-terminated strings) in buf to spawn_one; returns
 * how many bytes were consumed. */
static size_t take_requests(char *buf, size_t len, int ctl_fd, int sig_fd, const sigset_t *orig_mask, spawner_shim_fn run) {
  size_t start = 0;
  for (;;) {
    int nuls = 0;
    size_t i = start;
    while (i < len && nuls < 3)
      if (buf[i++] == '\0') nuls++;
    if (nuls < 3) return start;
    spawn_one(ctl_fd, sig_fd, orig_mask, buf + start, run);
    start = i;
  }
}

int spawner_run(int ctl_fd, struct spawner_title title, spawner_shim_fn run) {
  own_title = title;
  sigset_t chld, orig_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &orig_mask);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) {
    perror("berth-shim: signalfd");
    return 1;
  }
  fcntl(ctl_fd, F_SETFD, FD_CLOEXEC);
  static char buf[REQUEST_MAX];
  size_t len = 0;
  for (;;) {
    struct pollfd fds[2] = {{.fd = ctl_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("berth-shim: poll");
      return 1;
    }
    if (fds[1].revents) reap(ctl_fd, sig_fd);
    if (!fds[0].revents) continue;
    ssize_t n = read(ctl_fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    len += (size_t)n;
    size_t used = take_requests(buf, len, ctl_fd, sig_fd, &orig_mask, run);
    memmove(buf, buf + used, len - used);
    len -= used;
    if (len == sizeof buf) {
      fputs("berth-shim: spawner request too long\n", stderr);
      return 1;
    }
  }
}
