#ifndef BERTH_UNPACK_DU_H
#define BERTH_UNPACK_DU_H

#include "../shim/error.h"

/* du -x for a snapshot: print "<allocated bytes> <inodes>" for dir, hardlinks counted
 * once, symlinks not followed, other filesystems not entered. */
int disk_usage(const char *dir, struct berr *err);

#endif
