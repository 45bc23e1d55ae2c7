/* berth-exec: the last step before a container's process. The init execs this
 * tiny static program from a write-sealed memfd, and it execs the real program.
 * So at the moment the container's program is loaded, /proc/self/exe is this
 * sealed copy, never the host's berth-shim: an image whose interpreter is
 * /proc/self/exe (the CVE-2019-5736 trick) gets this program, which refuses to
 * run unless started by berth with its marker as argv[0].
 * argv: BERTH_EXEC_MARKER, path, argv[0] of the program, its arguments... */
#include <stddef.h>

#define MARKER "\001berth-exec"

#if defined(__x86_64__)
#define SYS_WRITE 1
#define SYS_EXECVE 59
#define SYS_EXIT 60
static long sys3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
__asm__(".global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n");
#elif defined(__aarch64__)
#define SYS_WRITE 64
#define SYS_EXECVE 221
#define SYS_EXIT 93
static long sys3(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
__asm__(".global _start\n_start:\n mov x0, sp\n bl start_c\n");
#else
#error "berth-exec supports x86_64 and aarch64"
#endif

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static void say(const char *a, const char *b) {
  sys3(SYS_WRITE, 2, (long)a, (long)len(a));
  sys3(SYS_WRITE, 2, (long)b, (long)len(b));
  sys3(SYS_WRITE, 2, (long)"\n", 1);
}

__attribute__((noreturn, used)) void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  const char *marker = MARKER;
  int ok = argc >= 3;
  for (size_t i = 0; ok && i <= len(marker); i++) ok = argv[0][i] == marker[i];
  if (!ok) {
    say("berth: refusing to run as an interpreter: ", argc > 0 ? argv[0] : "");
    sys3(SYS_EXIT, 126, 0, 0);
  }
  long err = sys3(SYS_EXECVE, (long)argv[1], (long)(argv + 2), (long)envp);
  say("berth: exec failed: ", argv[1]);
  sys3(SYS_EXIT, err == -2 ? 127 : 126, 0, 0);
  for (;;) {
  }
}
