#ifndef BERTH_UNPACK_SCAN_H
#define BERTH_UNPACK_SCAN_H

#include "../shim/error.h"

/* Report every entry under dir as records on stdout, sorted by name, parents first. */
int scan_tree(const char *dir, struct berr *err);
/* Report what upper changes relative to lower (two full trees), whiteouts included. */
int diff_trees(const char *lower, const char *upper, struct berr *err);

/* Report parent_fd/name as the record ".", and when it is a directory everything under it
 * ("a", "a/b", ...), then UOP_END: a container path for docker cp. */
int scan_entry(int parent_fd, const char *name, struct berr *err);

#endif
