/* Path resolution in a container's root as the container sees it (docker cp, archive stat).
 * Every symlink is followed as if the root were "/" (moby's FollowSymlinkInScope): ".."
 * never climbs above the root, an absolute target starts again at the root, and a missing
 * component is appended as text (so a dangling link still has a target to report). Each
 * lookup is an fstatat/readlinkat in a directory opened with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_SYMLINKS): the walk itself never follows anything, and a directory swapped
 * for a symlink while we walk makes the open fail instead of leading out. Mounts inside the
 * root are crossed (a running container's volumes), never above it: ".." stops at the root. */
#include "resolve.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 255 /* as filepath.EvalSymlinks and securejoin */

int open_resolved_dir(int root_fd, const char *rel, struct berr *err) {
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      /* Mounts are crossed: a running container's root (/proc/<pid>/root) has its volumes in it. */
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof how);
  if (fd < 0) return berr_sys(err, "opening /%s inside the root", rel);
  return fd;
}

/* resolved ("a/b", no leading slash) += "/" + name. */
static int append(char *resolved, size_t cap, const char *name, struct berr *err) {
  size_t len = strlen(resolved), n = strlen(name);
  if (len + 1 + n + 1 > cap) {
    errno = ENAMETOOLONG;
    return berr_sys(err, "resolving /%s/%s", resolved, name);
  }
  if (len) resolved[len++] = '/';
  memcpy(resolved + len, name, n + 1);
  return 0;
}

static void pop(char *resolved) {
  char *slash = strrchr(resolved, '/');
  if (slash) *slash = '\0';
  else resolved[0] = '\0';
}

/* The lookup of one component below resolved: 0 with *st filled, 1 when it does not exist. */
static int look_up(int root_fd, const char *resolved, const char *name, struct stat *st, int *dir_fd,
                   struct berr *err) {
  *dir_fd = open_resolved_dir(root_fd, resolved, err);
  if (*dir_fd < 0) return err->errnum == ENOENT ? 1 : -1;
  if (fstatat(*dir_fd, name, st, AT_SYMLINK_NOFOLLOW) == 0) return 0;
  if (errno == ENOENT) return 1;
  return berr_sys(err, "inspecting /%s%s%s", resolved, *resolved ? "/" : "", name);
}

int resolve_in_root(int root_fd, const char *path, char *out, size_t cap, struct berr *err) {
  char *todo = strdup(path);
  if (!todo) return berr_sys(err, "allocating");
  char *rest = todo;
  int links = 0, rc = 0;
  out[0] = '\0';
  while (rc == 0 && *rest) {
    size_t n = strcspn(rest, "/");
    char name[NAME_MAX + 1];
    if (n > NAME_MAX) {
      errno = ENAMETOOLONG;
      rc = berr_sys(err, "resolving %s", path);
      break;
    }
    memcpy(name, rest, n);
    name[n] = '\0';
    rest += n + (rest[n] == '/');
    if (n == 0 || !strcmp(name, ".")) continue;
    if (!strcmp(name, "..")) {
      pop(out);
      continue;
    }
    struct stat st;
    int dir_fd = -1, found = look_up(root_fd, out, name, &st, &dir_fd, err);
    if (found < 0) {
      rc = -1;
    } else if (found == 0 && S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t tl = readlinkat(dir_fd, name, target, sizeof target - 1);
      if (tl < 0) rc = berr_sys(err, "reading link /%s%s%s", out, *out ? "/" : "", name);
      else if (++links > MAX_LINKS) errno = ELOOP, rc = berr_sys(err, "resolving %s", path);
      if (rc == 0) {
        target[tl] = '\0';
        if (target[0] == '/') out[0] = '\0';
        char *next = malloc((size_t)tl + 1 + strlen(rest) + 1);
        if (!next) rc = berr_sys(err, "allocating");
        else {
          sprintf(next, "%s/%s", target, rest);
          free(todo);
          todo = rest = next;
        }
      }
    } else {
      rc = append(out, cap, name, err); /* a directory, a file, or missing: taken as written */
    }
    if (dir_fd >= 0) close(dir_fd);
  }
  free(todo);
  return rc;
}

int resolve_parent(int root_fd, const char *path, char *name, struct berr *err) {
  size_t len = strlen(path);
  int follow_final = len == 0 || path[len - 1] == '/' || !strcmp(path, ".") ||
                     (len >= 2 && !strcmp(path + len - 2, "/."));
  char dir[PATH_MAX];
  if (len >= sizeof dir) {
    errno = ENAMETOOLONG;
    return berr_sys(err, "resolving %s", path);
  }
  if (follow_final) {
    /* "dir/." and "dir/" name the directory itself, reached through any symlink. */
    strcpy(dir, path);
    strcpy(name, ".");
  } else {
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    if (strlen(base) > NAME_MAX) {
      errno = ENAMETOOLONG;
      return berr_sys(err, "resolving %s", path);
    }
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    strcpy(name, base);
  }
  char resolved[PATH_MAX];
  if (resolve_in_root(root_fd, dir, resolved, sizeof resolved, err) < 0) return -1;
  return open_resolved_dir(root_fd, resolved, err);
}
