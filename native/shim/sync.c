#include "sync.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"

int msg_send(int fd, uint32_t type, int32_t a, int32_t b, const char *data, uint32_t len) {
  struct msg m = {.type = type, .a = a, .b = b, .len = len};
  struct iovec iov[2] = {{&m, sizeof m}, {(void *)data, len}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
  size_t total = sizeof m + len;
  ssize_t n;
  do n = sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if ((size_t)n == total) return 0;
  /* A short write on a stream socket: finish the rest plainly. */
  char buf[sizeof m + MSG_MAX_DATA];
  if (total > sizeof buf) return -1;
  memcpy(buf, &m, sizeof m);
  if (len) memcpy(buf + sizeof m, data, len);
  return write_full(fd, buf + n, total - (size_t)n);
}

int send_fd(int sock, int passfd, const void *data, size_t len) {
  struct iovec iov = {(void *)data, len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &passfd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

int msg_send_fd(int fd, uint32_t type, int passfd) {
  struct msg m = {.type = type};
  return send_fd(fd, passfd, &m, sizeof m);
}

int msg_recv(int fd, struct msg *m, char *data, size_t cap, int *passfd) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {m, sizeof *m};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (passfd) *passfd = -1;
  ssize_t n;
  do n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0) {
    errno = EIO;
    return -1;
  }
  if (n < 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && passfd) memcpy(passfd, CMSG_DATA(c), sizeof(int));
  if ((size_t)n < sizeof *m && read_full(fd, (char *)m + n, sizeof *m - (size_t)n) < 0) return -1;
  if (m->len > MSG_MAX_DATA) {
    errno = EMSGSIZE;
    return -1;
  }
  char sink[MSG_MAX_DATA + 1];
  char *dst = (data && cap > m->len) ? data : sink;
  if (m->len && read_full(fd, dst, m->len) < 0) return -1;
  dst[m->len] = '\0';
  return 0;
}

void msg_send_error(int fd, const struct berr *err) {
  msg_send(fd, MSG_ERROR, err->op, err->errnum, err->msg, (uint32_t)strnlen(err->msg, sizeof err->msg));
}
