/* Running the OCI runtime (runc's command line) and reading why it failed. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* spawn runs argv with the given stdio and nothing else: the mask and the
 * ignored signals of the shim are inherited across exec, so they are reset
 * here, or the container's init would start with SIGPIPE ignored. */
pid_t spawn(const char *const *argv, int fd0, int fd1, int fd2)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Our own 0, 1 and 2 are /dev/null and the fds given are above them,
	 * so the dup2 calls cannot overwrite one another's sources. */
	if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0)
		_exit(127);
	syscall(SYS_close_range, 3, ~0U, 0);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* wait_child waits for pid and returns its wait status. */
int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return st;
}

/* json_unescape decodes the JSON string starting after its opening quote
 * into dst (at most n-1 bytes, terminated). Escapes of runc's JSON log:
 * the usual ones and \uXXXX, written back as UTF-8. */
static void json_unescape(char *dst, size_t n, const char *p)
{
	size_t k = 0;
	while (*p && *p != '"' && k + 4 < n) {
		if (*p != '\\') {
			dst[k++] = *p++;
			continue;
		}
		p++;
		char c = *p ? *p++ : 0;
		switch (c) {
		case 'n': dst[k++] = '\n'; break;
		case 't': dst[k++] = '\t'; break;
		case 'r': dst[k++] = '\r'; break;
		case 'b': dst[k++] = '\b'; break;
		case 'f': dst[k++] = '\f'; break;
		case 'u': {
			unsigned cp = 0;
			for (int i = 0; i < 4 && *p; i++, p++) {
				char h = *p;
				cp = cp * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
			}
			if (cp < 0x80) {
				dst[k++] = (char)cp;
			} else if (cp < 0x800) {
				dst[k++] = (char)(0xc0 | cp >> 6);
				dst[k++] = (char)(0x80 | (cp & 0x3f));
			} else {
				dst[k++] = (char)(0xe0 | cp >> 12);
				dst[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				dst[k++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		case 0: break;
		default: dst[k++] = c;
		}
	}
	dst[k] = 0;
}

/* last_log_msg puts the "msg" of the last error line of the runtime's JSON
 * log (--log-format json, as containerd and conmon read it) into err. */
static int last_log_msg(const char *path, char *err, size_t errlen)
{
	static char buf[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *found = NULL;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strstr(line, "\"level\":\"error\"")) {
			const char *m = strstr(line, "\"msg\":\"");
			if (m)
				found = m + 7;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!found)
		return -1;
	json_unescape(err, errlen, found);
	return 0;
}

/* runtime_run runs `runtime [--root R] --log L --log-format json VERB...`
 * with the given stdio and waits for it. On failure err says why, with the
 * runtime's own message when its log has one. */
int runtime_run(struct shim *s, const char *const *verb, int fd0, int fd1, int fd2, char *err, size_t errlen)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = s->o.runtime;
	if (s->o.runtime_root && *s->o.runtime_root) {
		argv[n++] = "--root";
		argv[n++] = s->o.runtime_root;
	}
	argv[n++] = "--log";
	argv[n++] = s->rtlog_path;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	for (int i = 0; verb[i] && n < 31; i++)
		argv[n++] = verb[i];
	argv[n] = NULL;

	/* Emptied, not removed: the runtime then opens the file it finds
	 * rather than making a new one, a cost on every exec where the
	 * state directory is not a tmpfs. */
	if (truncate(s->rtlog_path, 0) < 0 && errno != ENOENT)
		unlink(s->rtlog_path);
	pid_t pid = spawn(argv, fd0, fd1, fd2);
	if (pid < 0) {
		snprintf(err, errlen, "%s %s: fork: %s", s->o.runtime, verb[0], strerror(errno));
		return -1;
	}
	int st = wait_child(pid);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char msg[2048];
	if (last_log_msg(s->rtlog_path, msg, sizeof msg) == 0)
		snprintf(err, errlen, "%s", msg);
	else if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(err, errlen, "%s %s: could not execute %s", s->o.runtime, verb[0], s->o.runtime);
	else if (st != -1 && WIFSIGNALED(st))
		snprintf(err, errlen, "%s %s: killed by signal %d", s->o.runtime, verb[0], WTERMSIG(st));
	else
		snprintf(err, errlen, "%s %s: exit status %d", s->o.runtime, verb[0], st == -1 ? -1 : WEXITSTATUS(st));
	return -1;
}
