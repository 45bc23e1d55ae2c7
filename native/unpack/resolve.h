/* Resolving container paths inside a root as the container sees them (docker cp). */
#ifndef BERTH_UNPACK_RESOLVE_H
#define BERTH_UNPACK_RESOLVE_H

#include <stddef.h>

#include "../shim/error.h"

/* Open the root-relative directory rel ("" = the root) that has no symlinks on the way
 * (a path resolve_in_root returned); an O_PATH fd, or -1 with err (ENOENT, ENOTDIR, ...). */
int open_resolved_dir(int root_fd, const char *rel, struct berr *err);
/* Resolve path with every symlink followed inside the root; out gets the result relative
 * to the root without a leading slash ("" = the root). Missing components are kept as text. */
int resolve_in_root(int root_fd, const char *path, char *out, size_t cap, struct berr *err);
/* The directory holding path's last component (resolved, opened O_PATH) and that component
 * in name (NAME_MAX + 1 bytes). A path ending in "/" or "/." names the directory itself:
 * then the fd is that directory and name is ".". */
int resolve_parent(int root_fd, const char *path, char *name, struct berr *err);

#endif
