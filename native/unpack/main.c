/* berth-unpack: performs the filesystem operations of a layer inside one directory.
 *
 *   berth-unpack apply <dir> overlay|native   < record stream (wire.h)
 *   berth-unpack scan <dir>                   > record stream of every entry (overlay upper dir)
 *   berth-unpack diff <lower> <upper>         > record stream of changes (native snapshots)
 *   berth-unpack du <dir>                     > "<allocated bytes> <inodes>" (du -x, hardlinks once)
 *   berth-unpack resolve|stat|pack <root> <path>   docker cp inside a container root (pack.c)
 *
 * apply takes options after the style, for docker cp: no-overwrite-dir-nondir (an entry may
 * not replace a directory with a non-directory or the reverse) and cross-mounts (the root is
 * a running container's, whose volumes are mounts inside it).
 *
 * The record stream comes from berth's TypeScript layer applier, which has already
 * parsed and policed the tar (names, whiteouts, limits). Every path is resolved with
 * openat2(RESOLVE_IN_ROOT), so even a hostile stream cannot touch anything outside
 * <dir>. Exit 0 after UOP_END; on failure one line on stderr and exit 1 (3: no space left). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "du.h"
#include "pack.h"
#include "scan.h"

#define MAX_PATH_BYTES 4096
#define EXIT_NO_SPACE 3
#define MAX_XATTR_BYTES (1024 * 1024)

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Variable parts reuse three growing buffers across records. */
static int read_part(struct input *in, char **buf, size_t *cap, uint32_t len, uint32_t max, const char *what,
                     struct berr *err) {
  if (len > max) return berr_msg(err, "record %s too long (%u bytes)", what, len);
  if (*cap < (size_t)len + 1) {
    char *n = realloc(*buf, (size_t)len + 1);
    if (!n) return berr_sys(err, "allocating");
    *buf = n;
    *cap = (size_t)len + 1;
  }
  if (input_read(in, *buf, len, err) < 0) return -1;
  (*buf)[len] = '\0';
  return 0;
}

static int read_record(struct input *in, struct unpack_rec *r, struct berr *err) {
  static char *path, *link, *xattrs;
  static size_t path_cap, link_cap, xattr_cap;
  unsigned char h[UNPACK_HDR_SIZE];
  if (input_read(in, h, sizeof h, err) < 0) return -1;
  r->op = h[0];
  r->flags = h[1];
  r->mode = le32(h + 4);
  r->uid = le32(h + 8);
  r->gid = le32(h + 12);
  r->mtime_sec = (int64_t)le64(h + 16);
  r->mtime_nsec = le32(h + 24);
  r->path_len = le32(h + 28);
  r->size = le64(h + 32);
  r->link_len = le32(h + 40);
  r->xattr_len = le32(h + 44);
  if (r->op == UOP_END) return 0;
  if (r->path_len == 0) return berr_msg(err, "record with an empty path");
  if (read_part(in, &path, &path_cap, r->path_len, MAX_PATH_BYTES, "path", err) < 0 ||
      read_part(in, &link, &link_cap, r->link_len, 64 * MAX_PATH_BYTES, "link", err) < 0 ||
      read_part(in, &xattrs, &xattr_cap, r->xattr_len, MAX_XATTR_BYTES, "xattrs", err) < 0)
    return -1;
  if (strlen(path) != r->path_len) return berr_msg(err, "record path contains NUL");
  if (r->flags & UFLAG_DATA_AT_OFFSET) {
    unsigned char off[8];
    if (input_read(in, off, sizeof off, err) < 0) return -1;
    r->source_offset = le64(off);
  }
  r->path = path;
  r->link = link;
  r->xattrs = (unsigned char *)xattrs;
  return 0;
}

static int run_apply(const char *dir, const char *style, char **options, struct berr *err) {
  struct applier a = {0};
  int cross_mounts = 0;
  if (!strcmp(style, "overlay")) a.style = STYLE_OVERLAY;
  else if (!strcmp(style, "native")) a.style = STYLE_NATIVE;
  else return berr_msg(err, "unknown whiteout style %s (want overlay or native)", style);
  for (; *options; options++) {
    if (!strcmp(*options, "no-overwrite-dir-nondir")) a.no_overwrite_dir_nondir = 1;
    else if (!strcmp(*options, "cross-mounts")) cross_mounts = 1;
    else return berr_msg(err, "unknown apply option %s", *options);
  }
  if (tree_open(&a.tree, dir, cross_mounts, err) < 0 || input_init(&a.in, 0, err) < 0) return -1;
  for (;;) {
    struct unpack_rec r;
    if (read_record(&a.in, &r, err) < 0) return -1;
    if (r.op == UOP_END) return apply_dir_times(&a, err);
    if (apply_record(&a, &r, err) < 0) return -1;
  }
}

int main(int argc, char **argv) {
  struct berr err = {.op = -1};
  int rc, not_found_exit = 0;
  if (argc >= 4 && !strcmp(argv[1], "apply")) rc = run_apply(argv[2], argv[3], argv + 4, &err);
  else if (argc == 3 && !strcmp(argv[1], "scan")) rc = scan_tree(argv[2], &err);
  else if (argc == 4 && !strcmp(argv[1], "diff")) rc = diff_trees(argv[2], argv[3], &err);
  else if (argc == 3 && !strcmp(argv[1], "du")) rc = disk_usage(argv[2], &err);
  else if (argc == 4 && !strcmp(argv[1], "resolve")) rc = pack_resolve(argv[2], argv[3], &err);
  else if (argc == 4 && !strcmp(argv[1], "stat")) rc = pack_stat(argv[2], argv[3], &err), not_found_exit = 1;
  else if (argc == 4 && !strcmp(argv[1], "pack")) rc = pack_tree(argv[2], argv[3], &err), not_found_exit = 1;
  else {
    fprintf(stderr, "usage: berth-unpack apply <dir> overlay|native [no-overwrite-dir-nondir] [cross-mounts] | scan <dir> | "
                    "diff <lower> <upper> | du <dir> | resolve|stat|pack <root> <path>\n");
    return 2;
  }
  if (rc < 0) {
    fprintf(stderr, "berth-unpack: %s\n", err.msg);
    if (not_found_exit && err.errnum == ENOENT) return EXIT_NOT_FOUND;
    /* A full disk is the host's condition, not the layer's fault: callers report it differently. */
    return err.errnum == ENOSPC || err.errnum == EDQUOT ? EXIT_NO_SPACE : 1;
  }
  return 0;
}
