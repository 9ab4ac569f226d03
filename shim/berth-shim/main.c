/*
 * berth-shim --id ID --bundle DIR --runtime PATH [--runtime-root DIR]
 *            --state-dir DIR --log-path FILE [--log-max-size BYTES]
 *            [--log-max-files N] [--tty] [--stdin [--stdin-once]] [--sync-fd FD]
 *
 * Start-up, numbered as it happens (see ../doc.go for the whole protocol):
 *  1. check the arguments; errors go to the sync fd and stderr
 *  2. fork, setsid, fork: the starter reaps the first process at once and
 *     the shim is nobody's child but init's, in a session of its own
 *  3. become a child subreaper: the container's init, orphaned when the
 *     runtime's create exits, is reparented to us and we reap it
 *  4. bind ctl.sock and attach.sock (before anything exists to undo)
 *  5. runtime create with pipes (or --console-socket and a pty)
 *  6. open the log, write shim.json, report "ok PID" on the sync fd
 *  7. serve until init exits; then drain, record exit.json, clean up, exit
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct shim S; /* one per process; static so that untouched parts cost no memory */

static int report(struct shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* report writes one line to the starter; -1 when the starter is no
 * longer there to read it. An error report is the shim's last act: the
 * sync fd closes as the process exits, so that the starter's EOF means
 * the shim is gone. */
static int report(struct shim *s, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (s->o.sync_fd < 0)
		return -1;
	return write_all(s->o.sync_fd, buf, (size_t)n);
}

int report_ok(struct shim *s)
{
	int r = report(s, "ok %d", s->init_pid);
	close(s->o.sync_fd);
	s->o.sync_fd = -1;
	return r;
}

static void usage_error(struct shim *s, const char *msg, const char *arg)
{
	char line[1024];
	snprintf(line, sizeof line, "berth-shim: %s%s%s", msg, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "%s\n", line);
	report(s, "error %s", line);
	exit(2);
}

static int valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+-.", *p)))
			return 0;
	return 1;
}

static void parse_args(struct shim *s, int argc, char **argv)
{
	struct opts *o = &s->o;
	o->sync_fd = -1;
	o->log_max_files = 1;
	/* The sync fd first, so that every later complaint reaches the starter. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--sync-fd") == 0) {
			o->sync_fd = atoi(argv[i + 1]);
			if (o->sync_fd < 3 || fcntl(o->sync_fd, F_SETFD, FD_CLOEXEC) < 0)
				o->sync_fd = -1;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--tty") == 0) {
			o->tty = 1;
			continue;
		}
		if (strcmp(a, "--stdin") == 0) {
			o->stdin_open = 1;
			continue;
		}
		if (strcmp(a, "--stdin-once") == 0) {
			o->stdin_once = 1;
			continue;
		}
		if (!v)
			usage_error(s, "missing value of", a);
		i++;
		if (strcmp(a, "--id") == 0)
			o->id = v;
		else if (strcmp(a, "--bundle") == 0)
			o->bundle = v;
		else if (strcmp(a, "--runtime") == 0)
			o->runtime = v;
		else if (strcmp(a, "--runtime-root") == 0)
			o->runtime_root = v;
		else if (strcmp(a, "--state-dir") == 0)
			o->state_dir = v;
		else if (strcmp(a, "--log-path") == 0)
			o->log_path = v;
		else if (strcmp(a, "--log-max-size") == 0)
			o->log_max_size = atoll(v);
		else if (strcmp(a, "--log-max-files") == 0)
			o->log_max_files = atoi(v);
		else if (strcmp(a, "--sync-fd") != 0)
			usage_error(s, "unknown argument", a);
	}
	if (!o->id || !valid_id(o->id))
		usage_error(s, "--id: a container id of letters, digits and _+-. is required, got", o->id ? o->id : "none");
	const char *paths[][2] = {{"--bundle", o->bundle}, {"--runtime", o->runtime}, {"--state-dir", o->state_dir},
				  {"--log-path", o->log_path}};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (!paths[i][1] || paths[i][1][0] != '/')
			usage_error(s, "an absolute path is required for", paths[i][0]);
}

/* listen_unix binds a stream socket at path. A socket left there by a shim
 * that died is replaced; one that a live shim answers on is not. */
int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes", path, sizeof sa.sun_path - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EADDRINUSE)
			goto fail;
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			snprintf(err, errlen, "a shim already serves %s", path);
			close(fd);
			return -1;
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			goto fail;
	}
	if (listen(fd, 16) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* daemonize: steps 2 and 3. */
static void daemonize(struct shim *s)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		usage_error(s, "open /dev/null:", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		usage_error(s, "fork:", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	pid = fork();
	if (pid < 0)
		usage_error(s, "fork:", strerror(errno));
	if (pid > 0)
		_exit(0);
	dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
	close(nul);
	umask(027);
	if (chdir("/") < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		report(s, "error berth-shim: become a subreaper: %s", strerror(errno));
		_exit(1);
	}
}

int main(int argc, char **argv)
{
	struct shim *s = &S;
	parse_args(s, argc, argv);
	daemonize(s);

	/* SIGCHLD comes through a signalfd, blocked before the first child
	 * exists so that no exit can slip by; the shim outlives its starter, so
	 * hang-ups, terminal signals and broken pipes do not end it. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);

	char err[3000] = "";
	if (setup(s, err, sizeof err) < 0) {
		report(s, "error %s", err);
		return 1;
	}
	serve(s);
	return 0;
}
