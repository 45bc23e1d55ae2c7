#include "rootfs.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PROC_FD_PATH 32

static void proc_fd(char buf[PROC_FD_PATH], int fd) { snprintf(buf, PROC_FD_PATH, "/proc/self/fd/%d", fd); }

int rootfs_open_in(const struct rootfs *r, const char *path, int flags, struct berr *err) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  /* Without a rootfs fd (after pivot, or in a joined mount namespace) the root is cwd "/". */
  int dirfd = r->fd >= 0 ? r->fd : AT_FDCWD;
  int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd < 0 && err) berr_sys(err, "opening %s in the rootfs", path);
  return fd;
}

/* Split "a/b/c" into its parent "a/b" (written to parent) and the last name. */
static const char *split_last(const char *path, char *parent, size_t cap) {
  while (*path == '/') path++;
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(parent, cap, ".");
    return path;
  }
  snprintf(parent, cap, "%.*s", (int)(slash - path), path);
  return slash + 1;
}

/* Whether rel (relative to the rootfs) exists without crossing a symlink; errno tells why not. */
static int symlink_free(const struct rootfs *r, const char *rel) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
  int fd = (int)syscall(SYS_openat2, r->fd >= 0 ? r->fd : AT_FDCWD, *rel ? rel : ".", &how, sizeof how);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* rel's directory exists without symlinks, and rel itself does not exist. */
static int parent_symlink_free(const struct rootfs *r, const char *rel) {
  char parent[4096];
  const char *slash = strrchr(rel, '/');
  if (!slash) return symlink_free(r, ".");
  if ((size_t)(slash - rel) >= sizeof parent) return 0;
  memcpy(parent, rel, (size_t)(slash - rel));
  parent[slash - rel] = '\0';
  return symlink_free(r, parent);
}

/* Resolve path inside the rootfs the way securejoin does: symlinks are followed
 * with the rootfs as "/", ".." stops at the rootfs, and the part that does not
 * exist yet is kept as written. The result has no symlinks in its existing part,
 * so creating it creates the target inside the rootfs, never beside a dangling link. */
static int secure_join(const struct rootfs *r, const char *path, char *out, size_t cap, struct berr *err) {
  /* Fast paths: the path, or (for a target still to be made) its parent, exists and
   * crosses no symlink — then it is already resolved. */
  const char *rel = path;
  while (*rel == '/') rel++;
  if (!strstr(rel, "..") && (symlink_free(r, rel) || (errno == ENOENT && parent_symlink_free(r, rel)))) {
    if (snprintf(out, cap, "/%s", rel) >= (int)cap) return berr_msg(err, "path %s is too long", path);
    return 0;
  }
  char rest[8192], cur[4096] = "";
  int links = 0;
  if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest) return berr_msg(err, "path %s is too long", path);
  char *p = rest;
  for (;;) {
    while (*p == '/') p++;
    if (!*p) break;
    char comp[256];
    size_t n = strcspn(p, "/");
    if (n >= sizeof comp) return berr_msg(err, "a component of %s is too long", path);
    memcpy(comp, p, n);
    comp[n] = '\0';
    p += n;
    if (strcmp(comp, ".") == 0) continue;
    if (strcmp(comp, "..") == 0) {
      char *slash = strrchr(cur, '/');
      if (slash) *slash = '\0';
      else cur[0] = '\0';
      continue;
    }
    char link[4096];
    ssize_t len = -1;
    int dfd = rootfs_open_in(r, cur, O_PATH | O_DIRECTORY, NULL);
    if (dfd >= 0) {
      len = readlinkat(dfd, comp, link, sizeof link - 1);
      close(dfd);
    }
    if (len < 0) { /* not a symlink, or not there yet: keep the name */
      size_t used = strlen(cur);
      if (snprintf(cur + used, sizeof cur - used, "%s%s", used ? "/" : "", comp) >= (int)(sizeof cur - used))
        return berr_msg(err, "path %s is too long", path);
      continue;
    }
    if (++links > 40) {
      errno = ELOOP;
      return berr_sys(err, "resolving %s in the rootfs", path);
    }
    link[len] = '\0';
    if (link[0] == '/') cur[0] = '\0';
    char joined[8192];
    if (snprintf(joined, sizeof joined, "%s/%s", link, p) >= (int)sizeof joined) return berr_msg(err, "path %s is too long", path);
    memcpy(rest, joined, strlen(joined) + 1);
    p = rest;
  }
  if (snprintf(out, cap, "/%s", cur) >= (int)cap) return berr_msg(err, "path %s is too long", path);
  return 0;
}

/* mkdir -p inside the rootfs, one component at a time, each resolved in root. */
static int mkdir_in_root(const struct rootfs *r, const char *path, struct berr *err) {
  int existing = rootfs_open_in(r, path, O_PATH | O_DIRECTORY, NULL);
  if (existing >= 0) {
    close(existing);
    return 0;
  }
  /* Most targets lack only their last component. */
  char parent[4096];
  const char *name = split_last(path, parent, sizeof parent);
  int pfd cleanup_fd = rootfs_open_in(r, parent, O_PATH | O_DIRECTORY, NULL);
  if (pfd >= 0 && mkdirat(pfd, name, 0755) == 0) return 0;
  char prefix[4096];
  size_t len = strlen(path);
  if (len >= sizeof prefix) return berr_msg(err, "path %s is too long", path);
  for (size_t i = 1; i <= len; i++) {
    if (i < len && path[i] != '/') continue;
    snprintf(prefix, sizeof prefix, "%.*s", (int)i, path);
    int fd = rootfs_open_in(r, prefix, O_PATH | O_DIRECTORY, NULL);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno != ENOENT) return berr_sys(err, "resolving %s in the rootfs", prefix);
    char parent[4096];
    const char *name = split_last(prefix, parent, sizeof parent);
    int pfd cleanup_fd = rootfs_open_in(r, parent, O_PATH | O_DIRECTORY, err);
    if (pfd < 0) return -1;
    if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) return berr_sys(err, "creating %s in the rootfs", prefix);
  }
  return 0;
}

/* Create an empty file (a bind target) unless something is already there. */
int rootfs_touch(const struct rootfs *r, const char *path, struct berr *err) {
  int fd = rootfs_open_in(r, path, O_PATH, NULL);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  char parent[4096];
  const char *name = split_last(path, parent, sizeof parent);
  if (mkdir_in_root(r, parent, err) < 0) return -1;
  int pfd cleanup_fd = rootfs_open_in(r, parent, O_PATH | O_DIRECTORY, err);
  if (pfd < 0) return -1;
  if (mknodat(pfd, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST) return berr_sys(err, "creating %s in the rootfs", path);
  return 0;
}

/* pivot_root refuses a new root whose parent mount is shared (rootfsPropagation
 * "shared" makes it so): make just that parent private, as runc does. */
static int make_parent_private(const char *path, struct berr *err) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return berr_sys(err, "reading /proc/self/mountinfo");
  char line[8192], best[4096] = "";
  int best_shared = 0;
  while (fgets(line, sizeof line, f)) {
    char mp[4096];
    if (sscanf(line, "%*d %*d %*s %*s %4095s", mp) != 1) continue;
    size_t n = strlen(mp);
    int covers = strcmp(mp, "/") == 0 || (strncmp(path, mp, n) == 0 && (path[n] == '/' || path[n] == '\0'));
    if (!covers || n < strlen(best)) continue;
    snprintf(best, sizeof best, "%s", mp);
    char *dash = strstr(line, " - ");
    char *shared = strstr(line, " shared:");
    best_shared = shared && dash && shared < dash;
  }
  fclose(f);
  if (best_shared && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0) return berr_sys(err, "making %s private", best);
  return 0;
}

int rootfs_setup(struct rootfs *r, const struct op *op, struct berr *err) {
  const char *path = op_str(op, 0);
  if (op_u64(op, 1)) {
    if (make_parent_private(path, err) < 0) return -1;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) return berr_sys(err, "binding the rootfs %s onto itself", path);
  }
  r->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->fd < 0) return berr_sys(err, "opening the rootfs %s", path);
  return 0;
}

int rootfs_mount_snapshot(const struct op *op, struct berr *err) {
  const char *target = op_str(op, 0), *fstype = op_str(op, 1), *source = op_str(op, 2), *data = op_str(op, 3), *cwd = op_str(op, 4);
  /* Compacted overlay options name lowerdirs relative to cwd (they must fit in one page). */
  if (*cwd && chdir(cwd) < 0) return berr_sys(err, "changing to %s for the rootfs mount", cwd);
  unsigned long flags = strcmp(fstype, "bind") == 0 ? MS_BIND | MS_REC : 0;
  int rc = mount(source, target, flags ? NULL : fstype, flags, flags ? NULL : data);
  int saved = errno;
  if (*cwd && chdir("/") < 0) return berr_sys(err, "changing back to /");
  errno = saved;
  if (rc < 0) return berr_sys(err, "mounting the %s root filesystem on %s", fstype, target);
  if (flags && strstr(data, "ro") && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return berr_sys(err, "making the root filesystem %s read-only", target);
  return 0;
}

int rootfs_propagation(const struct op *op, struct berr *err) {
  unsigned long flags = (unsigned long)op_u64(op, 0);
  if (mount(NULL, "/", NULL, flags | MS_REC, NULL) < 0) return berr_sys(err, "setting the propagation of /");
  return 0;
}

/* Flags a remount must keep or the kernel refuses it (locked in a user namespace). */
static unsigned long locked_flags(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) < 0) return 0;
  unsigned long out = 0;
  if (st.f_flags & ST_NOSUID) out |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) out |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) out |= MS_NOEXEC;
  return out;
}

static int remount(const struct rootfs *r, const char *target, unsigned long flags, struct berr *err) {
  int fd cleanup_fd = rootfs_open_in(r, target, O_PATH, err);
  if (fd < 0) return -1;
  char p[PROC_FD_PATH];
  proc_fd(p, fd);
  unsigned long keep = locked_flags(fd);
  if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) < 0)
    return berr_sys(err, "remounting %s with its options", target);
  return 0;
}

static int set_propagation(const struct rootfs *r, const char *target, unsigned long prop, struct berr *err) {
  int fd cleanup_fd = rootfs_open_in(r, target, O_PATH, err);
  if (fd < 0) return -1;
  char p[PROC_FD_PATH];
  proc_fd(p, fd);
  for (unsigned long bit = MS_UNBINDABLE; bit <= MS_SHARED; bit <<= 1)
    if ((prop & bit) && mount(NULL, p, NULL, bit | (prop & MS_REC), NULL) < 0)
      return berr_sys(err, "setting the propagation of %s", target);
  return 0;
}

static int set_recursive_attr(const struct rootfs *r, const char *target, uint64_t attr, struct berr *err) {
  int fd cleanup_fd = rootfs_open_in(r, target, O_PATH, err);
  if (fd < 0) return -1;
  struct mount_attr ma = {.attr_set = attr};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof ma) < 0)
    return berr_sys(err, "setting recursive mount attributes on %s", target);
  return 0;
}

static int bind_mount(const struct rootfs *r, const char *src, const char *target, unsigned long flags, struct berr *err) {
  int sfd cleanup_fd = open(src, O_PATH | O_CLOEXEC);
  if (sfd < 0) return berr_sys(err, "opening bind source %s", src);
  struct stat st;
  if (fstat(sfd, &st) < 0) return berr_sys(err, "inspecting bind source %s", src);
  if ((S_ISDIR(st.st_mode) ? mkdir_in_root(r, target, err) : rootfs_touch(r, target, err)) < 0) return -1;
  int tfd cleanup_fd = rootfs_open_in(r, target, O_PATH, err);
  if (tfd < 0) return -1;
  char sp[PROC_FD_PATH], tp[PROC_FD_PATH];
  proc_fd(sp, sfd);
  proc_fd(tp, tfd);
  if (mount(sp, tp, NULL, MS_BIND | (flags & MS_REC), NULL) < 0) return berr_sys(err, "bind mounting %s on %s", src, target);
  unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC);
  return extra ? remount(r, target, extra, err) : 0;
}

int rootfs_mount(struct rootfs *r, const struct op *op, struct berr *err) {
  const char *src = op_str(op, 0), *fstype = op_str(op, 2), *data = op_str(op, 4);
  char target[4096];
  if (secure_join(r, op_str(op, 1), target, sizeof target, err) < 0) return -1;
  unsigned long flags = (unsigned long)op_u64(op, 3), prop = (unsigned long)op_u64(op, 5);
  uint64_t mopt = op_u64(op, 6), attr = op_u64(op, 7);
  if (mopt & MOPT_BIND) {
    if (bind_mount(r, src, target, flags, err) < 0) return -1;
  } else {
    if (mkdir_in_root(r, target, err) < 0) return -1;
    int tfd cleanup_fd = rootfs_open_in(r, target, O_PATH | O_DIRECTORY, err);
    if (tfd < 0) return -1;
    char tp[PROC_FD_PATH];
    proc_fd(tp, tfd);
    if (mount(src, tp, fstype, flags, *data ? data : NULL) < 0)
      return berr_sys(err, "mounting %s (%s) on %s", src, fstype, target);
  }
  if (prop && set_propagation(r, target, prop, err) < 0) return -1;
  if ((mopt & MOPT_RECURSIVE_ATTR) && set_recursive_attr(r, target, attr, err) < 0) return -1;
  return 0;
}

int rootfs_mknod(struct rootfs *r, const struct op *op, struct berr *err) {
  char path[4096];
  if (secure_join(r, op_str(op, 0), path, sizeof path, err) < 0) return -1;
  char parent[4096];
  const char *name = split_last(path, parent, sizeof parent);
  if (mkdir_in_root(r, parent, err) < 0) return -1;
  int pfd cleanup_fd = rootfs_open_in(r, parent, O_PATH | O_DIRECTORY, err);
  if (pfd < 0) return -1;
  mode_t mode = (mode_t)op_u64(op, 1);
  if (mknodat(pfd, name, mode, (dev_t)op_u64(op, 2)) < 0) {
    if (errno != EEXIST) return berr_sys(err, "creating device %s", path);
    /* Replace whatever the image put there: the spec's device wins. */
    if (unlinkat(pfd, name, 0) < 0 || mknodat(pfd, name, mode, (dev_t)op_u64(op, 2)) < 0)
      return berr_sys(err, "replacing device %s", path);
  }
  if (fchownat(pfd, name, (uid_t)op_u64(op, 3), (gid_t)op_u64(op, 4), AT_SYMLINK_NOFOLLOW) < 0)
    return berr_sys(err, "setting the owner of device %s", path);
  return 0;
}

int rootfs_symlink(struct rootfs *r, const struct op *op, struct berr *err) {
  const char *target = op_str(op, 0);
  /* The link itself is replaced by nothing: only its directory is resolved. */
  char given_parent[4096], parent[4096];
  const char *name = split_last(op_str(op, 1), given_parent, sizeof given_parent);
  if (secure_join(r, given_parent, parent, sizeof parent, err) < 0) return -1;
  const char *path = op_str(op, 1);
  if (mkdir_in_root(r, parent, err) < 0) return -1;
  int pfd cleanup_fd = rootfs_open_in(r, parent, O_PATH | O_DIRECTORY, err);
  if (pfd < 0) return -1;
  if (symlinkat(target, pfd, name) < 0 && errno != EEXIST) return berr_sys(err, "creating symlink %s", path);
  return 0;
}

int rootfs_readonly_path(struct rootfs *r, const struct op *op, struct berr *err) {
  const char *path = op_str(op, 0);
  int fd cleanup_fd = rootfs_open_in(r, path, O_PATH, NULL);
  if (fd < 0) return errno == ENOENT ? 0 : berr_sys(err, "opening read-only path %s", path);
  char p[PROC_FD_PATH];
  proc_fd(p, fd);
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) return berr_sys(err, "binding read-only path %s", path);
  if (set_recursive_attr(r, path, MOUNT_ATTR_RDONLY, err) == 0) return 0;
  return remount(r, path, MS_RDONLY, err);
}

int rootfs_mask_path(struct rootfs *r, const struct op *op, struct berr *err) {
  const char *path = op_str(op, 0);
  int fd cleanup_fd = rootfs_open_in(r, path, O_PATH, NULL);
  if (fd < 0) return errno == ENOENT ? 0 : berr_sys(err, "opening masked path %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0) return berr_sys(err, "inspecting masked path %s", path);
  char p[PROC_FD_PATH];
  proc_fd(p, fd);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0) return berr_sys(err, "masking %s", path);
    return 0;
  }
  int nfd cleanup_fd = rootfs_open_in(r, "/dev/null", O_PATH, err);
  if (nfd < 0) return -1;
  struct stat nst;
  if (fstat(nfd, &nst) < 0) return berr_sys(err, "inspecting /dev/null");
  if (!S_ISCHR(nst.st_mode) || major(nst.st_rdev) != 1 || minor(nst.st_rdev) != 3)
    return berr_msg(err, "refusing to mask %s: the container's /dev/null is not the null device (1:3)", path);
  char np[PROC_FD_PATH];
  proc_fd(np, nfd);
  if (mount(np, p, NULL, MS_BIND, NULL) < 0) return berr_sys(err, "masking %s", path);
  return 0;
}

/* stdio that is the host's /dev/null becomes the container's own (runc's reOpenDevNull). */
static void reopen_dev_null(void) {
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) continue;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    dup3(null, fd, 0);
    close(null);
  }
}

int rootfs_pivot(struct rootfs *r, const struct op *op, struct berr *err) {
  if (fchdir(r->fd) < 0) return berr_sys(err, "entering the rootfs");
  uint64_t how = op_u64(op, 0);
  if (how == 2) {
    if (chroot(".") < 0) return berr_sys(err, "chroot into the rootfs");
  } else if (how == 1) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) return berr_sys(err, "moving the rootfs to /");
    if (chroot(".") < 0) return berr_sys(err, "chroot into the rootfs");
  } else {
    int oldroot cleanup_fd = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) return berr_sys(err, "opening the old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) return berr_sys(err, "pivot_root");
    if (fchdir(oldroot) < 0) return berr_sys(err, "entering the old root");
    /* The old root's unmount must not propagate back to the host. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return berr_sys(err, "making the old root a slave");
    if (umount2(".", MNT_DETACH) < 0) return berr_sys(err, "detaching the old root");
  }
  if (chdir("/") < 0) return berr_sys(err, "chdir /");
  reopen_dev_null();
  close(r->fd);
  r->fd = -1;
  return 0;
}

int rootfs_readonly_root(struct berr *err) {
  int fd cleanup_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening /");
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd), NULL) < 0)
    return berr_sys(err, "remounting the root read-only");
  return 0;
}
