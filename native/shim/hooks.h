#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include <fcntl.h>
#include <signal.h>

#include "error.h"
#include "program.h"

/* Run one OP_HOOK (through the berth-exec trampoline: after pivot its binary is the
 * container's) with the container state (status, pid) on its stdin; waits for it. */
int hook_run(const struct program *prog, const struct op *op, const char *status, int pid,
             const sigset_t *orig_mask, int exec_fd, struct berr *err);

#endif
