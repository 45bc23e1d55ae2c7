#include "tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int tree_open(struct tree *t, const char *root, int cross_mounts, struct berr *err) {
  t->resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (cross_mounts ? 0 : RESOLVE_NO_XDEV);
  t->cached_parent = NULL;
  t->cached_fd = -1;
  t->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (t->root_fd < 0) return berr_sys(err, "opening the target directory %s", root);
  return 0;
}

void tree_forget(struct tree *t) {
  if (t->cached_fd >= 0) close(t->cached_fd);
  free(t->cached_parent);
  t->cached_parent = NULL;
  t->cached_fd = -1;
}

int tree_open_in_root(struct tree *t, const char *rel, int flags, struct berr *err) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = t->resolve,
  };
  int fd = (int)syscall(SYS_openat2, t->root_fd, *rel ? rel : ".", &how, sizeof how);
  if (fd < 0) return berr_sys(err, "resolving %s inside the root", *rel ? rel : "/");
  return fd;
}

/* Create the missing directories of `dir`, one component at a time, each resolved from the root. */
static int make_parents(struct tree *t, char *dir, struct berr *err) {
  for (char *p = dir;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    int fd = tree_open_in_root(t, dir, O_PATH | O_DIRECTORY, err);
    if (fd < 0 && err->errnum == ENOENT) {
      char *slash = strrchr(dir, '/');
      const char *name = slash ? slash + 1 : dir;
      if (slash) *slash = '\0';
      int up = tree_open_in_root(t, slash ? dir : "", O_PATH | O_DIRECTORY, err);
      if (slash) *slash = '/';
      if (up < 0) return -1;
      int rc = mkdirat(up, name, 0755);
      close(up);
      if (rc < 0 && errno == EEXIST)
        return berr_msg(err, "creating parent directory %s: it exists but is not a directory inside the root (a dangling or outward symlink?)", dir);
      if (rc < 0) return berr_sys(err, "creating parent directory %s", dir);
      fd = tree_open_in_root(t, dir, O_PATH | O_DIRECTORY, err);
    }
    if (fd < 0) return -1;
    close(fd);
    *p = saved;
    if (saved == '\0') return 0;
  }
}

int tree_parent(struct tree *t, const char *path, const char **base, struct berr *err) {
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path) : 0;
  *base = slash ? slash + 1 : path;
  if (t->cached_parent && strlen(t->cached_parent) == dlen && memcmp(t->cached_parent, path, dlen) == 0)
    return t->cached_fd;
  tree_forget(t);
  char *dir = strndup(path, dlen);
  if (!dir) return berr_sys(err, "allocating");
  int fd = tree_open_in_root(t, dir, O_PATH | O_DIRECTORY, err);
  if (fd < 0 && err->errnum == ENOENT && make_parents(t, dir, err) == 0)
    fd = tree_open_in_root(t, dir, O_PATH | O_DIRECTORY, err);
  if (fd < 0) {
    free(dir);
    return -1;
  }
  t->cached_parent = dir;
  t->cached_fd = fd;
  return fd;
}

static int remove_entry(int parent_fd, const char *name, const char *path, struct berr *err);

int tree_empty_dir(int dir_fd, const char *keep, size_t keep_len, const char *path, struct berr *err) {
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening %s", path);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return berr_sys(err, "reading %s", path);
  }
  int rc = 0;
  for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    int kept = 0;
    for (const char *k = keep; k < keep + keep_len && !kept; k += strlen(k) + 1) kept = !strcmp(k, e->d_name);
    if (!kept) rc = remove_entry(dirfd(d), e->d_name, path, err);
  }
  closedir(d);
  return rc;
}

/* rm -rf of parent/name without ever following a symlink. */
static int remove_entry(int parent_fd, const char *name, const char *path, struct berr *err) {
  if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR) return berr_sys(err, "removing %s/%s", path, name);
  int fd = openat(parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening %s/%s", path, name);
  int rc = tree_empty_dir(fd, "", 0, path, err);
  close(fd);
  if (rc == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) < 0) return berr_sys(err, "removing %s/%s", path, name);
  return rc;
}

int tree_replace(struct tree *t, int parent_fd, const char *base, int want_dir, const char *path,
                 struct berr *err) {
  (void)t; /* the cache holds only this entry's parent, which removing a child leaves valid */
  struct stat st;
  if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0;
    return berr_sys(err, "inspecting %s", path);
  }
  if (want_dir && S_ISDIR(st.st_mode)) return 1;
  return remove_entry(parent_fd, base, path, err) < 0 ? -1 : 0;
}
