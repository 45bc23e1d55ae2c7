/* Path resolution inside the root (openat2 RESOLVE_IN_ROOT) and removal of what a
 * new entry replaces. Nothing here follows a symlink out of the root. */
#ifndef BERTH_UNPACK_TREE_H
#define BERTH_UNPACK_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "../shim/error.h"

struct tree {
  int root_fd;
  /* openat2 resolve flags: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, and RESOLVE_NO_XDEV unless
   * the root has mounts that belong to it (a running container's volumes, for docker cp). */
  uint64_t resolve;
  /* The parent directory of the previous entry, kept open: layers list a
   * directory's entries together. Dropped whenever something is removed. */
  char *cached_parent;
  int cached_fd;
};

int tree_open(struct tree *t, const char *root, int cross_mounts, struct berr *err);
void tree_forget(struct tree *t);
/* Open dir `rel` (root-relative, "" = root) with flags, resolved inside the root. */
int tree_open_in_root(struct tree *t, const char *rel, int flags, struct berr *err);
/* Split path into parent fd (borrowed; creating missing parents 0755) and basename. */
int tree_parent(struct tree *t, const char *path, const char **base, struct berr *err);
/* Make room for a new entry: remove whatever is at parent/base unless both are dirs.
 * Returns 1 when an existing directory is kept, 0 otherwise. */
int tree_replace(struct tree *t, int parent_fd, const char *base, int want_dir, const char *path,
                 struct berr *err);
/* Remove everything inside dir fd except the names in keep (NUL-separated, keep_len bytes). */
int tree_empty_dir(int dir_fd, const char *keep, size_t keep_len, const char *path, struct berr *err);

#endif
