/* Disk usage of one snapshot directory. Snapshot commit needs it for every layer; a
 * walk from Node pays a thread-pool round trip per entry (seconds for a rootfs), nftw
 * pays a syscall. Only inodes with more than one link are remembered, so a tree of
 * hardlinks is counted once without a table of every inode. */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "du.h"

struct seen {
  uint64_t *keys; /* dev ^ ino mixes collide harmlessly rarely; both are stored */
  uint64_t *devs;
  size_t cap, len;
};

static struct seen linked;
static uint64_t total_bytes, total_inodes;
static dev_t root_dev;

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

/* 1 if (dev, ino) was new, 0 if seen before, -1 on allocation failure. */
static int remember(dev_t dev, ino_t ino) {
  if (linked.len * 2 >= linked.cap) {
    size_t cap = linked.cap ? linked.cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys), *devs = calloc(cap, sizeof *devs);
    if (!keys || !devs) return -1;
    for (size_t i = 0; i < linked.cap; i++) {
      if (!linked.keys[i]) continue;
      size_t j = mix(linked.keys[i] ^ linked.devs[i]) & (cap - 1);
      while (keys[j]) j = (j + 1) & (cap - 1);
      keys[j] = linked.keys[i];
      devs[j] = linked.devs[i];
    }
    free(linked.keys);
    free(linked.devs);
    linked.keys = keys;
    linked.devs = devs;
    linked.cap = cap;
  }
  uint64_t key = (uint64_t)ino + 1; /* 0 marks an empty slot */
  size_t j = mix(key ^ (uint64_t)dev) & (linked.cap - 1);
  for (; linked.keys[j]; j = (j + 1) & (linked.cap - 1))
    if (linked.keys[j] == key && linked.devs[j] == (uint64_t)dev) return 0;
  linked.keys[j] = key;
  linked.devs[j] = (uint64_t)dev;
  linked.len++;
  return 1;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)path;
  (void)ftw;
  if (type == FTW_NS || st->st_dev != root_dev) return 0;
  if (type != FTW_D && type != FTW_DNR && st->st_nlink > 1) {
    int fresh = remember(st->st_dev, st->st_ino);
    if (fresh < 0) {
      errno = ENOMEM;
      return -1;
    }
    if (!fresh) return 0;
  }
  total_bytes += (uint64_t)st->st_blocks * 512;
  total_inodes++;
  return 0;
}

int disk_usage(const char *dir, struct berr *err) {
  struct stat st;
  if (lstat(dir, &st) < 0) return berr_sys(err, "lstat %s", dir);
  root_dev = st.st_dev;
  if (nftw(dir, visit, 64, FTW_PHYS | FTW_MOUNT) < 0) return berr_sys(err, "walking %s", dir);
  printf("%llu %llu\n", (unsigned long long)total_bytes, (unsigned long long)total_inodes);
  return fflush(stdout) == 0 ? 0 : berr_sys(err, "writing the result");
}
