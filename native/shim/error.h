/* One error convention for berth-shim (after crun): functions return a negative
 * value on failure and fill a struct berr; the caller adds no second message. */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <errno.h>
#include <stdarg.h>

struct berr {
  int op;         /* index of the setup-program op that failed, -1 when none */
  int errnum;     /* errno, 0 when the failure is not a system call's */
  char msg[1024]; /* human-readable, names what was being done */
};

/* Fill err with errno and a formatted message; returns -1 so callers can `return berr_sys(...)`. */
int berr_sys(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, without errno (a policy or data failure). */
int berr_msg(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cleanup_fd __attribute__((cleanup(close_fdp)))
#define cleanup_free __attribute__((cleanup(free_ptrp)))
void close_fdp(int *fd);
void free_ptrp(void *p);

#endif
