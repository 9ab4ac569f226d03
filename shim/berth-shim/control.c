/*
 * The control socket: one request per line, one answer per request.
 *
 *   start                  → runtime start ID
 *   kill SIGNUM [all]      → runtime kill [--all] ID SIGNUM
 *   resize ROWS COLS       → TIOCSWINSZ on the pty master
 *   close-stdin            → the container's stdin reads EOF (after the
 *                            input attach clients sent before)
 *   exec ID FLAGS ROWS COLS → runtime exec --detach …; the connection
 *                            becomes the exec's (see exec.c)
 *   exec-resize ID ROWS COLS → TIOCSWINSZ on the exec's pty
 *   exec-kill ID SIGNUM    → signal the exec's process
 *
 * Answers are "ok\n" or "error TEXT\n"; TEXT is the runtime's own message
 * when it has one.
 */
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

void control_accept(struct shim *s)
{
	int fd = accept4(s->ctl_l.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ctlconn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->ev.kind = K_CTL;
	c->ev.fd = fd;
	if (ep_add(s, &c->ev, EPOLLIN) < 0) {
		close(fd);
		free(c);
	}
}

static void ctl_close(struct shim *s, struct ctlconn *c)
{
	ep_del(s, &c->ev);
	close(c->ev.fd);
	free(c);
}

/* parse_uint reads a decimal number in [lo, hi] from *p and skips the
 * blanks after it; -1 when there is none. */
static long parse_uint(char **p, long lo, long hi)
{
	char *end;
	errno = 0;
	if (**p < '0' || **p > '9')
		return -1;
	long v = strtol(*p, &end, 10);
	if (errno || v < lo || v > hi || (*end && *end != ' '))
		return -1;
	while (*end == ' ')
		end++;
	*p = end;
	return v;
}

static void handle(struct shim *s, char *line, char *ans, size_t n)
{
	char err[2048] = "";
	const char *id = s->o.id;
	if (strcmp(line, "start") == 0) {
		const char *verb[] = {"start", id, NULL};
		if (runtime_run(s, verb, 0, 0, 0, err, sizeof err) < 0) {
			snprintf(ans, n, "error %s", err);
			return;
		}
	} else if (strncmp(line, "kill ", 5) == 0) {
		char *p = line + 5, sig[24];
		long signum = parse_uint(&p, 1, 64);
		int all = strcmp(p, "all") == 0;
		if (signum < 0 || (*p && !all)) {
			snprintf(ans, n, "error bad request: kill SIGNUM [all]");
			return;
		}
		snprintf(sig, sizeof sig, "%ld", signum);
		const char *verb[] = {"kill", id, sig, NULL};
		const char *verb_all[] = {"kill", "--all", id, sig, NULL};
		if (runtime_run(s, all ? verb_all : verb, 0, 0, 0, err, sizeof err) < 0) {
			snprintf(ans, n, "error %s", err);
			return;
		}
	} else if (strncmp(line, "resize ", 7) == 0) {
		char *p = line + 7;
		long rows = parse_uint(&p, 0, 65535), cols = rows < 0 ? -1 : parse_uint(&p, 0, 65535);
		if (rows < 0 || cols < 0 || *p) {
			snprintf(ans, n, "error bad request: resize ROWS COLS");
			return;
		}
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
		if (!s->o.tty) {
			snprintf(ans, n, "error container has no terminal to resize");
			return;
		}
		if (ioctl(s->out.fd, TIOCSWINSZ, &ws) < 0) {
			snprintf(ans, n, "error resize terminal: %s", strerror(errno));
			return;
		}
	} else if (strcmp(line, "close-stdin") == 0) {
		attach_close_stdin_later(s);
	} else if (strncmp(line, "exec-resize ", 12) == 0) {
		if (exec_resize(s, line + 12, err, sizeof err) < 0) {
			snprintf(ans, n, "error %s", err);
			return;
		}
	} else if (strncmp(line, "exec-kill ", 10) == 0) {
		if (exec_kill(s, line + 10, err, sizeof err) < 0) {
			snprintf(ans, n, "error %s", err);
			return;
		}
	} else {
		snprintf(ans, n, "error bad request: unknown command");
		return;
	}
	snprintf(ans, n, "ok");
}

void control_event(struct shim *s, struct ctlconn *c)
{
	ssize_t r = read(c->ev.fd, c->buf + c->len, sizeof c->buf - c->len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		ctl_close(s, c);
		return;
	}
	c->len += (size_t)r;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			if (c->len == sizeof c->buf) {
				send(c->ev.fd, "error bad request: line too long\n", 34, MSG_NOSIGNAL | MSG_DONTWAIT);
				ctl_close(s, c);
			}
			return;
		}
		*nl = 0;
		char ans[2200];
		size_t used = (size_t)(nl - c->buf) + 1;
		if (strncmp(c->buf, "exec ", 5) == 0 && strlen(c->buf) == used - 1) {
			char err[2048];
			if (exec_start(s, c->ev.fd, c->buf + 5, nl + 1, c->len - used, err, sizeof err) == 0) {
				free(c); /* its fd and epoll entry are the exec's now */
				return;
			}
			snprintf(ans, sizeof ans - 1, "error %s", err);
		} else if (strlen(c->buf) != (size_t)(nl - c->buf))
			snprintf(ans, sizeof ans - 1, "error bad request: NUL in the line");
		else
			handle(s, c->buf, ans, sizeof ans - 1);
		/* One line per answer: the runtime's message may hold newlines. */
		for (char *q = ans; *q; q++)
			if (*q == '\n')
				*q = ' ';
		strcat(ans, "\n");
		send(c->ev.fd, ans, strlen(ans), MSG_NOSIGNAL | MSG_DONTWAIT);
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
	}
}
