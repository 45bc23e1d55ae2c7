#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = write_full(fd, data, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int write_file_atomic(int dirfd, const char *name, const char *data, size_t len) {
  char tmp[256];
  if (snprintf(tmp, sizeof tmp, ".%s.tmp", name) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write_full(fd, data, len) < 0 || fsync(fd) < 0) {
    int saved = errno;
    close(fd);
    unlinkat(dirfd, tmp, 0);
    errno = saved;
    return -1;
  }
  close(fd);
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    int saved = errno;
    unlinkat(dirfd, tmp, 0);
    errno = saved;
    return -1;
  }
  return fsync(dirfd);
}
