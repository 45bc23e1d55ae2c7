/* Allocates and touches memory 1 MiB at a time until the OOM killer ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  printf("allocating\n");
  fflush(stdout);
  for (;;) {
    char *p = malloc(1 << 20);
    if (!p) {
      /* overcommit said no: wait for the OOM killer rather than exit */
      pause();
      continue;
    }
    memset(p, 0x5a, 1 << 20);
  }
}
