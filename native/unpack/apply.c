#include "apply.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static struct timespec *times_of(const struct unpack_rec *r, struct timespec ts[2]) {
  ts[0].tv_sec = ts[1].tv_sec = r->mtime_sec;
  ts[0].tv_nsec = ts[1].tv_nsec = r->mtime_nsec;
  return ts;
}

/* fd-based xattrs; symlinks (no fd of their own) go through their parent fd's /proc path. */
static int set_xattrs(int fd, int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  const unsigned char *p = r->xattrs, *end = r->xattrs + r->xattr_len;
  char name[256], link_path[64 + 4096];
  while (p + 8 <= end) {
    uint32_t nlen, vlen;
    memcpy(&nlen, p, 4);
    memcpy(&vlen, p + 4, 4);
    p += 8;
    if (nlen == 0 || nlen >= sizeof name || (size_t)(end - p) < (size_t)nlen + vlen)
      return berr_msg(err, "%s: malformed xattr record", r->path);
    memcpy(name, p, nlen);
    name[nlen] = '\0';
    int rc;
    if (fd >= 0) {
      rc = fsetxattr(fd, name, p + nlen, vlen, 0);
    } else {
      snprintf(link_path, sizeof link_path, "/proc/self/fd/%d/%s", parent_fd, base);
      rc = lsetxattr(link_path, name, p + nlen, vlen, 0);
    }
    if (rc < 0) return berr_sys(err, "%s: setting xattr %s", r->path, name);
    p += nlen + vlen;
  }
  return 0;
}

/* Owner, then mode (chown clears setuid bits and file capabilities), then xattrs, then times. */
static int finish_fd(int fd, const struct unpack_rec *r, int set_times, struct berr *err) {
  struct timespec ts[2];
  if (fchown(fd, r->uid, r->gid) < 0) return berr_sys(err, "%s: chown %u:%u", r->path, r->uid, r->gid);
  if (fchmod(fd, r->mode & 07777) < 0) return berr_sys(err, "%s: chmod %o", r->path, r->mode & 07777);
  if (set_xattrs(fd, -1, NULL, r, err) < 0) return -1;
  if (set_times && futimens(fd, times_of(r, ts)) < 0) return berr_sys(err, "%s: setting times", r->path);
  return 0;
}

/* Device nodes and fifos are never opened (opening a device can have effects): set by name. */
static int finish_at(int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  struct timespec ts[2];
  if (fchownat(parent_fd, base, r->uid, r->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_sys(err, "%s: chown %u:%u", r->path, r->uid, r->gid);
  if (fchmodat(parent_fd, base, r->mode & 07777, 0) < 0) return berr_sys(err, "%s: chmod", r->path);
  if (r->xattr_len && set_xattrs(-1, parent_fd, base, r, err) < 0) return -1;
  if (utimensat(parent_fd, base, times_of(r, ts), AT_SYMLINK_NOFOLLOW) < 0)
    return berr_sys(err, "%s: setting times", r->path);
  return 0;
}

/* The layer is an uncompressed file on disk: the kernel copies the member's bytes (and may
 * share extents), and they never cross the record pipe. */
static int copy_from_source(int fd, const struct unpack_rec *r, struct berr *err) {
  static int use_sendfile; /* once copy_file_range cannot serve this pair of filesystems, it never will */
  loff_t off = (loff_t)r->source_offset;
  uint64_t left = r->size;
  while (left > 0) {
    ssize_t n = use_sendfile ? sendfile(fd, UNPACK_SOURCE_FD, &off, left > (1u << 30) ? (1u << 30) : left)
                             : copy_file_range(UNPACK_SOURCE_FD, &off, fd, NULL, left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && !use_sendfile && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      use_sendfile = 1;
      continue;
    }
    if (n < 0) return berr_sys(err, "%s: copying data from the layer", r->path);
    if (n == 0) return berr_msg(err, "%s: layer file ends inside this entry", r->path);
    left -= (uint64_t)n;
  }
  return 0;
}

static int do_file(struct applier *a, int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  int fd = openat(parent_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return berr_sys(err, "%s: creating file", r->path);
  int rc = (r->flags & UFLAG_DATA_AT_OFFSET) ? copy_from_source(fd, r, err) : input_copy(&a->in, fd, r->size, r->path, err);
  if (rc == 0) rc = finish_fd(fd, r, 1, err);
  close(fd);
  return rc;
}

static int remember_dir_time(struct applier *a, const struct unpack_rec *r, struct berr *err) {
  if (a->dir_count == a->dir_cap) {
    size_t cap = a->dir_cap ? a->dir_cap * 2 : 256;
    struct dir_time *n = realloc(a->dir_times, cap * sizeof *n);
    if (!n) return berr_sys(err, "allocating");
    a->dir_times = n;
    a->dir_cap = cap;
  }
  char *copy = strdup(r->path);
  if (!copy) return berr_sys(err, "allocating");
  a->dir_times[a->dir_count++] = (struct dir_time){copy, r->mtime_sec, r->mtime_nsec};
  return 0;
}

static int do_dir(struct applier *a, int parent_fd, const char *base, int existing, const struct unpack_rec *r,
                  struct berr *err) {
  if (!existing && mkdirat(parent_fd, base, 0700) < 0) return berr_sys(err, "%s: creating directory", r->path);
  int fd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "%s: opening directory", r->path);
  int rc = finish_fd(fd, r, 0, err);
  close(fd);
  return rc < 0 ? -1 : remember_dir_time(a, r, err);
}

static int do_symlink(int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  struct timespec ts[2];
  if (symlinkat(r->link, parent_fd, base) < 0) return berr_sys(err, "%s: creating symlink", r->path);
  if (fchownat(parent_fd, base, r->uid, r->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_sys(err, "%s: chown %u:%u", r->path, r->uid, r->gid);
  if (r->xattr_len && set_xattrs(-1, parent_fd, base, r, err) < 0) return -1;
  if (utimensat(parent_fd, base, times_of(r, ts), AT_SYMLINK_NOFOLLOW) < 0)
    return berr_sys(err, "%s: setting times", r->path);
  return 0;
}

static int do_hardlink(struct applier *a, int parent_fd, const char *base, const struct unpack_rec *r,
                       struct berr *err) {
  const char *slash = strrchr(r->link, '/');
  char *tdir = strndup(r->link, slash ? (size_t)(slash - r->link) : 0);
  if (!tdir) return berr_sys(err, "allocating");
  int tfd = tree_open_in_root(&a->tree, tdir, O_PATH | O_DIRECTORY, err);
  free(tdir);
  if (tfd < 0) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg); /* berr_msg formats into err->msg */
    return berr_msg(err, "%s: hard link target %s: %s", r->path, r->link, why);
  }
  int rc = linkat(tfd, slash ? slash + 1 : r->link, parent_fd, base, 0);
  close(tfd);
  if (rc < 0) return berr_sys(err, "%s: hard link to %s", r->path, r->link);
  return 0;
}

static int do_node(int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  mode_t type = r->op == UOP_CHAR ? S_IFCHR : r->op == UOP_BLOCK ? S_IFBLK : S_IFIFO;
  dev_t dev = r->op == UOP_FIFO ? 0 : makedev((unsigned)(r->size >> 32), (unsigned)(r->size & 0xffffffffu));
  if (mknodat(parent_fd, base, type | 0600, dev) < 0) return berr_sys(err, "%s: creating device node", r->path);
  return finish_at(parent_fd, base, r, err);
}

static int do_whiteout(struct applier *a, int parent_fd, const char *base, const struct unpack_rec *r,
                       struct berr *err) {
  if (tree_replace(&a->tree, parent_fd, base, 0, r->path, err) < 0) return -1;
  if (a->style == STYLE_NATIVE) return 0;
  if (mknodat(parent_fd, base, S_IFCHR | 0, makedev(0, 0)) < 0)
    return berr_sys(err, "%s: creating whiteout", r->path);
  return 0;
}

static int do_opaque(struct applier *a, int parent_fd, const char *base, const struct unpack_rec *r,
                     struct berr *err) {
  if (mkdirat(parent_fd, base, 0755) < 0 && errno != EEXIST)
    return berr_sys(err, "%s: creating opaque directory", r->path);
  int fd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "%s: opening opaque directory", r->path);
  int rc = a->style == STYLE_NATIVE ? tree_empty_dir(fd, r->link, r->link_len, r->path, err)
                                    : fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
  if (rc < 0 && a->style == STYLE_OVERLAY) berr_sys(err, "%s: marking opaque", r->path);
  close(fd);
  return rc;
}

static int create_entry(struct applier *a, int parent_fd, const char *base, int existing, const struct unpack_rec *r,
                        struct berr *err) {
  switch (r->op) {
  case UOP_FILE: return do_file(a, parent_fd, base, r, err);
  case UOP_DIR: return do_dir(a, parent_fd, base, existing, r, err);
  case UOP_SYMLINK: return do_symlink(parent_fd, base, r, err);
  case UOP_HARDLINK: return do_hardlink(a, parent_fd, base, r, err);
  case UOP_CHAR:
  case UOP_BLOCK:
  case UOP_FIFO: return do_node(parent_fd, base, r, err);
  default: return berr_msg(err, "%s: unknown record op %u", r->path, r->op);
  }
}

/* The error moby's archive.Unpack gives for NoOverwriteDirNonDir, with the container's path. */
static int check_dir_nondir(int parent_fd, const char *base, const struct unpack_rec *r, struct berr *err) {
  struct stat st;
  if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) return 0;
  if (S_ISDIR(st.st_mode) && r->op != UOP_DIR)
    return berr_msg(err, "cannot overwrite directory \"/%s\" with non-directory", r->path);
  if (!S_ISDIR(st.st_mode) && r->op == UOP_DIR)
    return berr_msg(err, "cannot overwrite non-directory \"/%s\" with directory", r->path);
  return 0;
}

int apply_record(struct applier *a, const struct unpack_rec *r, struct berr *err) {
  const char *base;
  int parent_fd = tree_parent(&a->tree, r->path, &base, err);
  if (parent_fd < 0) return -1;
  if (r->op == UOP_WHITEOUT) return do_whiteout(a, parent_fd, base, r, err);
  if (r->op == UOP_OPAQUE) return do_opaque(a, parent_fd, base, r, err);
  if (a->no_overwrite_dir_nondir && check_dir_nondir(parent_fd, base, r, err) < 0) return -1;
  /* Create first (every create is exclusive and consumes no input when it fails): in a fresh
   * snapshot nothing is in the way, so the replace check runs only when something is. */
  int rc = create_entry(a, parent_fd, base, 0, r, err);
  if (rc == 0 || err->errnum != EEXIST) return rc;
  int existing = tree_replace(&a->tree, parent_fd, base, r->op == UOP_DIR, r->path, err);
  if (existing < 0) return -1;
  return create_entry(a, parent_fd, base, existing, r, err);
}

int apply_dir_times(struct applier *a, struct berr *err) {
  struct timespec ts[2];
  /* Deepest last-listed first, so setting a child's times never disturbs its parent's. */
  for (size_t i = a->dir_count; i-- > 0;) {
    struct dir_time *d = &a->dir_times[i];
    int fd = tree_open_in_root(&a->tree, d->path, O_RDONLY | O_DIRECTORY, err);
    if (fd < 0) {
      if (err->errnum == ENOENT || err->errnum == ENOTDIR) continue; /* removed by a later entry */
      return -1;
    }
    ts[0].tv_sec = ts[1].tv_sec = d->sec;
    ts[0].tv_nsec = ts[1].tv_nsec = d->nsec;
    int rc = futimens(fd, ts);
    close(fd);
    if (rc < 0) return berr_sys(err, "%s: setting times", d->path);
  }
  return 0;
}
