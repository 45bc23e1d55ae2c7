/*
 * berth-init: the small init `docker run --init` puts at pid 1 (/sbin/docker-init), after tini.
 *
 *   berth-init [-g] [--] program [args...]
 *
 * It forks and execs the program in its own process group (given the terminal, if any), forwards
 * every signal it can catch to it (-g: to its whole process group), reaps every zombie that is
 * re-parented to it, and exits with the program's status: its exit code, or 128+n when signal n
 * killed it. Outside a pid namespace (tests, or pid != 1) it makes itself a child subreaper so that
 * orphans still come to it. Static, libc only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Synchronous signals (they concern berth-init itself) and the terminal stop signals are not forwarded. */
static const int UNFORWARDED[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

struct options {
	int to_group;
	char **argv;
};

static void usage(void)
{
	fprintf(stderr, "usage: berth-init [-g] [--] program [args...]\n");
	exit(2);
}

static struct options parse_args(int argc, char **argv)
{
	struct options o = {0, NULL};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-g") == 0)
			o.to_group = 1;
		else if (strcmp(argv[i], "-s") != 0) /* -s (tini's subreaper flag) is implied */
			usage();
	}
	if (i >= argc)
		usage();
	o.argv = argv + i;
	return o;
}

/* Blocks the forwarded signals (they are taken with sigtimedwait) and ignores SIGTTIN/SIGTTOU. */
static void take_signals(sigset_t *forwarded, sigset_t *old_mask, struct sigaction *old_ttin,
			 struct sigaction *old_ttou)
{
	struct sigaction ignore;
	sigfillset(forwarded);
	for (size_t i = 0; i < sizeof UNFORWARDED / sizeof UNFORWARDED[0]; i++)
		sigdelset(forwarded, UNFORWARDED[i]);
	if (sigprocmask(SIG_SETMASK, forwarded, old_mask) != 0) {
		perror("berth-init: sigprocmask");
		exit(1);
	}
	memset(&ignore, 0, sizeof ignore);
	ignore.sa_handler = SIG_IGN;
	sigaction(SIGTTIN, &ignore, old_ttin);
	sigaction(SIGTTOU, &ignore, old_ttou);
}

/* In the child: own process group, the terminal's foreground, the caller's signal state, exec. */
static void exec_child(char **argv, const sigset_t *old_mask, const struct sigaction *old_ttin,
		       const struct sigaction *old_ttou)
{
	if (setpgid(0, 0) != 0) {
		perror("berth-init: setpgid");
		_exit(1);
	}
	/* No terminal (ENOTTY), or not ours (ENXIO, EPERM): run without one. */
	if (tcsetpgrp(STDIN_FILENO, getpgrp()) != 0 && errno != ENOTTY && errno != ENXIO && errno != EPERM) {
		perror("berth-init: tcsetpgrp");
		_exit(1);
	}
	sigaction(SIGTTIN, old_ttin, NULL);
	sigaction(SIGTTOU, old_ttou, NULL);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	execvp(argv[0], argv);
	int status = errno == ENOENT ? 127 : errno == EACCES ? 126 : 1;
	fprintf(stderr, "berth-init: exec %s failed: %s\n", argv[0], strerror(errno));
	_exit(status);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Reaps every zombie; returns 1 and sets *code once the program itself has exited. */
static int reap(pid_t child, int *code)
{
	int status, done = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == child) {
			*code = exit_code(status);
			done = 1;
		}
	}
	if (pid < 0 && errno != ECHILD) {
		perror("berth-init: waitpid");
		exit(1);
	}
	return done;
}

static void forward(int sig, pid_t child, int to_group)
{
	if (kill(to_group ? -child : child, sig) != 0 && errno != ESRCH)
		perror("berth-init: kill");
}

int main(int argc, char **argv)
{
	struct options o = parse_args(argc, argv);
	sigset_t forwarded, old_mask;
	struct sigaction old_ttin, old_ttou;
	take_signals(&forwarded, &old_mask, &old_ttin, &old_ttou);
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		perror("berth-init: PR_SET_CHILD_SUBREAPER");

	pid_t child = fork();
	if (child < 0) {
		perror("berth-init: fork");
		return 1;
	}
	if (child == 0)
		exec_child(o.argv, &old_mask, &old_ttin, &old_ttou);

	int code = 0;
	for (;;) {
		/* The timeout only bounds how long a zombie can wait if a SIGCHLD was merged away. */
		struct timespec timeout = {1, 0};
		int sig = sigtimedwait(&forwarded, NULL, &timeout);
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			perror("berth-init: sigtimedwait");
			return 1;
		}
		if (sig > 0 && sig != SIGCHLD)
			forward(sig, child, o.to_group);
		if (reap(child, &code))
			return code;
	}
}
