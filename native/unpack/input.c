#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_CAP (1024 * 1024)
#define SPLICE_MIN (64 * 1024)

int input_init(struct input *in, int fd, struct berr *err) {
  struct stat st;
  in->fd = fd;
  in->start = in->end = 0;
  in->cap = INPUT_CAP;
  in->buf = malloc(in->cap);
  if (!in->buf) return berr_sys(err, "allocating the input buffer");
  in->can_splice = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
  if (in->can_splice) fcntl(fd, F_SETPIPE_SZ, 1024 * 1024); /* fewer wake-ups; best effort */
  return 0;
}

static int fill(struct input *in, struct berr *err) {
  if (in->start == in->end) in->start = in->end = 0;
  ssize_t n;
  do n = read(in->fd, in->buf + in->end, in->cap - in->end);
  while (n < 0 && errno == EINTR);
  if (n < 0) return berr_sys(err, "reading the record stream");
  if (n == 0) return berr_msg(err, "record stream ended early");
  in->end += (size_t)n;
  return 0;
}

int input_read(struct input *in, void *dst, size_t len, struct berr *err) {
  unsigned char *out = dst;
  while (len > 0) {
    if (in->start == in->end && fill(in, err) < 0) return -1;
    size_t take = in->end - in->start < len ? in->end - in->start : len;
    memcpy(out, in->buf + in->start, take);
    in->start += take;
    out += take;
    len -= take;
  }
  return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len, const char *what, struct berr *err) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return berr_sys(err, "writing %s", what);
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int input_copy(struct input *in, int out_fd, uint64_t len, const char *what, struct berr *err) {
  while (len > 0) {
    if (in->start < in->end) {
      size_t take = in->end - in->start < len ? in->end - in->start : (size_t)len;
      if (write_all(out_fd, in->buf + in->start, take, what, err) < 0) return -1;
      in->start += take;
      len -= take;
      continue;
    }
    if (in->can_splice && len >= SPLICE_MIN) {
      ssize_t n = splice(in->fd, NULL, out_fd, NULL, len, SPLICE_F_MOVE);
      if (n > 0) {
        len -= (uint64_t)n;
        continue;
      }
      if (n == 0) return berr_msg(err, "record stream ended inside %s", what);
      if (errno == EINTR) continue;
      if (errno != EINVAL) return berr_sys(err, "writing %s", what);
      in->can_splice = 0; /* the target filesystem cannot splice; fall back to copies */
    }
    if (fill(in, err) < 0) return -1;
  }
  return 0;
}
