#include "creds.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void) {
  int cap = 0;
  while (prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) cap++;
  return cap;
}

int creds_bounding(const struct op *op, struct berr *err) {
  uint64_t keep = op_u64(op, 0);
  int last = last_cap();
  for (int cap = 0; cap <= last && cap < 64; cap++)
    if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return berr_sys(err, "dropping capability %d from the bounding set", cap);
  return 0;
}

int creds_user(const struct op *op, struct berr *err) {
  uid_t uid = (uid_t)op_u64(op, 0);
  gid_t gid = (gid_t)op_u64(op, 1);
  const struct op_arg *groups = &op->args[2];
  if (op_u64(op, 3)) {
    size_t n = groups->len / 4;
    gid_t list[n ? n : 1];
    memcpy(list, groups->data, n * 4);
    if (setgroups(n, list) < 0) return berr_sys(err, "setting %zu supplementary groups", n);
  }
  if (setresgid(gid, gid, gid) < 0) return berr_sys(err, "setting gid %u", gid);
  /* Keep the permitted set across the uid change; OP_CAPS decides what stays. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return berr_sys(err, "PR_SET_KEEPCAPS");
  if (setresuid(uid, uid, uid) < 0) return berr_sys(err, "setting uid %u", uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return berr_sys(err, "PR_SET_KEEPCAPS");
  return 0;
}

int creds_caps(const struct op *op, struct berr *err) {
  uint64_t eff = op_u64(op, 0), perm = op_u64(op, 1), inh = op_u64(op, 2), amb = op_u64(op, 3);
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return berr_sys(err, "setting capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return berr_sys(err, "clearing ambient capabilities");
  for (int cap = 0; cap < 64; cap++)
    if ((amb & (1ull << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return berr_sys(err, "raising ambient capability %d", cap);
  return 0;
}

int creds_rlimit(const struct op *op, struct berr *err) {
  struct rlimit rl = {.rlim_cur = (rlim_t)op_u64(op, 1), .rlim_max = (rlim_t)op_u64(op, 2)};
  if (setrlimit((int)op_u64(op, 0), &rl) < 0) {
    if (errno == EPERM)
      return berr_sys(err, "setting %s to soft %llu hard %llu (raising a hard limit needs CAP_SYS_RESOURCE)",
                      op_str(op, 3), (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    return berr_sys(err, "setting %s", op_str(op, 3));
  }
  return 0;
}

int creds_cloexec_from(unsigned first, struct berr *err) {
  if (syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  if (errno != ENOSYS && errno != EINVAL) return berr_sys(err, "marking fds close-on-exec");
  /* Kernels before 5.11: every fd up to the soft limit, one by one. */
  struct rlimit rl;
  unsigned last = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 20 ? (unsigned)rl.rlim_cur : 1u << 20;
  for (unsigned fd = first; fd < last; fd++) {
    int flags = fcntl((int)fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return 0;
}

/* A new session keyring, so containers do not share the caller's keys; made
 * searchable by its possessor's user, as runc does. No keyring support: skip. */
int creds_session_keyring(const char *name, struct berr *err) {
  long id = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name);
  if (id < 0) return errno == ENOSYS ? 0 : berr_sys(err, "joining a new session keyring %s", name);
  char desc[256];
  long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc - 1);
  if (n < 0) return berr_sys(err, "describing the session keyring");
  desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = '\0';
  /* "type;uid;gid;perm;description": perm is the fourth field, in hex. */
  char *perm = desc;
  for (int i = 0; i < 3 && perm; i++) {
    perm = strchr(perm, ';');
    if (perm) perm++;
  }
  if (!perm) return berr_msg(err, "unexpected keyring description %s", desc);
  unsigned long bits = strtoul(perm, NULL, 16) | 0x080000 /* KEY_USR_SEARCH */;
  if (syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, id, bits) < 0) return berr_sys(err, "setting the session keyring's permissions");
  return 0;
}

int creds_no_new_privs(struct berr *err) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return berr_sys(err, "setting no_new_privs");
  return 0;
}

/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN in the effective set;
 * after a uid change only the permitted set remains, so raise it for the load.
 * The final capability sets are applied after. */
static int effective_from_permitted(struct berr *err) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return berr_sys(err, "reading capabilities");
  data[0].effective = data[0].permitted;
  data[1].effective = data[1].permitted;
  if (syscall(SYS_capset, &hdr, data) < 0) return berr_sys(err, "raising capabilities to load seccomp");
  return 0;
}

int creds_seccomp(const struct op *op, struct berr *err) {
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 && effective_from_permitted(err) < 0) return -1;
  struct sock_fprog prog = {.len = (unsigned short)(op->args[0].len / 8),
                            .filter = (struct sock_filter *)(void *)op->args[0].data};
  /* The buffer comes from the program bytes and may be unaligned; copy it. */
  struct sock_filter *copy = malloc(op->args[0].len ? op->args[0].len : 1);
  if (!copy) return berr_sys(err, "allocating the seccomp filter");
  memcpy(copy, op->args[0].data, op->args[0].len);
  prog.filter = copy;
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)op_u64(op, 1), &prog);
  free(copy);
  if (rc < 0) return berr_sys(err, "loading the seccomp filter (%u instructions)", prog.len);
  return 0;
}

/* chdir, then check the kernel agrees: a cwd outside the container's root shows
 * up as "(unreachable)" and must never reach the process (CVE-2024-21626). */
int creds_chdir(const struct op *op, struct berr *err) {
  const char *cwd = op_str(op, 0);
  if (chdir(cwd) < 0) return berr_sys(err, "chdir to cwd %s", cwd);
  char buf[4096];
  long n = syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) return berr_sys(err, "verifying cwd %s", cwd);
  if (buf[0] != '/') return berr_msg(err, "cwd %s resolves outside the container", cwd);
  return 0;
}
