/* The monitor: what berth-shim does after the container's process exists, when it
 * was asked to stay as the container's parent (monitor mode, used by berthd and by
 * `berth-runtime create --monitor`). One file per duty: monitor_log.c (json-file log
 * with rotation), monitor_attach.c (attach socket), monitor_ctl.c (control socket),
 * monitor_oom.c (OOM watch), monitor_exit.c (exit file), monitor.c (the poll loop). */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <sys/types.h>

struct monitor_config {
  const char *state_dir;    /* exit, oom, attach.sock, ctl.sock are created here */
  const char *log_path;     /* Docker json-file log; NULL: no log file */
  long long log_max_size;   /* bytes before rotation; 0: never rotate */
  int log_max_files;        /* rotated files kept (log_path.1 .. .N-1); >= 1 */
  const char *oom_v1_memory_dir; /* v1 memory cgroup dir (memory.oom_control), or NULL */
  const char *oom_v2_dir;        /* v2 cgroup dir (memory.events), or NULL */
  int terminal;             /* stdout_fd is a pty master; no separate stderr */
  const char **exit_unmounts; /* paths unmounted (detached) and removed when the process exits */
  int n_exit_unmounts;
  int stdin_once;           /* close the container's stdin as soon as any attach
                               client's input ends (it half-closes or closes);
                               0: stdin stays open until `close-stdin` on ctl.sock */
};

struct monitor_io {
  int stdin_fd;  /* write end feeding the container's stdin, -1 when none */
  int stdout_fd; /* read end of the container's stdout, or the pty master */
  int stderr_fd; /* read end of the container's stderr, -1 with a terminal */
  /* The caller's socket: told MSG_READY once the sockets listen (or MSG_ERROR), then closed; -1: none. */
  int ready_fd;
};

/* Runs until the container process exits and its output is drained; writes the
 * exit file; returns the shim's own exit status (0 when the exit file was written).
 * If the monitor cannot work (state dir, log file, sockets), it says why on stderr,
 * SIGKILLs the container (its child), writes the exit file if it can, returns 1.
 * The files and sockets in state_dir and their protocols are described at the top
 * of monitor_attach.c, monitor_ctl.c, monitor_oom.c and monitor_exit.c.
 * Takes ownership of the fds in io (all closed on return). The caller must hold no
 * other copy of the pipes' container ends (or of the pty slave), else EOF never
 * comes and the drain after exit only ends by its time bound (2 s). SIGCHLD,
 * SIGTERM, SIGINT and SIGHUP are blocked (read from a signalfd) and SIGPIPE is
 * ignored; both stay so on return. */
int monitor_run(const struct monitor_config *cfg, pid_t container_pid, struct monitor_io *io);

#endif
