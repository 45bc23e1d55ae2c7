/* MODE_WAIT: the shim stays the container's parent for a foreground `run` or
 * `exec`: it forwards signals, relays a terminal it holds, and exits with the
 * process's status (128+signal when killed), as runc does. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "shim.h"

static struct termios saved_tty;
static int tty_raw;

static void raw_stdin(void) {
  if (!isatty(0) || tcgetattr(0, &saved_tty) < 0) return;
  struct termios raw = saved_tty;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSANOW, &raw) == 0) tty_raw = 1;
}

static void copy_winsize(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

/* Copy what is readable from one fd to another; 0 at EOF or error. */
static int relay(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR ? 1 : 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    off += w;
  }
  return 1;
}

static int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

int wait_mode_run(struct shim *s) {
  sigset_t all;
  sigfillset(&all);
  int sfd = signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    perror("berth-shim: signalfd");
    return 255;
  }
  int master = s->pty_master;
  if (master >= 0) {
    raw_stdin();
    copy_winsize(master);
  }
  int stdin_open = master >= 0, master_open = master >= 0, code = -1;
  while (code < 0 || master_open) {
    struct pollfd p[3] = {{sfd, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {master_open ? master : -1, POLLIN, 0}};
    if (poll(p, 3, code < 0 ? -1 : 100) < 0 && errno != EINTR) break;
    if (code >= 0 && !(p[2].revents & (POLLIN | POLLHUP))) break;
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si) continue;
      if (si.ssi_signo == SIGCHLD) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
          if (pid == s->init_pid) code = status_code(status);
      } else if (si.ssi_signo == SIGWINCH && master >= 0) {
        copy_winsize(master);
      } else {
        kill(s->init_pid, (int)si.ssi_signo);
      }
    }
    if (p[1].revents & (POLLIN | POLLHUP) && !relay(0, master)) stdin_open = 0;
    if (p[2].revents & (POLLIN | POLLHUP) && !relay(master, 1)) master_open = 0;
  }
  if (tty_raw) tcsetattr(0, TCSANOW, &saved_tty);
  return code < 0 ? 255 : code;
}
