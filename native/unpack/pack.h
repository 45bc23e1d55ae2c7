#ifndef BERTH_UNPACK_PACK_H
#define BERTH_UNPACK_PACK_H

#include "../shim/error.h"

/* Exit status when the path asked for does not exist in the root. */
#define EXIT_NOT_FOUND 4

int pack_resolve(const char *root, const char *path, struct berr *err);
int pack_stat(const char *root, const char *path, struct berr *err);
int pack_tree(const char *root, const char *path, struct berr *err);

#endif
