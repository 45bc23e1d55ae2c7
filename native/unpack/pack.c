/* docker cp's side of berth-unpack: the container's root is hostile, so every path is
 * resolved in it as the container would (resolve.c) and nothing is ever followed out.
 *
 *   resolve <root> <path>   > "dir|nondir|missing /resolved/path\n"   (the PUT target)
 *   stat <root> <path>      > "<st_mode octal> <size> <mtime sec> <nsec>\n<link target>\n"
 *   pack <root> <path>      > records (wire.h) of path as "." and everything below it
 *
 * stat and pack do not follow the last component (a symlink is reported as one) unless
 * the path ends in "/" or "/."; the link target is resolved in the root like moby's
 * FollowSymlinkInScope. A path that does not exist exits EXIT_NOT_FOUND. */
#include "pack.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolve.h"
#include "scan.h"

static int open_root(const char *root, struct berr *err) {
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening the root %s", root);
  return fd;
}

int pack_resolve(const char *root, const char *path, struct berr *err) {
  cleanup_fd int root_fd = open_root(root, err);
  if (root_fd < 0) return -1;
  char resolved[PATH_MAX];
  if (resolve_in_root(root_fd, path, resolved, sizeof resolved, err) < 0) return -1;
  const char *kind = "dir";
  if (*resolved) {
    char name[NAME_MAX + 1];
    cleanup_fd int dir_fd = resolve_parent(root_fd, resolved, name, err);
    struct stat st;
    if (dir_fd < 0 && err->errnum != ENOENT) return -1;
    if (dir_fd < 0 || fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) kind = "missing";
    else if (!S_ISDIR(st.st_mode)) kind = "nondir";
  }
  printf("%s /%s\n", kind, resolved);
  return fflush(stdout) == 0 ? 0 : berr_sys(err, "writing the result");
}

/* The last component of path, looked up without following it. */
static int open_target(const char *root, const char *path, int *root_fd, char *name, struct stat *st, struct berr *err) {
  *root_fd = open_root(root, err);
  if (*root_fd < 0) return -1;
  int dir_fd = resolve_parent(*root_fd, path, name, err);
  if (dir_fd < 0) return -1;
  if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
    berr_sys(err, "inspecting %s", path);
    close(dir_fd);
    return -1;
  }
  return dir_fd;
}

int pack_stat(const char *root, const char *path, struct berr *err) {
  cleanup_fd int root_fd = -1;
  char name[NAME_MAX + 1];
  struct stat st;
  cleanup_fd int dir_fd = open_target(root, path, &root_fd, name, &st, err);
  if (dir_fd < 0) return -1;
  char target[PATH_MAX] = "";
  if (S_ISLNK(st.st_mode) && resolve_in_root(root_fd, path, target, sizeof target, err) < 0) return -1;
  printf("%o %lld %lld %ld\n%s%s\n", (unsigned)st.st_mode, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
         (long)st.st_mtim.tv_nsec, S_ISLNK(st.st_mode) ? "/" : "", target);
  return fflush(stdout) == 0 ? 0 : berr_sys(err, "writing the result");
}

int pack_tree(const char *root, const char *path, struct berr *err) {
  cleanup_fd int root_fd = -1;
  char name[NAME_MAX + 1];
  struct stat st;
  cleanup_fd int dir_fd = open_target(root, path, &root_fd, name, &st, err);
  if (dir_fd < 0) return -1;
  return scan_entry(dir_fd, name, err);
}
