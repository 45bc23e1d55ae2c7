#include "exec_trampoline.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth_exec_image.h"
#include "io.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int trampoline_memfd(struct berr *err) {
  int fd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return berr_sys(err, "creating the berth-exec memfd");
  if (write_full(fd, berth_exec_image, sizeof berth_exec_image) < 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    berr_sys(err, "sealing the berth-exec memfd");
    close(fd);
    return -1;
  }
  return fd;
}

void trampoline_exec(int memfd, const char *path, char *const argv[], char *const envp[]) {
  size_t argc = 0;
  while (argv[argc]) argc++;
  char **targv = calloc(argc + 3, sizeof *targv);
  if (!targv) return;
  targv[0] = (char *)BERTH_EXEC_MARKER;
  targv[1] = (char *)path;
  for (size_t i = 0; i < argc; i++) targv[i + 2] = argv[i];
  syscall(SYS_execveat, memfd, "", targv, envp, AT_EMPTY_PATH);
  /* A seccomp profile may allow execve but not execveat: go through /proc instead. */
  if (errno == EPERM || errno == ENOSYS) {
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", memfd);
    execve(proc, targv, envp);
  }
  int saved = errno;
  free(targv);
  errno = saved;
}
