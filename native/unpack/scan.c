/* The other direction: report a directory tree as records (wire.h) on stdout, for
 * layer diffs. `scan <dir>` reports everything (an overlay upper dir is the diff);
 * `diff <lower> <upper>` reports only what differs between two full trees (native
 * snapshots), ancestors first, and UOP_WHITEOUT for what the upper lacks. Nothing
 * is followed: every open is O_NOFOLLOW relative to an already-open directory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "scan.h"
#include "wire.h"

struct out {
  unsigned char buf[1 << 20];
  size_t len;
};

struct inode_seen {
  dev_t dev;
  ino_t ino;
  char *path;
};

struct scanner {
  struct out out;
  struct inode_seen *links;
  size_t nlinks, links_cap;
  char pending[1 << 16]; /* ancestors not yet emitted (diff mode), as "a\0a/b\0" */
  int skip_kernel_fs;    /* pack mode: a container's /proc, /sys, ... are listed, not walked */
};

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

/* A kernel interface mounted in a running container's root (seen through /proc/<pid>/root):
 * docker cp sees the container's filesystem and volumes, not these. */
static int kernel_fs(int dir_fd) {
  static const long kinds[] = {PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC,
                               MQUEUE_MAGIC, DEBUGFS_MAGIC, SECURITYFS_MAGIC, TRACEFS_MAGIC, BPF_FS_MAGIC, NSFS_MAGIC,
                               PSTOREFS_MAGIC, EFIVARFS_MAGIC, SELINUX_MAGIC, BINFMTFS_MAGIC};
  struct statfs fs;
  if (fstatfs(dir_fd, &fs) < 0) return 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if ((long)fs.f_type == kinds[i]) return 1;
  return 0;
}

static int flush_out(struct out *o, struct berr *err) {
  size_t off = 0;
  while (off < o->len) {
    ssize_t n = write(1, o->buf + off, o->len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return berr_sys(err, "writing records");
    off += (size_t)n;
  }
  o->len = 0;
  return 0;
}

static int put(struct out *o, const void *p, size_t len, struct berr *err) {
  const unsigned char *b = p;
  while (len > 0) {
    if (o->len == sizeof o->buf && flush_out(o, err) < 0) return -1;
    size_t take = sizeof o->buf - o->len < len ? sizeof o->buf - o->len : len;
    memcpy(o->buf + o->len, b, take);
    o->len += take;
    b += take;
    len -= take;
  }
  return 0;
}

static void le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void le64(unsigned char *p, uint64_t v) {
  le32(p, (uint32_t)v);
  le32(p + 4, (uint32_t)(v >> 32));
}

/* All xattrs of dir_fd/name as wire.h's xattr blob; *len = 0 when none. */
static unsigned char *read_xattrs(int dir_fd, const char *name, uint32_t *len, struct berr *err) {
  char path[64 + 4096], names[65536];
  snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dir_fd, name);
  *len = 0;
  ssize_t nl = llistxattr(path, names, sizeof names);
  if (nl <= 0) return NULL;
  unsigned char *blob = NULL;
  size_t cap = 0;
  for (char *k = names; k < names + nl; k += strlen(k) + 1) {
    unsigned char value[65536];
    ssize_t vl = lgetxattr(path, k, value, sizeof value);
    if (vl < 0) continue; /* raced away, or not readable here: reported as absent */
    size_t klen = strlen(k), need = *len + 8 + klen + (size_t)vl;
    if (need > cap) {
      cap = need * 2;
      unsigned char *n = realloc(blob, cap);
      if (!n) {
        free(blob);
        berr_sys(err, "allocating");
        return NULL;
      }
      blob = n;
    }
    le32(blob + *len, (uint32_t)klen);
    le32(blob + *len + 4, (uint32_t)vl);
    memcpy(blob + *len + 8, k, klen);
    memcpy(blob + *len + 8 + klen, value, (size_t)vl);
    *len = (uint32_t)need;
  }
  return blob;
}

static int emit(struct scanner *s, uint8_t op, const struct stat *st, const char *path, const char *link,
                const unsigned char *xattrs, uint32_t xattr_len, uint64_t size, struct berr *err) {
  unsigned char h[UNPACK_HDR_SIZE] = {0};
  uint32_t plen = (uint32_t)strlen(path), llen = link ? (uint32_t)strlen(link) : 0;
  h[0] = op;
  if (st) {
    le32(h + 4, st->st_mode & 07777);
    le32(h + 8, st->st_uid);
    le32(h + 12, st->st_gid);
    le64(h + 16, (uint64_t)st->st_mtim.tv_sec);
    le32(h + 24, (uint32_t)st->st_mtim.tv_nsec);
  }
  le32(h + 28, plen);
  le64(h + 32, size);
  le32(h + 40, llen);
  le32(h + 44, xattr_len);
  if (put(&s->out, h, sizeof h, err) < 0 || put(&s->out, path, plen, err) < 0 || put(&s->out, link, llen, err) < 0)
    return -1;
  return put(&s->out, xattrs, xattr_len, err);
}

static int emit_data(struct scanner *s, int fd, uint64_t size, const char *path, struct berr *err) {
  if (flush_out(&s->out, err) < 0) return -1;
  off_t off = 0;
  while ((uint64_t)off < size) {
    ssize_t n = sendfile(1, fd, &off, size - (uint64_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return berr_sys(err, "reading %s", path);
    if (n == 0) return berr_msg(err, "%s shrank while being read", path);
  }
  return 0;
}

static const char *first_link(struct scanner *s, const struct stat *st, const char *path) {
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].dev == st->st_dev && s->links[i].ino == st->st_ino) return s->links[i].path;
  if (s->nlinks == s->links_cap) {
    s->links_cap = s->links_cap ? s->links_cap * 2 : 64;
    s->links = realloc(s->links, s->links_cap * sizeof *s->links);
    if (!s->links) abort();
  }
  s->links[s->nlinks++] = (struct inode_seen){st->st_dev, st->st_ino, strdup(path)};
  return NULL;
}

/* One entry of dir_fd, already lstat'ed, reported under path. */
static int report(struct scanner *s, int dir_fd, const char *name, const struct stat *st, const char *path,
                  struct berr *err) {
  uint32_t xlen;
  cleanup_free unsigned char *x = read_xattrs(dir_fd, name, &xlen, err);
  if (S_ISDIR(st->st_mode)) return emit(s, UOP_DIR, st, path, NULL, x, xlen, 0, err);
  if (S_ISLNK(st->st_mode)) {
    char target[4097];
    ssize_t n = readlinkat(dir_fd, name, target, sizeof target - 1);
    if (n < 0) return berr_sys(err, "reading link %s", path);
    target[n] = '\0';
    return emit(s, UOP_SYMLINK, st, path, target, x, xlen, 0, err);
  }
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    uint64_t rdev = (uint64_t)major(st->st_rdev) << 32 | minor(st->st_rdev);
    return emit(s, S_ISCHR(st->st_mode) ? UOP_CHAR : UOP_BLOCK, st, path, NULL, x, xlen, rdev, err);
  }
  if (S_ISFIFO(st->st_mode)) return emit(s, UOP_FIFO, st, path, NULL, x, xlen, 0, err);
  if (!S_ISREG(st->st_mode)) return 0; /* sockets are not part of a layer */
  const char *target = st->st_nlink > 1 ? first_link(s, st, path) : NULL;
  if (target) return emit(s, UOP_HARDLINK, st, path, target, x, xlen, 0, err);
  cleanup_fd int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening %s", path);
  if (emit(s, UOP_FILE, st, path, NULL, x, xlen, (uint64_t)st->st_size, err) < 0) return -1;
  return emit_data(s, fd, (uint64_t)st->st_size, path, err);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int not_dots(const struct dirent *e) { return strcmp(e->d_name, ".") && strcmp(e->d_name, ".."); }

static int list_dir(int dir_fd, struct dirent ***names, const char *path, struct berr *err) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", dir_fd);
  int n = scandir(proc, names, not_dots, by_name);
  if (n < 0) return berr_sys(err, "listing %s", *path ? path : "/");
  return n;
}

static void join_path(char *out, size_t cap, const char *dir, const char *name) {
  snprintf(out, cap, "%s%s%s", dir, *dir ? "/" : "", name);
}

static int walk_all(struct scanner *s, int dir_fd, const char *path, struct berr *err) {
  struct dirent **names;
  int n = list_dir(dir_fd, &names, path, err), rc = 0;
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) {
    char child[4096 + 256];
    struct stat st;
    join_path(child, sizeof child, path, names[i]->d_name);
    if (rc == 0 && fstatat(dir_fd, names[i]->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      rc = berr_sys(err, "inspecting %s", child);
    if (rc == 0) rc = report(s, dir_fd, names[i]->d_name, &st, child, err);
    if (rc == 0 && S_ISDIR(st.st_mode)) {
      int sub = openat(dir_fd, names[i]->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) rc = berr_sys(err, "opening %s", child);
      else if (!(s->skip_kernel_fs && kernel_fs(sub))) rc = walk_all(s, sub, child, err);
      if (sub >= 0) close(sub);
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int scan_tree(const char *dir, struct berr *err) {
  static struct scanner s;
  cleanup_fd int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return berr_sys(err, "opening %s", dir);
  if (walk_all(&s, fd, "", err) < 0) return -1;
  if (emit(&s, UOP_END, NULL, "", NULL, NULL, 0, 0, err) < 0) return -1;
  return flush_out(&s.out, err);
}

/* diff mode: directories on the way down, emitted only when something below them is. */
struct pending_dir {
  struct pending_dir *up;
  int parent_fd;
  const char *name;
  const char *path;
  struct stat st;
  int emitted;
};

static int emit_ancestors(struct scanner *s, struct pending_dir *p, struct berr *err) {
  if (!p || p->emitted) return 0;
  if (emit_ancestors(s, p->up, err) < 0) return -1;
  p->emitted = 1;
  return report(s, p->parent_fd, p->name, &p->st, p->path, err);
}

static int same_entry(int lower_fd, int upper_fd, const char *name, const struct stat *l, const struct stat *u) {
  if ((l->st_mode & S_IFMT) != (u->st_mode & S_IFMT) || l->st_mode != u->st_mode || l->st_uid != u->st_uid ||
      l->st_gid != u->st_gid)
    return 0;
  if (S_ISDIR(u->st_mode)) return 1; /* children are compared one by one */
  if (l->st_mtim.tv_sec != u->st_mtim.tv_sec || l->st_mtim.tv_nsec != u->st_mtim.tv_nsec) return 0;
  if (S_ISREG(u->st_mode)) return l->st_size == u->st_size;
  if (S_ISCHR(u->st_mode) || S_ISBLK(u->st_mode)) return l->st_rdev == u->st_rdev;
  if (S_ISLNK(u->st_mode)) {
    char a[4097], b[4097];
    ssize_t na = readlinkat(lower_fd, name, a, sizeof a), nb = readlinkat(upper_fd, name, b, sizeof b);
    return na >= 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
  }
  return 1;
}

static int diff_dir(struct scanner *s, int lower_fd, int upper_fd, struct pending_dir *here, struct berr *err);

static int diff_entry(struct scanner *s, int lower_fd, int upper_fd, const char *name, struct pending_dir *here,
                      struct berr *err) {
  char child[4096 + 256];
  struct stat u, l;
  join_path(child, sizeof child, here->path, name);
  if (fstatat(upper_fd, name, &u, AT_SYMLINK_NOFOLLOW) < 0) return berr_sys(err, "inspecting %s", child);
  int in_lower = lower_fd >= 0 && fstatat(lower_fd, name, &l, AT_SYMLINK_NOFOLLOW) == 0;
  int same = in_lower && same_entry(lower_fd, upper_fd, name, &l, &u);
  struct pending_dir sub = {here, upper_fd, name, child, u, 0};
  if (!same) {
    if (emit_ancestors(s, here, err) < 0 || report(s, upper_fd, name, &u, child, err) < 0) return -1;
    sub.emitted = 1;
  }
  if (!S_ISDIR(u.st_mode)) return 0;
  cleanup_fd int ufd = openat(upper_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ufd < 0) return berr_sys(err, "opening %s", child);
  cleanup_fd int lfd = in_lower && S_ISDIR(l.st_mode) ? openat(lower_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (lfd < 0) return walk_all(s, ufd, child, err);
  return diff_dir(s, lfd, ufd, &sub, err);
}

static int diff_dir(struct scanner *s, int lower_fd, int upper_fd, struct pending_dir *here, struct berr *err) {
  struct dirent **un, **ln;
  int nu = list_dir(upper_fd, &un, here->path, err), rc = 0;
  if (nu < 0) return -1;
  int nl = list_dir(lower_fd, &ln, here->path, err);
  if (nl < 0) nl = 0, ln = NULL, rc = -1;
  int i = 0, j = 0;
  while (rc == 0 && (i < nu || j < nl)) {
    int cmp = i >= nu ? 1 : j >= nl ? -1 : strcmp(un[i]->d_name, ln[j]->d_name);
    if (cmp <= 0) rc = diff_entry(s, lower_fd, upper_fd, un[i]->d_name, here, err);
    if (cmp > 0) {
      char gone[4096 + 256];
      join_path(gone, sizeof gone, here->path, ln[j]->d_name);
      rc = emit_ancestors(s, here, err);
      if (rc == 0) rc = emit(s, UOP_WHITEOUT, NULL, gone, NULL, NULL, 0, 0, err);
    }
    if (cmp <= 0) i++;
    if (cmp >= 0) j++;
  }
  for (int k = 0; k < nu; k++) free(un[k]);
  for (int k = 0; k < nl; k++) free(ln[k]);
  free(un);
  free(ln);
  return rc;
}

int diff_trees(const char *lower, const char *upper, struct berr *err) {
  static struct scanner s;
  cleanup_fd int lfd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_fd int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lfd < 0) return berr_sys(err, "opening %s", lower);
  if (ufd < 0) return berr_sys(err, "opening %s", upper);
  struct pending_dir root = {NULL, -1, "", "", {0}, 1};
  if (diff_dir(&s, lfd, ufd, &root, err) < 0) return -1;
  if (emit(&s, UOP_END, NULL, "", NULL, NULL, 0, 0, err) < 0) return -1;
  return flush_out(&s.out, err);
}

int scan_entry(int parent_fd, const char *name, struct berr *err) {
  static struct scanner s;
  s.skip_kernel_fs = 1;
  struct stat st;
  if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return berr_sys(err, "inspecting %s", name);
  if (report(&s, parent_fd, name, &st, ".", err) < 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    cleanup_fd int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return berr_sys(err, "opening %s", name);
    if (!kernel_fs(fd) && walk_all(&s, fd, "", err) < 0) return -1;
  }
  if (emit(&s, UOP_END, NULL, "", NULL, NULL, 0, 0, err) < 0) return -1;
  return flush_out(&s.out, err);
}
