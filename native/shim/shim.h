/* State shared by the shim's parts: the program, its mode, and the fds that
 * connect the caller, the shim and the container's stages. */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include <signal.h>
#include <sys/types.h>

#include "error.h"
#include "program.h"

struct shim {
  struct program prog;
  int mode;                 /* enum shim_mode */
  const char *state_dir;    /* NULL when the caller keeps no state (runc mode) */
  int preserve_fds;
  const char *console_socket;
  int console_fd;           /* connected console socket, -1 when none */
  int terminal;
  unsigned rows, cols;
  int caller_fd;            /* socket to berth-runtime/berthd */
  int stage_fd;             /* the stages' end of the shim<->stage socket */
  int shim_stage_fd;        /* the shim's end */
  int child_stdio[3];       /* monitor mode: what the init dup2s onto 0..2, -1 to keep */
  int parent_stdio[3];      /* monitor mode: the shim's ends (stdin write, stdout/err read) */
  sigset_t orig_mask;
  pid_t init_pid;
  int pty_master;
  int fifo_fd;              /* exec fifo (O_RDWR): the init blocks reading it until start */
  int exec_fd;              /* sealed memfd holding berth-exec, the trampoline to the process */
  int cgroup_into_fd;       /* cgroup2 dir the init is born into, opened before any setns, or -1 */
};

/* Stage 1 (namespaces, cgroups) runs in a child of the shim and never returns. */
__attribute__((noreturn)) void stage1_run(struct shim *s);
/* Stage 2 (the container's init) never returns: it execs or exits. */
__attribute__((noreturn)) void stage2_run(struct shim *s);

/* MODE_WAIT after the init is ready: forward signals, relay a terminal, return its status. */
int wait_mode_run(struct shim *s);

#endif
