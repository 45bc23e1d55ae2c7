#ifndef BERTH_SEALED_EXE_H
#define BERTH_SEALED_EXE_H

#include "error.h"

/* Re-exec from a write-sealed memfd copy unless already running from one.
 * Returns 0 when already sealed; otherwise only returns on failure. */
int sealed_exe_reexec(char **argv, struct berr *err);

#endif
