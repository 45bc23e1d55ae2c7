/* The attach socket, <state_dir>/attach.sock (unix stream, mode 0600).
 * A client receives the container's output from the moment it connects:
 *  - without a terminal, in Docker's multiplexed framing: an 8-byte header
 *    [stream (1 stdout, 2 stderr), 0, 0, 0, payload length as big-endian u32]
 *    then the payload;
 *  - with a terminal, the raw bytes of the pty.
 * Bytes a client sends are written to the container's stdin (when it has one).
 * When a client's input ends (read returns 0), stdin is closed if the config says
 * stdin_once; otherwise it stays open for other clients. Output a client does not
 * take is queued up to 1 MiB; beyond that the client is dropped, so a slow client
 * never holds the container back. Clients are closed once the container has exited,
 * its output was drained and the exit file written (they get EOF). */
#include "monitor_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

int mon_attach_open(struct monitor *m, struct berr *err) {
  m->attach.listen_fd = mon_listen_unix(m, "attach.sock", err);
  return m->attach.listen_fd < 0 ? -1 : 0;
}

static void drop(struct mon_client *c) {
  if (c->fd >= 0)
    close(c->fd);
  free(c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

/* Queues hdr+data after the first skip bytes (those the socket already took). */
static int enqueue(struct mon_client *c, const char *hdr, size_t hlen, const char *data,
                   size_t dlen, size_t skip) {
  size_t total = hlen + dlen - skip;
  if (c->out_len + total > MON_ATTACH_CLIENT_BUF)
    return -1;
  if (c->out_off + c->out_len + total > c->out_cap) {
    if (c->out_off > 0) {
      memmove(c->out, c->out + c->out_off, c->out_len);
      c->out_off = 0;
    }
    if (c->out_len + total > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 64 * 1024;
      while (cap < c->out_len + total)
        cap *= 2;
      char *p = realloc(c->out, cap);
      if (!p)
        return -1;
      c->out = p;
      c->out_cap = cap;
    }
  }
  char *dst = c->out + c->out_off + c->out_len;
  if (skip < hlen) {
    memcpy(dst, hdr + skip, hlen - skip);
    dst += hlen - skip;
    skip = 0;
  } else
    skip -= hlen;
  memcpy(dst, data + skip, dlen - skip);
  c->out_len += total;
  return 0;
}

static int send_to(struct mon_client *c, const char *hdr, size_t hlen, const char *data,
                   size_t dlen) {
  size_t sent = 0;
  if (c->out_len == 0) {
    struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)data, dlen}};
    struct msghdr msg = {.msg_iov = hlen ? iov : iov + 1, .msg_iovlen = hlen ? 2 : 1};
    ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return -1;
    sent = n > 0 ? (size_t)n : 0;
    if (sent == hlen + dlen)
      return 0;
  }
  return enqueue(c, hdr, hlen, data, dlen, sent);
}

void mon_attach_broadcast(struct monitor *m, int stream, const char *data, size_t len) {
  unsigned char hdr[8] = {(unsigned char)stream, 0, 0, 0};
  uint32_t be = htonl((uint32_t)len);
  memcpy(hdr + 4, &be, 4);
  size_t hlen = m->cfg->terminal ? 0 : sizeof hdr;
  for (int i = 0; i < MON_ATTACH_MAX_CLIENTS; i++) {
    struct mon_client *c = &m->attach.clients[i];
    if (c->fd >= 0 && send_to(c, (const char *)hdr, hlen, data, len) < 0)
      drop(c); /* too slow, or gone */
  }
}

static int flush_out(struct mon_client *c) {
  while (c->out_len > 0) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
      return errno == EAGAIN || errno == EINTR ? 0 : -1;
    c->out_off += (size_t)n;
    c->out_len -= (size_t)n;
  }
  c->out_off = 0;
  return 0;
}

int mon_attach_pending(struct monitor *m) {
  for (int i = 0; i < MON_ATTACH_MAX_CLIENTS; i++)
    if (m->attach.clients[i].fd >= 0 && m->attach.clients[i].out_len > 0)
      return 1;
  return 0;
}

static int input_room(struct monitor *m) { return m->in.fd < 0 || m->in.len < sizeof m->in.buf; }

size_t mon_attach_pollfds(struct monitor *m, struct pollfd *pfds, int accept_input) {
  pfds[0] = (struct pollfd){.fd = m->attach.listen_fd, .events = POLLIN};
  int room = accept_input && input_room(m);
  for (int i = 0; i < MON_ATTACH_MAX_CLIENTS; i++) {
    struct mon_client *c = &m->attach.clients[i];
    short ev = (short)((room && !c->input_done ? POLLIN : 0) | (c->out_len ? POLLOUT : 0));
    pfds[1 + i] = (struct pollfd){.fd = c->fd, .events = ev};
  }
  return 1 + MON_ATTACH_MAX_CLIENTS;
}

/* One read of a client's input into the stdin queue (or the void when there is no
 * stdin any more). Returns -1 when the client must be dropped. */
static int read_input(struct monitor *m, struct mon_client *c) {
  char discard[4096];
  int to_stdin = m->in.fd >= 0 && !m->in.close_pending;
  char *dst = to_stdin ? m->in.buf + m->in.len : discard;
  size_t room = to_stdin ? sizeof m->in.buf - m->in.len : sizeof discard;
  ssize_t n = read(c->fd, dst, room);
  if (n > 0) {
    if (to_stdin) {
      m->in.len += (size_t)n;
      mon_stdin_handle(m, POLLOUT); /* try right away: the usual case is an idle pipe */
    }
    return 0;
  }
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  c->input_done = 1;
  if (m->cfg->stdin_once)
    mon_stdin_request_close(m);
  return 0;
}

void mon_attach_handle(struct monitor *m, struct pollfd *pfds, size_t n) {
  for (size_t i = 0; i + 1 < n && i < MON_ATTACH_MAX_CLIENTS; i++) {
    struct mon_client *c = &m->attach.clients[i];
    struct pollfd *p = &pfds[1 + i];
    if (c->fd < 0 || p->fd != c->fd || !p->revents)
      continue;
    if (p->revents & POLLERR) {
      drop(c);
      continue;
    }
    if ((p->revents & POLLOUT) && flush_out(c) < 0) {
      drop(c);
      continue;
    }
    if ((p->events & POLLIN) && (p->revents & (POLLIN | POLLHUP)) && read_input(m, c) < 0) {
      drop(c);
      continue;
    }
    if (p->revents & POLLHUP) {
      /* Gone both ways. Input still unread (we could not take it now) is lost with
       * it; waiting would spin on POLLHUP. */
      if (!(p->events & POLLIN) || c->input_done) {
        if (!c->input_done && m->cfg->stdin_once)
          mon_stdin_request_close(m);
        drop(c);
      }
    }
  }
  if (n > 0 && (pfds[0].revents & POLLIN) && pfds[0].fd == m->attach.listen_fd) {
    for (;;) {
      int fd = accept4(m->attach.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        break;
      int slot = -1;
      for (int i = 0; i < MON_ATTACH_MAX_CLIENTS && slot < 0; i++)
        if (m->attach.clients[i].fd < 0)
          slot = i;
      if (slot < 0) {
        close(fd); /* full: the client sees EOF at once */
        continue;
      }
      m->attach.clients[slot].fd = fd;
    }
  }
}

void mon_attach_close(struct monitor *m) {
  for (int i = 0; i < MON_ATTACH_MAX_CLIENTS; i++)
    if (m->attach.clients[i].fd >= 0)
      drop(&m->attach.clients[i]);
  if (m->attach.listen_fd >= 0) {
    close(m->attach.listen_fd);
    m->attach.listen_fd = -1;
    mon_unlink_socket(m, "attach.sock");
  }
}

/* ---- the container's stdin ---- */

static void stdin_close_now(struct monitor *m) {
  if (m->in.fd < 0)
    return;
  if (m->in.is_tty) {
    /* A pty has no half-close: send the terminal's EOF character (^D unless the
     * container changed it); it ends input for a reader in canonical mode. */
    struct termios t;
    unsigned char eof = 4;
    if (tcgetattr(m->in.fd, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
      eof = t.c_cc[VEOF];
    if (write(m->in.fd, &eof, 1) < 0) {
      /* the terminal is gone or full: nothing more to do */
    }
  }
  m->in.len = 0;
  m->in.close_pending = 0;
  mon_close_io_fd(m, &m->in.fd);
}

void mon_stdin_request_close(struct monitor *m) {
  if (m->in.fd < 0)
    return;
  m->in.close_pending = 1;
  if (m->in.len == 0)
    stdin_close_now(m);
}

short mon_stdin_events(struct monitor *m) { return m->in.fd >= 0 && m->in.len > 0 ? POLLOUT : 0; }

void mon_stdin_handle(struct monitor *m, short revents) {
  if (m->in.fd < 0)
    return;
  if (revents & POLLOUT) {
    while (m->in.len > 0) {
      ssize_t n = write(m->in.fd, m->in.buf, m->in.len);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
          break;
        /* EPIPE: the container closed its stdin; what is queued cannot go anywhere. */
        m->in.len = 0;
        m->in.close_pending = 0;
        mon_close_io_fd(m, &m->in.fd);
        return;
      }
      memmove(m->in.buf, m->in.buf + n, m->in.len - (size_t)n);
      m->in.len -= (size_t)n;
    }
  } else if ((revents & (POLLERR | POLLHUP)) && !m->in.is_tty) {
    m->in.len = 0; /* the pipe's reader is gone */
    m->in.close_pending = 0;
    mon_close_io_fd(m, &m->in.fd);
    return;
  }
  if (m->in.len == 0 && m->in.close_pending)
    stdin_close_now(m);
}
