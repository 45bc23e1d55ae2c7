/* The payload of berth's built-in hello-world image: static, no libc beyond write. */
#include <unistd.h>

static const char greeting[] =
    "\n"
    "Hello from berth!\n"
    "This message shows that your installation appears to be working correctly.\n"
    "\n"
    "To generate this message, berth:\n"
    " 1. planned an OCI runtime spec for a container from the hello-world image,\n"
    " 2. had berth-shim create its namespaces, cgroups and root filesystem,\n"
    " 3. and ran this program inside it, with its output sent to your terminal.\n"
    "\n";

int main(void) {
  ssize_t off = 0, len = sizeof greeting - 1;
  while (off < len) {
    ssize_t n = write(STDOUT_FILENO, greeting + off, (size_t)(len - off));
    if (n <= 0) return 1;
    off += n;
  }
  return 0;
}
