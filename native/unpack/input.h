/* Buffered reading of stdin, with a splice fast path for file data. */
#ifndef BERTH_UNPACK_INPUT_H
#define BERTH_UNPACK_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include "../shim/error.h"

struct input {
  int fd;
  unsigned char *buf;
  size_t start, end, cap;
  int can_splice; /* stdin is a pipe */
};

int input_init(struct input *in, int fd, struct berr *err);
/* Read exactly len bytes into dst; -1 with err on EOF or error. */
int input_read(struct input *in, void *dst, size_t len, struct berr *err);
/* Copy exactly len bytes to out_fd (write or splice). */
int input_copy(struct input *in, int out_fd, uint64_t len, const char *what, struct berr *err);

#endif
