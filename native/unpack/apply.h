#ifndef BERTH_UNPACK_APPLY_H
#define BERTH_UNPACK_APPLY_H

#include "input.h"
#include "tree.h"
#include "wire.h"

enum whiteout_style { STYLE_OVERLAY, STYLE_NATIVE };

struct applier {
  struct tree tree;
  struct input in;
  enum whiteout_style style;
  /* docker cp's NoOverwriteDirNonDir: never replace a directory by a non-directory or the reverse. */
  int no_overwrite_dir_nondir;
  /* Directory times are set last: creating entries inside a directory changes its mtime. */
  struct dir_time {
    char *path;
    int64_t sec;
    uint32_t nsec;
  } *dir_times;
  size_t dir_count, dir_cap;
};

int apply_record(struct applier *a, const struct unpack_rec *r, struct berr *err);
int apply_dir_times(struct applier *a, struct berr *err);

#endif
