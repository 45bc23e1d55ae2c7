/* The container's process is reached through berth-exec, a tiny static program
 * run from a write-sealed memfd (native/trampoline/trampoline.c): whatever the
 * image does with /proc/self/exe, it finds that sealed copy, never berth-shim. */
#ifndef BERTH_EXEC_TRAMPOLINE_H
#define BERTH_EXEC_TRAMPOLINE_H

#include "error.h"

#define BERTH_EXEC_MARKER "\001berth-exec"

/* A sealed memfd holding berth-exec (close-on-exec), or -1 with err filled. */
int trampoline_memfd(struct berr *err);

/* Exec path with argv/envp through the trampoline in memfd; returns only on failure. */
void trampoline_exec(int memfd, const char *path, char *const argv[], char *const envp[]);

#endif
