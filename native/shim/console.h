#ifndef BERTH_CONSOLE_H
#define BERTH_CONSOLE_H

#include "error.h"
#include "program.h"
#include "rootfs.h"

/* OP_CONSOLE: open a pty in the container's devpts, hand the master over, and
 * make the slave the process's stdio and controlling terminal. */
int console_setup(const struct rootfs *r, const struct op *op, int console_fd, int shim_fd, struct berr *err);

#endif
