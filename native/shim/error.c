#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int vfill(struct berr *err, int errnum, const char *fmt, va_list ap) {
  err->errnum = errnum;
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  if (errnum) {
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
  }
  return -1;
}

int berr_sys(struct berr *err, const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  vfill(err, saved, fmt, ap);
  va_end(ap);
  return -1;
}

int berr_msg(struct berr *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfill(err, 0, fmt, ap);
  va_end(ap);
  return -1;
}

void close_fdp(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

void free_ptrp(void *p) { free(*(void **)p); }
