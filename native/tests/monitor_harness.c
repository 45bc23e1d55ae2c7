/* Test harness for the monitor: starts a command as its child with pipes (or a pty
 * with -t), the way berth-shim's main() does in monitor mode, then runs monitor_run.
 *
 *   monitor_harness -s STATE_DIR [-l LOG] [-m MAX_SIZE] [-n MAX_FILES]
 *                   [-1 V1_MEMORY_DIR] [-2 V2_CGROUP_DIR] [-c CGROUP_PROCS_FILE]
 *                   [-t] [-i] [-o] -- COMMAND [ARG...]
 *
 *   -t  a pty instead of pipes     -i  give the command a stdin fed by attach clients
 *   -o  stdin_once                 -c  the child writes its pid here before exec
 *
 * Prints "pid <N>" on stdout once the child exists; exits with monitor_run's status. */
#include "monitor.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: monitor_harness -s STATE_DIR [-l LOG] [-m MAX_SIZE] [-n MAX_FILES] "
                  "[-1 V1_DIR] [-2 V2_DIR] [-c CGROUP_PROCS] [-t] [-i] [-o] -- COMMAND [ARG...]\n");
  exit(2);
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* In the child, before exec: join the cgroup if asked, then become the command. */
static void child_exec(const char *cgroup_procs, char **argv) {
  if (cgroup_procs) {
    int fd = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (fd < 0 || write(fd, pid, (size_t)n) != n) {
      perror(cgroup_procs);
      _exit(126);
    }
    close(fd);
  }
  execvp(argv[0], argv);
  perror(argv[0]);
  _exit(127);
}

int main(int argc, char **argv) {
  struct monitor_config cfg = {.log_max_files = 1};
  const char *cgroup_procs = NULL;
  int want_stdin = 0;
  int opt;
  while ((opt = getopt(argc, argv, "+s:l:m:n:1:2:c:tio")) != -1) {
    switch (opt) {
    case 's': cfg.state_dir = optarg; break;
    case 'l': cfg.log_path = optarg; break;
    case 'm': cfg.log_max_size = atoll(optarg); break;
    case 'n': cfg.log_max_files = atoi(optarg); break;
    case '1': cfg.oom_v1_memory_dir = optarg; break;
    case '2': cfg.oom_v2_dir = optarg; break;
    case 'c': cgroup_procs = optarg; break;
    case 't': cfg.terminal = 1; break;
    case 'i': want_stdin = 1; break;
    case 'o': cfg.stdin_once = 1; break;
    default: usage();
    }
  }
  if (!cfg.state_dir || optind >= argc)
    usage();
  char **cmd = argv + optind;

  /* Like the shim: orphans of the command become ours and the monitor reaps them. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("PR_SET_CHILD_SUBREAPER");

  struct monitor_io io = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .ready_fd = -1};
  pid_t pid;
  if (cfg.terminal) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char slave[128];
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
        ptsname_r(master, slave, sizeof slave) != 0)
      die("pty");
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    ioctl(master, TIOCSWINSZ, &ws);
    pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      setsid();
      int s = open(slave, O_RDWR);
      if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0) {
        perror(slave);
        _exit(126);
      }
      dup2(s, 0);
      dup2(s, 1);
      dup2(s, 2);
      if (s > 2)
        close(s);
      child_exec(cgroup_procs, cmd);
    }
    /* The same fd for input and output, as a shim may pass it. */
    io.stdout_fd = master;
    io.stdin_fd = want_stdin ? master : -1;
  } else {
    int in[2] = {-1, -1}, out[2], err[2];
    if ((want_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(err, O_CLOEXEC) < 0)
      die("pipe2");
    pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      int null = want_stdin ? in[0] : open("/dev/null", O_RDONLY);
      if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
        _exit(126);
      child_exec(cgroup_procs, cmd);
    }
    if (want_stdin)
      close(in[0]);
    close(out[1]);
    close(err[1]);
    io.stdin_fd = in[1];
    io.stdout_fd = out[0];
    io.stderr_fd = err[0];
  }
  printf("pid %d\n", (int)pid);
  fflush(stdout);
  return monitor_run(&cfg, pid, &io);
}
