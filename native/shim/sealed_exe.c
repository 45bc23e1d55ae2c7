/* Run from a sealed copy of ourselves (after runc's CVE-2019-5736 fix): a process
 * in the container that reaches /proc/<pid>/exe of the shim or of its stages finds
 * a write-sealed memfd, never the host's berth-shim binary. */
#include "sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static int running_sealed(int self) {
  int seals = fcntl(self, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

int sealed_exe_reexec(char **argv, struct berr *err) {
  int self cleanup_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return berr_sys(err, "opening /proc/self/exe");
  if (running_sealed(self)) return 0;
  struct stat st;
  if (fstat(self, &st) < 0) return berr_sys(err, "inspecting /proc/self/exe");
  int mfd cleanup_fd = memfd_create("berth-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create("berth-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return berr_sys(err, "creating a memfd for the sealed shim");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(mfd, self, NULL, (size_t)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return berr_sys(err, "copying the shim into a memfd");
    left -= n;
  }
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) return berr_sys(err, "sealing the shim memfd");
  fexecve(mfd, argv, environ);
  return berr_sys(err, "re-executing the sealed shim");
}
