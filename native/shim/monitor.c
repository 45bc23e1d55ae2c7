/* The monitor's poll loop (after conmon): one thread, one poll(), non-blocking fds.
 * It reads the container's output and hands it to the log and to the attach clients,
 * feeds stdin, serves the control socket, watches for OOM kills and, on SIGCHLD,
 * reaps; once the container is gone and its output drained it writes the exit file,
 * lets attach clients take the rest of their output and returns. */
#include "io.h"
#include "monitor_internal.h"
#include "sync.h"

#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum phase { RUNNING, DRAINING, FLUSHING };

/* ---- shared helpers ---- */

int mon_set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int socket_path(struct monitor *m, const char *name, struct sockaddr_un *addr,
                       struct berr *err) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  int n = snprintf(addr->sun_path, sizeof addr->sun_path, "%s/%s", m->cfg->state_dir, name);
  if (n > 0 && (size_t)n < sizeof addr->sun_path)
    return 0;
  /* Too long for sun_path: reach the directory through our own fd to it. */
  n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", m->dir_fd, name);
  if (n > 0 && (size_t)n < sizeof addr->sun_path)
    return 0;
  return berr_msg(err, "socket name %s is too long", name);
}

int mon_listen_unix(struct monitor *m, const char *name, struct berr *err) {
  char tmp[64];
  struct sockaddr_un addr;
  snprintf(tmp, sizeof tmp, ".%s.%d.tmp", name, (int)getpid());
  if (socket_path(m, tmp, &addr, err) < 0)
    return -1;
  unlinkat(m->dir_fd, tmp, 0);
  cleanup_fd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return berr_sys(err, "socket for %s/%s", m->cfg->state_dir, name);
  mode_t old = umask(0177); /* the socket is born 0600: no window for others */
  int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (rc < 0)
    return berr_sys(err, "bind %s/%s", m->cfg->state_dir, tmp);
  if (listen(fd, 32) < 0) {
    berr_sys(err, "listen on %s/%s", m->cfg->state_dir, tmp);
    unlinkat(m->dir_fd, tmp, 0);
    return -1;
  }
  /* Appear under the real name only once connectable (replaces a stale socket). */
  if (renameat(m->dir_fd, tmp, m->dir_fd, name) < 0) {
    berr_sys(err, "rename %s/%s to %s", m->cfg->state_dir, tmp, name);
    unlinkat(m->dir_fd, tmp, 0);
    return -1;
  }
  int ret = fd;
  fd = -1;
  return ret;
}

void mon_unlink_socket(struct monitor *m, const char *name) {
  if (m->dir_fd >= 0)
    unlinkat(m->dir_fd, name, 0);
}

void mon_format_time(char out[40], const struct timespec *ts) {
  struct tm tm;
  time_t secs = ts->tv_sec;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 40 - n, ".%09ldZ", (long)ts->tv_nsec);
}

int mon_write_state_file(struct monitor *m, const char *name, const char *data, size_t len,
                         struct berr *err) {
  if (write_file_atomic(m->dir_fd, name, data, len) < 0)
    return berr_sys(err, "writing %s/%s", m->cfg->state_dir, name);
  return 0;
}

void mon_close_io_fd(struct monitor *m, int *fdp) {
  int fd = *fdp;
  if (fd < 0)
    return;
  *fdp = -1;
  /* With a terminal, stdin and stdout may be the same pty master fd. */
  if (m->out_fd[MON_STDOUT] == fd || m->out_fd[MON_STDERR] == fd || m->in.fd == fd ||
      m->tty_fd == fd)
    return;
  close(fd);
}

long long mon_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void warn(const char *what, const struct berr *err) {
  fprintf(stderr, "berth-shim: monitor: %s: %s\n", what, err->msg);
}

/* ---- the container's output ---- */

static void output_eof(struct monitor *m, int stream) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  mon_log_flush(&m->log, stream, &now);
  mon_close_io_fd(m, &m->out_fd[stream]);
  if (m->cfg->terminal) {
    /* Every slave fd is closed: no one can read input either. The master itself stays
     * open (tty_fd) until the container has exited. */
    m->in.len = 0;
    m->in.close_pending = 0;
    mon_close_io_fd(m, &m->in.fd);
  }
}

static void read_output(struct monitor *m, int stream) {
  char buf[MON_READ_CHUNK];
  ssize_t n = read(m->out_fd[stream], buf, sizeof buf);
  if (n > 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    mon_log_write(&m->log, stream, buf, (size_t)n, &now);
    mon_attach_broadcast(m, stream, buf, (size_t)n);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  /* 0: the pipe's writers are all gone; EIO: the pty's slave side is closed. */
  output_eof(m, stream);
}

/* ---- signals ---- */

static int setup_signals(struct monitor *m, struct berr *err) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM); /* the shim must outlive these: kill goes through ctl.sock */
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return berr_sys(err, "block signals");
  struct sigaction sa = {.sa_handler = SIG_IGN};
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGPIPE, &sa, NULL) < 0)
    return berr_sys(err, "ignore SIGPIPE");
  m->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (m->sig_fd < 0)
    return berr_sys(err, "signalfd");
  return 0;
}

static void handle_signals(struct monitor *m) {
  struct signalfd_siginfo si[16];
  int child = 0;
  for (;;) {
    ssize_t n = read(m->sig_fd, si, sizeof si);
    if (n <= 0)
      break;
    for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++)
      if (si[i].ssi_signo == SIGCHLD)
        child = 1;
    /* SIGTERM, SIGINT, SIGHUP: read and ignored. */
  }
  if (child)
    mon_reap(m);
}

/* ---- setup and teardown ---- */

static int setup(struct monitor *m, struct monitor_io *io, struct berr *err) {
  const struct monitor_config *cfg = m->cfg;
  if (setup_signals(m, err) < 0)
    return -1;
  if (!cfg->state_dir)
    return berr_msg(err, "no state directory");
  m->dir_fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->dir_fd < 0)
    return berr_sys(err, "open state directory %s", cfg->state_dir);

  int fds[3] = {io->stdin_fd, io->stdout_fd, cfg->terminal ? -1 : io->stderr_fd};
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0 && mon_set_nonblock(fds[i]) < 0)
      return berr_sys(err, "make fd %d non-blocking", fds[i]);
  if (cfg->terminal && io->stderr_fd >= 0 && io->stderr_fd != io->stdout_fd &&
      io->stderr_fd != io->stdin_fd)
    close(io->stderr_fd);
  m->in.fd = io->stdin_fd;
  m->in.is_tty = cfg->terminal;
  m->tty_fd = cfg->terminal ? io->stdout_fd : -1;
  m->out_fd[MON_STDOUT] = io->stdout_fd;
  m->out_fd[MON_STDERR] = fds[2];
  io->stdin_fd = io->stdout_fd = io->stderr_fd = -1; /* ours now */

  if (mon_log_open(&m->log, cfg, err) < 0)
    return -1;
  struct berr oerr = {.op = -1};
  if (mon_oom_open(m, &oerr) < 0)
    warn("OOM watch disabled", &oerr); /* the container runs on without it */
  if (mon_attach_open(m, err) < 0 || mon_ctl_open(m, err) < 0)
    return -1;
  /* It must be our child, or no SIGCHLD would ever end the loop. */
  siginfo_t si;
  if (waitid(P_PID, (id_t)m->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
    return berr_sys(err, "watch container process %d", (int)m->pid);
  /* The container may have exited before SIGCHLD was blocked: look once. */
  mon_reap(m);
  return 0;
}

static void close_everything(struct monitor *m) {
  mon_close_io_fd(m, &m->in.fd);
  mon_close_io_fd(m, &m->out_fd[MON_STDOUT]);
  mon_close_io_fd(m, &m->out_fd[MON_STDERR]);
  mon_close_io_fd(m, &m->tty_fd);
  mon_ctl_close(m);
  mon_attach_close(m);
  mon_oom_close(m);
  mon_log_close(&m->log);
  if (m->sig_fd >= 0)
    close(m->sig_fd);
  m->sig_fd = -1;
  if (m->dir_fd >= 0)
    close(m->dir_fd);
  m->dir_fd = -1;
}

/* The container's network namespace goes with it: with its processes gone the kernel then
 * deletes its veth pairs, and berthd has nothing left to unmount (it may be down). Done
 * before the exit file, so whoever reads "exit" finds the namespace gone. */
static void unmount_on_exit(const struct monitor_config *cfg) {
  for (int i = 0; i < cfg->n_exit_unmounts; i++) {
    if (umount2(cfg->exit_unmounts[i], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
      fprintf(stderr, "berth-shim: unmounting %s: %s\n", cfg->exit_unmounts[i], strerror(errno));
    unlink(cfg->exit_unmounts[i]);
  }
}

/* The monitor cannot do its job: do not leave an unwatched container behind. */
static int give_up(struct monitor *m, const char *what, const struct berr *err) {
  warn(what, err);
  siginfo_t si;
  if (!m->exited && waitid(P_PID, (id_t)m->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
    /* Only a child of ours is killed: a wrong pid must not hit a stranger. */
    kill(m->pid, SIGKILL);
    int status = SIGKILL; /* as a wait status: killed by SIGKILL */
    while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR)
      ;
    m->exited = 1;
    m->status = status;
    clock_gettime(CLOCK_REALTIME, &m->finished_at);
  }
  struct berr xerr = {.op = -1};
  if (m->exited) unmount_on_exit(m->cfg);
  if (m->exited && m->dir_fd >= 0 && mon_write_exit(m, &xerr) < 0)
    warn("exit file", &xerr);
  mon_unlink_socket(m, "attach.sock");
  mon_unlink_socket(m, "ctl.sock");
  close_everything(m);
  return 1;
}

/* Output drained: log the rest, write the exit file, stop serving ctl and new
 * attach clients. Returns 0 when the exit file was written. */
static int finish(struct monitor *m) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  mon_close_io_fd(m, &m->in.fd);
  for (int s = MON_STDOUT; s <= MON_STDERR; s++) {
    mon_log_flush(&m->log, s, &now);
    mon_close_io_fd(m, &m->out_fd[s]);
  }
  mon_close_io_fd(m, &m->tty_fd); /* the container is gone: hanging up harms no one */
  mon_log_close(&m->log);
  mon_oom_final_check(m);
  unmount_on_exit(m->cfg);
  struct berr err = {.op = -1};
  int rc = mon_write_exit(m, &err);
  if (rc < 0)
    warn("exit file", &err);
  mon_ctl_close(m);
  if (m->attach.listen_fd >= 0) {
    close(m->attach.listen_fd);
    m->attach.listen_fd = -1;
    mon_unlink_socket(m, "attach.sock");
  }
  mon_oom_close(m);
  return rc < 0 ? 1 : 0;
}

#define MAX_POLL (5 + 1 + MON_ATTACH_MAX_CLIENTS + 1 + MON_CTL_MAX_CLIENTS)

/* Tell the caller the monitor is serving (or why it cannot), then let go of its socket. */
static void report_ready(struct monitor_io *io, pid_t pid, const struct berr *err) {
  if (io->ready_fd < 0)
    return;
  if (err)
    msg_send_error(io->ready_fd, err);
  else
    msg_send(io->ready_fd, MSG_READY, pid, 0, NULL, 0);
  close(io->ready_fd);
  io->ready_fd = -1;
}

int monitor_run(const struct monitor_config *cfg, pid_t container_pid, struct monitor_io *io) {
  struct monitor m;
  memset(&m, 0, sizeof m);
  m.cfg = cfg;
  m.pid = container_pid;
  m.dir_fd = m.sig_fd = -1;
  m.out_fd[0] = m.out_fd[MON_STDOUT] = m.out_fd[MON_STDERR] = m.tty_fd = -1;
  m.in.fd = -1;
  m.log.fd = -1;
  m.attach.listen_fd = m.ctl.listen_fd = -1;
  for (int i = 0; i < MON_ATTACH_MAX_CLIENTS; i++)
    m.attach.clients[i].fd = -1;
  for (int i = 0; i < MON_CTL_MAX_CLIENTS; i++)
    m.ctl.clients[i].fd = -1;
  m.oom.fd = m.oom.v1_ctl_fd = -1;

  struct berr err = {.op = -1};
  if (setup(&m, io, &err) < 0) {
    /* fds the setup did not take over are still the caller's to close: take them. */
    int left[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
    for (int i = 0; i < 3; i++)
      if (left[i] >= 0 && (i == 0 || left[i] != left[i - 1]))
        close(left[i]);
    io->stdin_fd = io->stdout_fd = io->stderr_fd = -1;
    report_ready(io, container_pid, &err);
    return give_up(&m, "setup", &err);
  }
  report_ready(io, container_pid, NULL);

  enum phase phase = RUNNING;
  long long deadline = 0;
  int rc = 1;
  for (;;) {
    long long now = mon_now_ms();
    if (phase == RUNNING && m.exited) {
      phase = DRAINING;
      deadline = now + MON_DRAIN_MS;
    }
    if (phase == DRAINING &&
        ((m.out_fd[MON_STDOUT] < 0 && m.out_fd[MON_STDERR] < 0) || now >= deadline)) {
      rc = finish(&m);
      phase = FLUSHING;
      deadline = now + MON_FLUSH_MS;
    }
    if (phase == FLUSHING && (!mon_attach_pending(&m) || now >= deadline))
      break;

    struct pollfd pfds[MAX_POLL];
    size_t n = 0;
    pfds[n++] = (struct pollfd){.fd = m.sig_fd, .events = POLLIN};
    pfds[n++] = (struct pollfd){.fd = m.out_fd[MON_STDOUT], .events = POLLIN};
    pfds[n++] = (struct pollfd){.fd = m.out_fd[MON_STDERR], .events = POLLIN};
    short in_events = mon_stdin_events(&m);
    pfds[n++] = (struct pollfd){.fd = in_events ? m.in.fd : -1, .events = in_events};
    pfds[n++] = (struct pollfd){.fd = m.oom.fd, .events = POLLIN};
    size_t attach_at = n;
    n += mon_attach_pollfds(&m, pfds + n, phase != FLUSHING);
    size_t ctl_at = n;
    n += mon_ctl_pollfds(&m, pfds + n);

    int timeout = -1;
    if (phase != RUNNING)
      timeout = deadline > now ? (int)(deadline - now) : 0;
    long long oom_due = m.oom.recheck_at;
    if (oom_due > 0) {
      int t = oom_due > now ? (int)(oom_due - now) : 0;
      if (timeout < 0 || t < timeout)
        timeout = t;
    }

    int ready = poll(pfds, n, timeout);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      berr_sys(&err, "poll");
      if (phase == FLUSHING)
        break;
      return give_up(&m, "event loop", &err);
    }

    if (pfds[0].revents)
      handle_signals(&m);
    for (int s = MON_STDOUT; s <= MON_STDERR; s++)
      if (pfds[s].revents && pfds[s].fd == m.out_fd[s])
        read_output(&m, s);
    if (pfds[3].revents && pfds[3].fd == m.in.fd)
      mon_stdin_handle(&m, pfds[3].revents);
    if ((pfds[4].revents && pfds[4].fd == m.oom.fd) ||
        (m.oom.recheck_at > 0 && mon_now_ms() >= m.oom.recheck_at))
      mon_oom_handle(&m);
    mon_attach_handle(&m, pfds + attach_at, ctl_at - attach_at);
    mon_ctl_handle(&m, pfds + ctl_at, n - ctl_at);
  }
  close_everything(&m);
  return rc;
}
