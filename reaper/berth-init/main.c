/*
 * berth-init [-g] [--] CMD [ARG...]
 *
 * The reaper that `--init` puts at PID 1 of a container (see ../doc.go):
 * it runs CMD as its only child, forwards to it every signal it can catch,
 * reaps every process that ends up as its child, and exits as CMD exited
 * (its status, or 128+N when signal N killed it).
 *
 * In order:
 *  1. parse the options; anything else than -g before CMD is a usage error
 *  2. block every signal but the synchronous ones (a fault in berth-init
 *     itself must still kill it): blocked signals stay pending, even at a
 *     namespace's PID 1, where the kernel drops signals with no handler,
 *     and sigwaitinfo takes them one at a time in the loop
 *  3. not PID 1 (run outside a PID namespace, or tests): become a child
 *     subreaper, so orphaned descendants are reparented to us
 *  4. fork CMD into a process group of its own (set in both processes, so
 *     that -g can signal the group from the start), hand it the terminal's
 *     foreground when stdin is one, restore the signal mask, exec
 *  5. loop: SIGCHLD reaps every exited child; any other signal goes to CMD
 *     (to its process group with -g); once CMD is reaped, exit with its
 *     status. A PID 1 that exits takes the rest of its namespace with it.
 *
 * SIGTSTP, SIGTTIN and SIGTTOU are forwarded like the rest and never stop
 * berth-init itself, since they stay blocked (as in tini). The child calls
 * tcsetpgrp while they are still blocked, which the kernel counts as
 * ignored, so taking the foreground cannot stop it either.
 *
 * Nothing is allocated and no file is opened: the loop uses the stack only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* say writes "berth-init: A: B\n" (B may be NULL) to stderr, without stdio. */
static void say(const char *a, const char *b)
{
	const char *parts[] = {"berth-init: ", a, b ? ": " : "", b ? b : "", "\n"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *s = parts[i];
		size_t n = strlen(s);
		while (n > 0) {
			ssize_t w = write(STDERR_FILENO, s, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;
			s += w;
			n -= (size_t)w;
		}
	}
}

static int usage(int code)
{
	say("usage", "berth-init [-g] [--] CMD [ARG...]");
	return code;
}

/* exec_child is the child's side of 4.; it never returns. */
static void exec_child(char **argv, const sigset_t *orig)
{
	setpgid(0, 0);
	/* Fails with ENOTTY when stdin is no terminal, and when it is not
	 * our controlling one: either way there is no foreground to take. */
	tcsetpgrp(STDIN_FILENO, getpgrp());
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(argv[0], argv);
	int err = errno;
	say(argv[0], strerror(err));
	/* As a shell reports a command it cannot run. */
	_exit(err == ENOENT ? 127 : 126);
}

/* status turns a wait status into the exit code berth-init returns. */
static int status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

int main(int argc, char **argv)
{
	/* 1. */
	int group = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-g") == 0)
			group = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(0);
		else
			return usage(2);
	}
	if (i >= argc)
		return usage(2);

	/* 2. Every bit set by hand: libc's sigfillset leaves out the
	 * signals it reserves for threads, which this program never has,
	 * and which would otherwise kill it with their default action. */
	sigset_t all, orig;
	memset(&all, 0xff, sizeof all);
	static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
	for (size_t k = 0; k < sizeof sync_signals / sizeof sync_signals[0]; k++)
		sigdelset(&all, sync_signals[k]);
	if (sigprocmask(SIG_SETMASK, &all, &orig) < 0) {
		say("block signals", strerror(errno));
		return 1;
	}

	/* 3. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		say("become a child subreaper", strerror(errno));

	/* 4. */
	pid_t child = fork();
	if (child < 0) {
		say("fork", strerror(errno));
		return 1;
	}
	if (child == 0)
		exec_child(argv + i, &orig);
	setpgid(child, child); /* EACCES once the child has exec'd: it did it itself */

	/* 5. */
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue; /* EINTR: a stop and continue of berth-init */
		if (sig != SIGCHLD) {
			kill(group ? -child : child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p <= 0)
				break;
			if (p == child) {
				/* The rest are reaped by whoever inherits them:
				 * the kernel, when we are a namespace's PID 1. */
				while (waitpid(-1, NULL, WNOHANG) > 0)
					;
				return status(st);
			}
		}
	}
}
