/* OOM watch. When the kernel's OOM killer kills in the container's memory cgroup,
 * <state_dir>/oom is written (empty, atomically), once.
 * The cgroup is taken to be the container's own, created for it: any OOM kill it
 * counts (oom_kill > 0) is the container's, even one from before the monitor
 * started watching (the container may already run when monitor_run is called).
 *  - cgroup v1: an eventfd registered through cgroup.event_control against
 *    memory.oom_control. The kernel signals it when the cgroup goes under OOM,
 *    just *before* it picks a victim, and also when the cgroup is removed; so an
 *    event is confirmed by the oom_kill counter of memory.oom_control (Linux 4.13+),
 *    looked at again a few times shortly after the event. Without the counter, an
 *    event while the cgroup still exists counts (as in conmon and containerd).
 *  - cgroup v2: inotify IN_MODIFY on memory.events and its oom_kill counter.
 * v1 is used when both directories are given. Before the exit file is written the
 * counter is read once more, so a kill is not missed for want of an event. */
#include "monitor_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#define RECHECK_FIRST_MS 10
#define RECHECK_EVERY_MS 100
#define RECHECKS 10

/* The value of `key N` in a flat-keyed cgroup file; -1 when the key is absent,
 * -2 when the file cannot be read (the cgroup is gone). */
static long long read_counter(const char *path, const char *key) {
  char buf[4096];
  cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -2;
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -2;
    if (n == 0 || len + (size_t)n == sizeof buf - 1) {
      len += (size_t)n;
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  size_t klen = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
      return strtoll(line + klen + 1, NULL, 10);
  }
  return -1;
}

static char *join(const char *dir, const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0)
    return NULL;
  return p;
}

static int open_v1(struct mon_oom *oom, const char *dir, struct berr *err) {
  oom->counter_path = join(dir, "memory.oom_control");
  cleanup_free char *ctl_path = join(dir, "cgroup.event_control");
  if (!oom->counter_path || !ctl_path)
    return berr_sys(err, "allocate cgroup path");
  oom->v1_ctl_fd = open(oom->counter_path, O_RDONLY | O_CLOEXEC);
  if (oom->v1_ctl_fd < 0)
    return berr_sys(err, "open %s", oom->counter_path);
  oom->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (oom->fd < 0)
    return berr_sys(err, "eventfd");
  cleanup_fd int cfd = open(ctl_path, O_WRONLY | O_CLOEXEC);
  if (cfd < 0)
    return berr_sys(err, "open %s", ctl_path);
  char line[64];
  int n = snprintf(line, sizeof line, "%d %d", oom->fd, oom->v1_ctl_fd);
  if (write(cfd, line, (size_t)n) != n)
    return berr_sys(err, "register OOM eventfd in %s", ctl_path);
  oom->v1 = 1;
  oom->has_counter = read_counter(oom->counter_path, "oom_kill") >= 0;
  return 0;
}

static int open_v2(struct mon_oom *oom, const char *dir, struct berr *err) {
  oom->counter_path = join(dir, "memory.events");
  if (!oom->counter_path)
    return berr_sys(err, "allocate cgroup path");
  oom->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (oom->fd < 0)
    return berr_sys(err, "inotify_init1");
  if (inotify_add_watch(oom->fd, oom->counter_path, IN_MODIFY) < 0)
    return berr_sys(err, "watch %s", oom->counter_path);
  if (read_counter(oom->counter_path, "oom_kill") < 0)
    return berr_msg(err, "%s has no oom_kill counter", oom->counter_path);
  oom->has_counter = 1;
  return 0;
}

int mon_oom_open(struct monitor *m, struct berr *err) {
  struct mon_oom *oom = &m->oom;
  oom->fd = oom->v1_ctl_fd = -1;
  int rc = 0;
  if (m->cfg->oom_v1_memory_dir)
    rc = open_v1(oom, m->cfg->oom_v1_memory_dir, err);
  else if (m->cfg->oom_v2_dir)
    rc = open_v2(oom, m->cfg->oom_v2_dir, err);
  if (rc < 0) {
    mon_oom_close(m);
    return rc;
  }
  mon_oom_handle(m); /* a kill before we watched */
  return 0;
}

static void stop_watching(struct mon_oom *oom) {
  if (oom->fd >= 0)
    close(oom->fd);
  if (oom->v1_ctl_fd >= 0)
    close(oom->v1_ctl_fd);
  oom->fd = oom->v1_ctl_fd = -1;
  oom->recheck_at = 0;
}

static void record(struct monitor *m) {
  if (m->oom.seen)
    return;
  m->oom.seen = 1;
  m->oom.recheck_at = 0;
  struct berr err = {.op = -1};
  if (mon_write_state_file(m, "oom", "", 0, &err) < 0)
    fprintf(stderr, "berth-shim: monitor: %s\n", err.msg);
}

/* 1: a kill is confirmed, 0: not (yet), -1: the cgroup is gone. */
static int kills_seen(struct mon_oom *oom) {
  long long kills = read_counter(oom->counter_path, "oom_kill");
  if (kills == -2)
    return -1;
  if (!oom->has_counter || kills < 0)
    return oom->event; /* no counter: the event alone counts */
  return kills > 0;
}

void mon_oom_handle(struct monitor *m) {
  struct mon_oom *oom = &m->oom;
  if (!oom->counter_path || oom->seen)
    return;
  if (oom->fd >= 0) {
    if (oom->v1) {
      uint64_t count;
      if (read(oom->fd, &count, sizeof count) == (ssize_t)sizeof count) {
        oom->event = 1;
        oom->rechecks_left = RECHECKS;
        oom->recheck_at = mon_now_ms() + RECHECK_FIRST_MS;
      }
    } else {
      char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
      ssize_t n;
      while ((n = read(oom->fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
          struct inotify_event *ev = (struct inotify_event *)p;
          if (ev->mask & IN_IGNORED)
            oom->event = -1; /* the file went away with its cgroup */
          p += sizeof *ev + ev->len;
        }
      }
    }
  }
  int seen = kills_seen(oom);
  if (seen > 0) {
    record(m);
    return;
  }
  if (seen < 0 || oom->event < 0) {
    stop_watching(oom);
    return;
  }
  if (oom->v1 && oom->recheck_at > 0 && mon_now_ms() >= oom->recheck_at) {
    if (--oom->rechecks_left > 0)
      oom->recheck_at = mon_now_ms() + RECHECK_EVERY_MS;
    else
      oom->recheck_at = 0;
  }
}

void mon_oom_final_check(struct monitor *m) {
  struct mon_oom *oom = &m->oom;
  if (!oom->counter_path || oom->seen)
    return;
  if (oom->fd >= 0)
    mon_oom_handle(m); /* an event not yet read */
  if (!oom->seen && kills_seen(oom) > 0)
    record(m);
}

void mon_oom_close(struct monitor *m) {
  stop_watching(&m->oom);
  free(m->oom.counter_path);
  m->oom.counter_path = NULL;
}
