/* The control socket, <state_dir>/ctl.sock (unix stream, mode 0600).
 * Text protocol: one command per line (\n, an \r before it is ignored), one reply
 * line per command, in order: "ok" or "error <message>". A connection may carry
 * any number of commands; commands are executed even if the client has already
 * closed its end. Commands:
 *   resize <rows> <cols>   set the pty's window size (TIOCSWINSZ); error without a terminal
 *   kill <signum>          send signal 0..SIGRTMAX to the container process; error once it exited
 *   reopen-log             reopen the log path (after an external rotation)
 *   close-stdin            close the container's stdin once queued input is written
 *   ping                   "ok" once every attach client that connected before it was accepted
 * A line longer than 4 KiB gets "error command too long" and the connection is closed. */
#include "monitor_internal.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int mon_ctl_open(struct monitor *m, struct berr *err) {
  m->ctl.listen_fd = mon_listen_unix(m, "ctl.sock", err);
  return m->ctl.listen_fd < 0 ? -1 : 0;
}

static void drop(struct mon_ctl_client *c) {
  if (c->fd >= 0)
    close(c->fd);
  free(c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static int reply(struct mon_ctl_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reply(struct mon_ctl_client *c, const char *fmt, ...) {
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  if ((size_t)n > sizeof line - 2)
    n = sizeof line - 2;
  for (int i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r')
      line[i] = ' '; /* one reply, one line */
  line[n++] = '\n';
  if (c->out_len + (size_t)n > MON_CTL_OUT_MAX)
    return -1; /* the client sends commands but never reads the replies */
  if (c->out_len + (size_t)n > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap * 2 : 1024;
    while (cap < c->out_len + (size_t)n)
      cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p)
      return -1;
    c->out = p;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, line, (size_t)n);
  c->out_len += (size_t)n;
  return 0;
}

/* A decimal number in [min, max], the whole word; -1 when it is not one. */
static long parse_num(const char *s, long min, long max) {
  if (!s || *s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max)
    return -1;
  return v;
}

static int execute(struct monitor *m, struct mon_ctl_client *c, char *line) {
  char *args[4] = {0};
  int argc = 0;
  char *save = NULL;
  for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
    if (argc == 4)
      return reply(c, "error too many arguments");
    args[argc++] = w;
  }
  if (argc == 0)
    return reply(c, "error empty command");
  const char *cmd = args[0];

  /* A barrier: clients that connected to attach.sock before this command was sent have been
   * accepted by the time it is answered (attach is handled before ctl in each poll round), so
   * a caller can release the process knowing they will see its first byte. */
  if (strcmp(cmd, "ping") == 0)
    return argc == 1 ? reply(c, "ok") : reply(c, "error usage: ping");
  if (strcmp(cmd, "resize") == 0) {
    long rows = parse_num(args[1], 0, 65535), cols = parse_num(args[2], 0, 65535);
    if (argc != 3 || rows < 0 || cols < 0)
      return reply(c, "error usage: resize <rows> <cols>");
    if (!m->cfg->terminal)
      return reply(c, "error the container has no terminal");
    if (m->tty_fd < 0)
      return reply(c, "error the terminal is closed");
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (ioctl(m->tty_fd, TIOCSWINSZ, &ws) < 0)
      return reply(c, "error resize: %s", strerror(errno));
    return reply(c, "ok");
  }
  if (strcmp(cmd, "kill") == 0) {
    long sig = parse_num(args[1], 0, SIGRTMAX);
    if (argc != 2 || sig < 0)
      return reply(c, "error usage: kill <signum> (0..%d)", SIGRTMAX);
    if (m->exited)
      return reply(c, "error the container has exited");
    if (kill(m->pid, (int)sig) < 0)
      return reply(c, "error kill %d: %s", (int)m->pid, strerror(errno));
    return reply(c, "ok");
  }
  if (strcmp(cmd, "reopen-log") == 0) {
    if (argc != 1)
      return reply(c, "error usage: reopen-log");
    struct berr err = {.op = -1};
    if (mon_log_reopen(&m->log, &err) < 0)
      return reply(c, "error %s", err.msg);
    return reply(c, "ok");
  }
  if (strcmp(cmd, "close-stdin") == 0) {
    if (argc != 1)
      return reply(c, "error usage: close-stdin");
    mon_stdin_request_close(m);
    return reply(c, "ok");
  }
  return reply(c, "error unknown command \"%.64s\"", cmd);
}

/* Runs every complete line in the input buffer. Returns -1 to drop the client. */
static int run_lines(struct monitor *m, struct mon_ctl_client *c) {
  size_t start = 0;
  for (;;) {
    char *nl = memchr(c->in + start, '\n', c->in_len - start);
    if (!nl)
      break;
    *nl = '\0';
    char *line = c->in + start;
    size_t len = (size_t)(nl - line);
    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    start += len + 1;
    if (execute(m, c, line) < 0)
      return -1;
  }
  memmove(c->in, c->in + start, c->in_len - start);
  c->in_len -= start;
  if (c->in_len == sizeof c->in) {
    c->in_len = 0;
    c->closing = 1;
    if (reply(c, "error command too long") < 0)
      return -1;
  }
  return 0;
}

static int flush_out(struct mon_ctl_client *c) {
  size_t off = 0;
  while (off < c->out_len) {
    ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        break;
      return -1;
    }
    off += (size_t)n;
  }
  memmove(c->out, c->out + off, c->out_len - off);
  c->out_len -= off;
  return 0;
}

size_t mon_ctl_pollfds(struct monitor *m, struct pollfd *pfds) {
  pfds[0] = (struct pollfd){.fd = m->ctl.listen_fd, .events = POLLIN};
  for (int i = 0; i < MON_CTL_MAX_CLIENTS; i++) {
    struct mon_ctl_client *c = &m->ctl.clients[i];
    short ev = (short)((c->closing ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0));
    pfds[1 + i] = (struct pollfd){.fd = c->fd, .events = ev};
  }
  return 1 + MON_CTL_MAX_CLIENTS;
}

static void serve(struct monitor *m, struct mon_ctl_client *c, short revents) {
  if (revents & POLLERR) {
    drop(c);
    return;
  }
  if (!c->closing && (revents & (POLLIN | POLLHUP))) {
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (n > 0) {
      c->in_len += (size_t)n;
      if (run_lines(m, c) < 0) {
        drop(c);
        return;
      }
    } else if (n == 0) {
      c->closing = 1; /* no more commands; a last line without \n is ignored */
    } else if (errno != EAGAIN && errno != EINTR) {
      drop(c);
      return;
    }
  }
  if (flush_out(c) < 0 || (c->closing && c->out_len == 0)) {
    drop(c);
    return;
  }
  if ((revents & POLLHUP) && c->closing)
    drop(c); /* the peer is gone: the replies have no reader */
}

void mon_ctl_handle(struct monitor *m, struct pollfd *pfds, size_t n) {
  for (size_t i = 0; i + 1 < n && i < MON_CTL_MAX_CLIENTS; i++) {
    struct mon_ctl_client *c = &m->ctl.clients[i];
    struct pollfd *p = &pfds[1 + i];
    if (c->fd >= 0 && p->fd == c->fd && p->revents)
      serve(m, c, p->revents);
  }
  if (n > 0 && (pfds[0].revents & POLLIN) && pfds[0].fd == m->ctl.listen_fd) {
    for (;;) {
      int fd = accept4(m->ctl.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        break;
      int slot = -1;
      for (int i = 0; i < MON_CTL_MAX_CLIENTS && slot < 0; i++)
        if (m->ctl.clients[i].fd < 0)
          slot = i;
      if (slot < 0) {
        const char busy[] = "error too many control connections\n";
        if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
          /* nothing to do: it is closed either way */
        }
        close(fd);
        continue;
      }
      m->ctl.clients[slot].fd = fd;
    }
  }
}

void mon_ctl_close(struct monitor *m) {
  for (int i = 0; i < MON_CTL_MAX_CLIENTS; i++)
    if (m->ctl.clients[i].fd >= 0)
      drop(&m->ctl.clients[i]);
  if (m->ctl.listen_fd >= 0) {
    close(m->ctl.listen_fd);
    m->ctl.listen_fd = -1;
    mon_unlink_socket(m, "ctl.sock");
  }
}
