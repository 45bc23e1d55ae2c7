#include "program.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

/* Expected argument shapes, checked once so executors can trust op_str/op_u64. */
struct op_shape {
  uint16_t code;
  const char *args; /* s = NUL-terminated string, u = u64, b = bytes */
};

static const struct op_shape shapes[] = {
    {OP_MODE, "u"}, {OP_STATE_DIR, "s"}, {OP_PRESERVE_FDS, "u"}, {OP_CONSOLE_SOCKET, "s"},
    {OP_TERMINAL, "uu"}, {OP_MONITOR_LOG, "suu"}, {OP_MONITOR_OOM, "ss"}, {OP_MONITOR_STDIN, "uu"},
    {OP_WAIT_AFTER_CREATE, ""}, {OP_CGROUP_BPF, "sb"}, {OP_HOOK_STATE, "sss"}, {OP_HOST_TOOL, "sbs"}, {OP_EXIT_UNMOUNT, "s"},
    {OP_CGROUP_JOIN, "s"}, {OP_JOIN_NS, "us"}, {OP_NEW_USERNS, "ssu"}, {OP_UNSHARE, "u"},
    {OP_TIMENS_OFFSETS, "s"}, {OP_CGROUP_CLONE_INTO, "s"}, {OP_CGROUPNS, ""}, {OP_SESSION_KEYRING, "s"}, {OP_SETHOSTNAME, "s"}, {OP_SETDOMAINNAME, "s"}, {OP_SYSCTL, "ss"},
    {OP_ROOT_PROPAGATION, "u"}, {OP_ROOTFS, "su"}, {OP_MOUNT, "sssusuuu"}, {OP_MKNOD, "suuuu"},
    {OP_SYMLINK, "ss"}, {OP_HOOK, "sbbus"}, {OP_SYNC_HOOKS, ""}, {OP_PIVOT_ROOT, "u"},
    {OP_READONLY_ROOT, ""}, {OP_READONLY_PATH, "s"}, {OP_MASK_PATH, "s"}, {OP_CONSOLE, "uuuu"},
    {OP_OOM_SCORE_ADJ, "s"}, {OP_RLIMIT, "uuus"}, {OP_UMASK, "u"}, {OP_USER, "uubu"},
    {OP_CHDIR, "s"}, {OP_CLOEXEC_FROM, "u"}, {OP_NO_NEW_PRIVS, ""}, {OP_CAPS_BOUNDING, "u"},
    {OP_CAPS, "uuuu"}, {OP_SECCOMP, "bu"}, {OP_LSM_LABEL, "ss"}, {OP_EXEC_FIFO, "s"},
    {OP_REPORT_READY, ""}, {OP_WAIT_START, ""}, {OP_EXEC, "sbb"}, {OP_PERSONALITY, "u"}, {OP_LOOPBACK_UP, ""}, {OP_MOUNT_ROOTFS, "sssss"},
};

static const char *shape_of(uint16_t code) {
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    if (shapes[i].code == code) return shapes[i].args;
  return NULL;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int check_arg(const struct op_arg *arg, char kind) {
  if (kind == 'u') return arg->len == 8;
  if (kind == 's') return arg->len >= 1 && arg->data[arg->len - 1] == '\0' &&
                          memchr(arg->data, '\0', arg->len) == arg->data + arg->len - 1;
  return 1;
}

static int parse_op(const unsigned char **cur, const unsigned char *end, struct op *op, struct berr *err) {
  const unsigned char *p = *cur;
  if (end - p < 8) return berr_msg(err, "setup program: truncated op header");
  op->code = (uint16_t)(p[0] | p[1] << 8);
  op->argc = (uint16_t)(p[2] | p[3] << 8);
  uint32_t total = le32(p + 4);
  p += 8;
  if (total > (size_t)(end - p)) return berr_msg(err, "setup program: op %d overruns the program", op->index);
  const unsigned char *op_end = p + total;
  const char *shape = shape_of(op->code);
  if (!shape) return berr_msg(err, "setup program: unknown op code %u", op->code);
  if (op->argc != strlen(shape) || op->argc > OP_MAX_ARGS)
    return berr_msg(err, "setup program: op %u has %u arguments, expected %zu", op->code, op->argc, strlen(shape));
  for (int i = 0; i < op->argc; i++) {
    if (op_end - p < 4) return berr_msg(err, "setup program: truncated argument");
    uint32_t len = le32(p);
    p += 4;
    if (len > (size_t)(op_end - p)) return berr_msg(err, "setup program: argument overruns op");
    op->args[i].data = p;
    op->args[i].len = len;
    if (!check_arg(&op->args[i], shape[i]))
      return berr_msg(err, "setup program: op %u argument %d is not a valid '%c'", op->code, i, shape[i]);
    p += len;
  }
  if (p != op_end) return berr_msg(err, "setup program: op %u has trailing bytes", op->code);
  *cur = p;
  return 0;
}

int program_read(int fd, struct program *prog, struct berr *err) {
  unsigned char head[8];
  memset(prog, 0, sizeof *prog);
  if (read_full(fd, head, sizeof head) < 0) return berr_sys(err, "reading the setup program header");
  if (le32(head) != PROGRAM_MAGIC) return berr_msg(err, "setup program: bad magic");
  uint32_t len = le32(head + 4);
  if (len > PROGRAM_MAX_BYTES) return berr_msg(err, "setup program: %u bytes is too large", len);
  prog->buf = malloc(len ? len : 1);
  if (!prog->buf) return berr_sys(err, "allocating the setup program");
  if (read_full(fd, prog->buf, len) < 0) return berr_sys(err, "reading the setup program");

  size_t cap = 64;
  prog->ops = calloc(cap, sizeof *prog->ops);
  if (!prog->ops) return berr_sys(err, "allocating the setup program");
  const unsigned char *cur = prog->buf, *end = prog->buf + len;
  while (cur < end) {
    if (prog->nops == cap) {
      struct op *grown = realloc(prog->ops, 2 * cap * sizeof *prog->ops);
      if (!grown) return berr_sys(err, "allocating the setup program");
      prog->ops = grown;
      cap *= 2;
    }
    struct op *op = &prog->ops[prog->nops];
    op->index = (int)prog->nops;
    if (parse_op(&cur, end, op, err) < 0) return -1;
    prog->nops++;
  }
  return 0;
}

void program_free(struct program *prog) {
  free(prog->buf);
  free(prog->ops);
  memset(prog, 0, sizeof *prog);
}

const char *op_str(const struct op *op, int i) { return (const char *)op->args[i].data; }

uint64_t op_u64(const struct op *op, int i) {
  uint64_t v = 0;
  for (int b = 7; b >= 0; b--) v = v << 8 | op->args[i].data[b];
  return v;
}

const struct op *program_find(const struct program *prog, uint16_t code) {
  for (size_t i = 0; i < prog->nops; i++)
    if (prog->ops[i].code == code) return &prog->ops[i];
  return NULL;
}

char **op_list(const struct op *op, int i) {
  const struct op_arg *a = &op->args[i];
  size_t n = 0;
  for (uint32_t k = 0; k < a->len; k++)
    if (a->data[k] == '\0') n++;
  char **list = calloc(n + 1, sizeof *list);
  if (!list) return NULL;
  size_t at = 0;
  for (uint32_t k = 0, start = 0; k < a->len; k++)
    if (a->data[k] == '\0') {
      list[at++] = (char *)a->data + start;
      start = k + 1;
    }
  return list;
}
