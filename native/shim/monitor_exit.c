/* Reaping and the exit file. The shim is a child subreaper, so orphans of the
 * container may become its children: every dead child is reaped, only the
 * container's status is kept. The exit file, <state_dir>/exit, is one JSON object
 * written atomically (temp, fsync, rename, fsync dir):
 *   {"exitCode":143,"signal":15,"oomKilled":false,"finishedAt":"2026-11-23T04:28:19.123456789Z"}
 * exitCode is the exit status, or 128+signal for a death by signal (then "signal"
 * is its number, otherwise null); finishedAt is when the shim reaped it. */
#include "monitor_internal.h"

#include <stdio.h>
#include <sys/wait.h>

void mon_reap(struct monitor *m) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR)
      continue;
    if (pid <= 0)
      break; /* 0: children left but none dead; -1 (ECHILD): no children */
    if (pid == m->pid && !m->exited) {
      m->exited = 1;
      m->status = status;
      clock_gettime(CLOCK_REALTIME, &m->finished_at);
    }
  }
}

int mon_write_exit(struct monitor *m, struct berr *err) {
  int code, sig = -1;
  if (WIFSIGNALED(m->status)) {
    sig = WTERMSIG(m->status);
    code = 128 + sig;
  } else {
    code = WEXITSTATUS(m->status);
  }
  char when[40], sigbuf[16], json[256];
  mon_format_time(when, &m->finished_at);
  if (sig >= 0)
    snprintf(sigbuf, sizeof sigbuf, "%d", sig);
  else
    snprintf(sigbuf, sizeof sigbuf, "null");
  int n = snprintf(json, sizeof json,
                   "{\"exitCode\":%d,\"signal\":%s,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n", code,
                   sigbuf, m->oom.seen ? "true" : "false", when);
  return mon_write_state_file(m, "exit", json, (size_t)n, err);
}
