/* cgroup v2 device filter loader: BPF_PROG_LOAD, BPF_PROG_ATTACH, and removal
 * of berth's earlier programs on the same cgroup (after runc's
 * devices/ebpf_linux.go, without the library). */
#include "cgroup_bpf.h"

#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 65536         /* a device filter is ~8 insns a rule; anything near this is a bug */
#define VERIFIER_LOG_SIZE 65536 /* enough for a device filter's whole verifier trace */

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int prog_load(const void *insns, size_t insn_count, char *log, size_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = (uint32_t)insn_count;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.license = (uint64_t)(uintptr_t) "Apache";
  if (log) {
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)log_size;
  }
  strncpy(attr.prog_name, CGROUP_BPF_PROG_NAME, sizeof attr.prog_name - 1);
  return sys_bpf(BPF_PROG_LOAD, &attr);
}

/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; raise it only for
 * the retry, and put it back so nothing we fork inherits the change. */
static int prog_load_memlock(const void *insns, size_t insn_count) {
  struct rlimit old, inf = {RLIM_INFINITY, RLIM_INFINITY};
  if (getrlimit(RLIMIT_MEMLOCK, &old) < 0 || setrlimit(RLIMIT_MEMLOCK, &inf) < 0) {
    errno = EPERM;
    return -1;
  }
  int fd = prog_load(insns, insn_count, NULL, 0);
  int saved = errno;
  setrlimit(RLIMIT_MEMLOCK, &old);
  errno = saved;
  return fd;
}

/* The verifier's complaint, trimmed to its last lines so it fits in berr. */
static const char *log_tail(char *log) {
  size_t len = strlen(log);
  while (len > 0 && (log[len - 1] == '\n' || log[len - 1] == ' ')) len--;
  log[len] = '\0';
  return log + (len > 400 ? len - 400 : 0);
}

static int load_program(const void *insns, size_t insn_count, struct berr *err) {
  int fd = prog_load(insns, insn_count, NULL, 0);
  if (fd < 0 && errno == EPERM) fd = prog_load_memlock(insns, insn_count);
  if (fd >= 0) return fd;
  if (errno != EINVAL && errno != EACCES) return berr_sys(err, "loading the cgroup device filter (%zu instructions)", insn_count);
  /* Rejected by the verifier: load again with a log to say why. */
  int saved = errno;
  cleanup_free char *log = calloc(1, VERIFIER_LOG_SIZE);
  if (log) {
    fd = prog_load(insns, insn_count, log, VERIFIER_LOG_SIZE - 1);
    if (fd >= 0) return fd; /* a transient refusal; take the program */
  }
  errno = saved;
  return berr_sys(err, "loading the cgroup device filter (%zu instructions): verifier: %s", insn_count,
                  log && log[0] ? log_tail(log) : "(no log)");
}

/* Program ids attached directly to the cgroup for BPF_CGROUP_DEVICE; *count set. Caller frees. */
static uint32_t *query_attached(int cgroup_dirfd, uint32_t *count, struct berr *err) {
  uint32_t cap = 64;
  for (int tries = 0; tries < 10; tries++) {
    uint32_t *ids = calloc(cap, sizeof *ids);
    if (!ids) {
      berr_sys(err, "allocating the BPF program id list");
      return NULL;
    }
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_dirfd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = cap;
    if (sys_bpf(BPF_PROG_QUERY, &attr) == 0) {
      *count = attr.query.prog_cnt;
      return ids;
    }
    int saved = errno;
    free(ids);
    if (saved != ENOSPC) {
      errno = saved;
      berr_sys(err, "querying the cgroup's device filters (BPF_PROG_QUERY)");
      return NULL;
    }
    cap = attr.query.prog_cnt + 16; /* more appeared; the kernel told us how many */
  }
  berr_msg(err, "querying the cgroup's device filters: the list kept growing");
  return NULL;
}

/* An fd for program id if it is one of berth's, else -1 (others' programs, or gone, or hidden by an LSM). */
static int berth_prog_fd(uint32_t id) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return -1;
  struct bpf_prog_info info;
  memset(&info, 0, sizeof info);
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)fd;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 || strncmp(info.name, CGROUP_BPF_PROG_NAME, sizeof info.name) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int attach(int cgroup_dirfd, int prog_fd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgroup_dirfd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  return sys_bpf(BPF_PROG_ATTACH, &attr);
}

static int detach(int cgroup_dirfd, int prog_fd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgroup_dirfd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  return sys_bpf(BPF_PROG_DETACH, &attr);
}

int cgroup_bpf_attach_devices(int cgroup_dirfd, const void *insns, size_t insn_count, struct berr *err) {
  if (insn_count == 0 || insn_count > MAX_INSNS) {
    return berr_msg(err, "cgroup device filter has %zu instructions (want 1..%d)", insn_count, MAX_INSNS);
  }
  /* Find our old programs before attaching, so the new one is never mistaken for one. */
  uint32_t count = 0;
  cleanup_free uint32_t *ids = query_attached(cgroup_dirfd, &count, err);
  if (!ids) return -1;
  cleanup_free int *old = calloc(count ? count : 1, sizeof *old);
  if (!old) return berr_sys(err, "allocating the BPF program fd list");
  size_t nold = 0;
  for (uint32_t i = 0; i < count; i++) {
    int fd = berth_prog_fd(ids[i]);
    if (fd >= 0) old[nold++] = fd;
  }

  int rc = 0;
  cleanup_fd int prog = load_program(insns, insn_count, err);
  if (prog < 0) {
    rc = -1;
  } else if (attach(cgroup_dirfd, prog) < 0) {
    rc = berr_sys(err, "attaching the cgroup device filter (BPF_PROG_ATTACH BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)");
  } else {
    for (size_t i = 0; i < nold && rc == 0; i++) {
      if (detach(cgroup_dirfd, old[i]) < 0 && errno != ENOENT) {
        rc = berr_sys(err, "detaching berth's previous cgroup device filter (BPF_PROG_DETACH)");
      }
    }
  }
  for (size_t i = 0; i < nold; i++) close(old[i]);
  return rc;
}
