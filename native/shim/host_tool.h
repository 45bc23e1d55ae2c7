#ifndef BERTH_HOST_TOOL_H
#define BERTH_HOST_TOOL_H

#include <signal.h>

#include "error.h"
#include "program.h"

/* Run one OP_HOST_TOOL (str file, list argv, str stdin) to completion with the signal
 * mask `mask`; a failure to run it or a non-zero exit fills err (with its stderr). */
int run_host_tool(const struct op *op, const sigset_t *mask, struct berr *err);

#endif
