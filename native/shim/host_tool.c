/* Host tools the caller wants run before the container is made (OP_HOST_TOOL): berthd
 * hands the shim the commands that make a container's network namespace and veth pair,
 * so the fork happens here, in a small process, rather than in the daemon. Each runs in
 * order with its stdin given, stdout discarded and stderr kept for the error report; a
 * non-zero exit fails the create. */
#include "host_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"

static char *const TOOL_ENV[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

static void run_child(const char *file, char **argv, int in_fd, int err_fd, const sigset_t *mask) {
  int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (dup2(in_fd, 0) < 0 || null_fd < 0 || dup2(null_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
  sigprocmask(SIG_SETMASK, mask, NULL);
  execve(file, argv, TOOL_ENV);
  dprintf(2, "cannot execute %s: %s", file, strerror(errno));
  _exit(127);
}

/* Reads the child's stderr to the end, keeping the first bytes that fit. */
static void read_stderr(int fd, char *buf, size_t size) {
  size_t used = 0;
  char scratch[512];
  for (;;) {
    ssize_t n = read(fd, used + 1 < size ? buf + used : scratch, used + 1 < size ? size - 1 - used : sizeof scratch);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (used + 1 < size) used += (size_t)n;
  }
  buf[used] = '\0';
  while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ')) buf[--used] = '\0';
}

int run_host_tool(const struct op *op, const sigset_t *mask, struct berr *err) {
  const char *file = op_str(op, 0);
  char **argv cleanup_free = op_list(op, 1);
  const char *input = op_str(op, 2);
  if (!argv || !argv[0]) return berr_msg(err, "host tool %s: empty argv", file);
  int in[2], errp[2];
  if (pipe2(in, O_CLOEXEC) < 0) return berr_sys(err, "host tool %s: pipe", file);
  if (pipe2(errp, O_CLOEXEC) < 0) {
    close(in[0]);
    close(in[1]);
    return berr_sys(err, "host tool %s: pipe", file);
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]), close(in[1]), close(errp[0]), close(errp[1]);
    return berr_sys(err, "host tool %s: fork", file);
  }
  if (pid == 0) run_child(file, argv, in[0], errp[1], mask);
  close(in[0]);
  close(errp[1]);
  /* Batch input is small (a few lines): it fits the pipe, so writing first cannot deadlock. */
  int wrote = write_full(in[1], input, strlen(input));
  close(in[1]);
  char text[768];
  read_stderr(errp[0], text, sizeof text);
  close(errp[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && wrote == 0) return 0;
  if (WIFSIGNALED(status)) return berr_msg(err, "%s: killed by signal %d: %s", argv[0], WTERMSIG(status), text);
  return berr_msg(err, "%s: exit status %d: %s", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
}
