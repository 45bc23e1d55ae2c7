/* Test payload: reports what the container's process may do, one line per probe,
 * as "<name> ok" or "<name> <errno name>". Static; runs in any rootfs.
 *   probe syscalls   unshare(CLONE_NEWUSER), mount, keyctl, getpid, clone(CLONE_NEWNS)
 *   probe fds        every open fd above 2 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    default: return strerror(e);
  }
}

static void report(const char *name, long rc) {
  if (rc < 0) printf("%s %s\n", name, errname(errno));
  else printf("%s ok\n", name);
}

static int child_fn(void *arg) {
  (void)arg;
  return 0;
}

static void syscalls(void) {
  report("getpid", syscall(SYS_getpid));
  report("unshare-user", unshare(CLONE_NEWUSER));
  report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
  report("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, 0));
  static char stack[16384];
  int pid = clone(child_fn, stack + sizeof stack, CLONE_NEWNS | SIGCHLD, NULL);
  report("clone-newns", pid);
  if (pid > 0) waitpid(pid, NULL, 0);
}

static void fds(void) {
  for (int fd = 3; fd < 65536; fd++)
    if (fcntl(fd, F_GETFD) >= 0) {
      char link[64], target[512];
      snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(link, target, sizeof target - 1);
      target[n > 0 ? n : 0] = '\0';
      printf("fd %d %s\n", fd, target);
    }
  printf("fds done\n");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "syscalls") == 0) syscalls();
  else if (argc == 2 && strcmp(argv[1], "fds") == 0) fds();
  else {
    fprintf(stderr, "usage: probe syscalls|fds\n");
    return 2;
  }
  return 0;
}
