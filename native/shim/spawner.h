/* Spawner mode: a long-lived berth-shim that forks shims for berthd (see spawner.c). */
#ifndef BERTH_SPAWNER_H
#define BERTH_SPAWNER_H

/* Runs one shim with its caller's socket and program fd; returns its exit code. */
typedef int (*spawner_shim_fn)(int caller_fd, int program_fd);

/* The spawner's own arguments (after argv[0]), rewritten in each forked shim so that ps
 * shows it as a shim rather than as another spawner. */
struct spawner_title {
  char *args;
  size_t len;
};

/* Serves requests on ctl_fd until it reaches EOF; returns the exit code. */
int spawner_run(int ctl_fd, struct spawner_title title, spawner_shim_fn run);

#endif
