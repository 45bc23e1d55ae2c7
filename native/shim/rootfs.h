/* The container's filesystem: every path inside the rootfs is resolved with
 * openat2(RESOLVE_IN_ROOT), so a symlink in a hostile rootfs can never send a
 * mount, device node or mask onto the host (the CVE-2021-30465 class). */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include "error.h"
#include "program.h"

struct rootfs {
  int fd; /* O_PATH fd of the rootfs bind mount, -1 before OP_ROOTFS */
};

int rootfs_open_in(const struct rootfs *r, const char *path, int flags, struct berr *err);
int rootfs_touch(const struct rootfs *r, const char *path, struct berr *err);
int rootfs_setup(struct rootfs *r, const struct op *op, struct berr *err);
/* OP_MOUNT_ROOTFS: mount the snapshot (overlay with relative lowerdirs from cwd, or a bind) at the rootfs path. */
int rootfs_mount_snapshot(const struct op *op, struct berr *err);
int rootfs_propagation(const struct op *op, struct berr *err);
int rootfs_mount(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_mknod(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_symlink(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_readonly_path(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_mask_path(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_pivot(struct rootfs *r, const struct op *op, struct berr *err);
int rootfs_readonly_root(struct berr *err);

#endif
