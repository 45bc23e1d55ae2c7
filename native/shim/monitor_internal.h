/* Private to the monitor_*.c files: the monitor's state and each duty's entry points.
 * monitor.c owns the poll loop and calls into the duties; the duties never call
 * poll() themselves and never block (all fds are non-blocking, except the regular
 * log and state files). */
#ifndef BERTH_MONITOR_INTERNAL_H
#define BERTH_MONITOR_INTERNAL_H

#include "error.h"
#include "monitor.h"

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MON_READ_CHUNK (32 * 1024)       /* one read from the container's output */
#define MON_LOG_LINE_MAX (16 * 1024)     /* a partial line is flushed at this size */
#define MON_ATTACH_MAX_CLIENTS 32
#define MON_ATTACH_CLIENT_BUF (1024 * 1024) /* queued output beyond this drops a client */
#define MON_STDIN_BUF (64 * 1024)        /* input queued for the container's stdin */
#define MON_CTL_MAX_CLIENTS 8
#define MON_CTL_LINE_MAX 4096
#define MON_CTL_OUT_MAX (64 * 1024)
#define MON_DRAIN_MS 2000                /* after exit: wait this long for output EOF */
#define MON_FLUSH_MS 2000                /* after the exit file: time to flush attach clients */

enum { MON_STDOUT = 1, MON_STDERR = 2 }; /* Docker's stream ids, also indexes */

/* ---- log (monitor_log.c) ---- */
struct mon_log {
  const char *path;      /* NULL: no log file */
  int fd;
  long long size;        /* current size of the file at path */
  long long max_size;    /* 0: never rotate */
  int max_files;
  int failed;            /* a write failed; reported once on stderr */
  struct {
    char buf[MON_LOG_LINE_MAX];
    size_t len;
  } line[3];             /* partial line per stream (index MON_STDOUT/MON_STDERR) */
  char *batch;           /* escaped lines waiting for one write() */
  size_t batch_len, batch_cap;
};

int mon_log_open(struct mon_log *log, const struct monitor_config *cfg, struct berr *err);
/* Appends output of one stream; complete lines (and 16 KiB partial ones) are written. */
void mon_log_write(struct mon_log *log, int stream, const char *data, size_t len,
                   const struct timespec *now);
/* Writes a stream's pending partial line (at EOF of that stream). */
void mon_log_flush(struct mon_log *log, int stream, const struct timespec *now);
int mon_log_reopen(struct mon_log *log, struct berr *err);
void mon_log_close(struct mon_log *log);
/* JSON string body (no quotes) of data, escaped as Docker's json-file does; returns
 * the length written into out, which must hold 6 * len bytes. */
size_t mon_json_escape(char *out, const char *data, size_t len);

/* ---- attach (monitor_attach.c) ---- */
struct mon_client {
  int fd;                /* -1: free slot */
  char *out;             /* queued output not yet accepted by the socket */
  size_t out_off, out_len, out_cap;
  int input_done;        /* read returned 0: no more input from this client */
};

struct mon_attach {
  int listen_fd;
  struct mon_client clients[MON_ATTACH_MAX_CLIENTS];
};

/* The container's stdin as fed by attach clients; closing it is requested by
 * stdin_once or the `close-stdin` control command and happens once the queue is
 * written. With a terminal the fd is the pty master (or a dup of it): closing means
 * sending the terminal's EOF character and dropping further input. */
struct mon_stdin {
  int fd;                /* -1: none or closed */
  int is_tty;
  int close_pending;
  char buf[MON_STDIN_BUF];
  size_t len;
};

/* ---- control (monitor_ctl.c) ---- */
struct mon_ctl_client {
  int fd;                /* -1: free slot */
  char in[MON_CTL_LINE_MAX];
  size_t in_len;
  char *out;
  size_t out_len, out_cap;
  int closing;           /* close once the replies are written */
};

struct mon_ctl {
  int listen_fd;
  struct mon_ctl_client clients[MON_CTL_MAX_CLIENTS];
};

/* ---- OOM (monitor_oom.c) ---- */
struct mon_oom {
  int fd;                /* v1 eventfd or v2 inotify fd, -1 when not watching */
  int v1;                /* which of the two fd is */
  int v1_ctl_fd;         /* v1: memory.oom_control, kept open while registered */
  char *counter_path;    /* memory.oom_control (v1) or memory.events (v2) */
  int has_counter;       /* the file has an oom_kill counter (v2; v1 since Linux 4.13) */
  int event;             /* v1: the eventfd fired (the kernel notifies before it kills) */
  int rechecks_left;     /* v1: counter looks left after an event */
  long long recheck_at;  /* v1: monotonic ms of the next counter look, 0: none */
  int seen;              /* an OOM kill was seen (and the oom file written) */
};

/* ---- the monitor ---- */
struct monitor {
  const struct monitor_config *cfg;
  pid_t pid;
  int dir_fd;            /* state_dir, O_DIRECTORY */
  int sig_fd;
  int out_fd[3];         /* container output by stream id; -1 at EOF */
  int tty_fd;            /* the pty master, open until the end: closing it early would
                            hang up the terminal and SIGHUP the container's session */
  int exited;            /* the container was reaped */
  int status;            /* its wait status */
  struct timespec finished_at;
  struct mon_log log;
  struct mon_stdin in;
  struct mon_attach attach;
  struct mon_ctl ctl;
  struct mon_oom oom;
};

/* monitor.c: shared helpers */
int mon_set_nonblock(int fd);
long long mon_now_ms(void); /* CLOCK_MONOTONIC in milliseconds */
/* A listening unix stream socket at <state_dir>/<name>, mode 0600, that appears
 * atomically (bound under a temporary name, then renamed). */
int mon_listen_unix(struct monitor *m, const char *name, struct berr *err);
void mon_unlink_socket(struct monitor *m, const char *name);
/* RFC 3339 UTC with nanoseconds: 2026-11-23T04:28:19.123456789Z (31 bytes + NUL). */
void mon_format_time(char out[40], const struct timespec *ts);
/* Writes <state_dir>/<name> atomically: temp file, fsync, rename, fsync dir. */
int mon_write_state_file(struct monitor *m, const char *name, const char *data, size_t len,
                         struct berr *err);
/* Closes fd unless another of the monitor's slots still uses the same number. */
void mon_close_io_fd(struct monitor *m, int *fdp);

/* monitor_attach.c */
int mon_attach_open(struct monitor *m, struct berr *err);
void mon_attach_broadcast(struct monitor *m, int stream, const char *data, size_t len);
size_t mon_attach_pollfds(struct monitor *m, struct pollfd *pfds, int accept_input);
void mon_attach_handle(struct monitor *m, struct pollfd *pfds, size_t n);
int mon_attach_pending(struct monitor *m); /* some client still has queued output */
void mon_attach_close(struct monitor *m);
/* stdin feeding, also used by the control channel */
void mon_stdin_request_close(struct monitor *m);
short mon_stdin_events(struct monitor *m);
void mon_stdin_handle(struct monitor *m, short revents);

/* monitor_ctl.c */
int mon_ctl_open(struct monitor *m, struct berr *err);
size_t mon_ctl_pollfds(struct monitor *m, struct pollfd *pfds);
void mon_ctl_handle(struct monitor *m, struct pollfd *pfds, size_t n);
void mon_ctl_close(struct monitor *m);

/* monitor_oom.c */
int mon_oom_open(struct monitor *m, struct berr *err);
void mon_oom_handle(struct monitor *m);
/* Last look at the counters before the exit file is written. */
void mon_oom_final_check(struct monitor *m);
void mon_oom_close(struct monitor *m);

/* monitor_exit.c */
void mon_reap(struct monitor *m);
int mon_write_exit(struct monitor *m, struct berr *err);

#endif
