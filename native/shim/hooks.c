/* createContainer and startContainer hooks: run from the container's init, with
 * the state on stdin and a timeout (the other hooks run in the caller). */
#include "hooks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec_trampoline.h"
#include "io.h"

static int state_json(const struct program *prog, const char *status, int pid, char *buf, size_t cap) {
  const struct op *st = program_find(prog, OP_HOOK_STATE);
  if (!st) return snprintf(buf, cap, "{}");
  return snprintf(buf, cap, "%s%s%s%d%s", op_str(st, 0), status, op_str(st, 1), pid, op_str(st, 2));
}

static int wait_hook(pid_t pid, unsigned timeout, const char *name, struct berr *err) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout;
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      if (WIFEXITED(status)) return berr_msg(err, "%s hook exited with status %d", name, WEXITSTATUS(status));
      return berr_msg(err, "%s hook was killed by signal %d", name, WTERMSIG(status));
    }
    struct timespec now, left = {.tv_sec = 1};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (timeout) {
      if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return berr_msg(err, "%s hook timed out after %u s", name, timeout);
      }
      left.tv_sec = deadline.tv_sec - now.tv_sec;
    }
    sigtimedwait(&chld, NULL, &left);
  }
}

int hook_run(const struct program *prog, const struct op *op, const char *status, int pid,
             const sigset_t *orig_mask, int exec_fd, struct berr *err) {
  const char *path = op_str(op, 0), *name = op_str(op, 4);
  char **argv cleanup_free = op_list(op, 1);
  char **envp cleanup_free = op_list(op, 2);
  if (!argv || !envp) return berr_sys(err, "allocating hook arguments");
  char state[8192];
  int n = state_json(prog, status, pid, state, sizeof state);
  if (n < 0 || (size_t)n >= sizeof state) return berr_msg(err, "hook state is too large");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return berr_sys(err, "creating the hook's stdin");
  pid_t child = fork();
  if (child < 0) return berr_sys(err, "forking %s hook %s", name, path);
  if (child == 0) {
    dup2(p[0], 0);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    char *fallback[] = {(char *)path, NULL};
    trampoline_exec(exec_fd, path, argv[0] ? argv : fallback, envp);
    fprintf(stderr, "berth: exec %s hook %s: %m\n", name, path);
    _exit(127);
  }
  close(p[0]);
  /* A hook that ignores stdin must not block us: the state fits in the pipe buffer. */
  write_full(p[1], state, (size_t)n);
  close(p[1]);
  if (wait_hook(child, (unsigned)op_u64(op, 3), name, err) < 0) {
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, " (%s)", path);
    return -1;
  }
  return 0;
}
