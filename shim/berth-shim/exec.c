/*
 * Execs: processes that berthd asks the shim to start in the container
 * beside its init. The shim is their parent (a subreaper: the runtime's
 * exec --detach leaves the process to it), holds their stdio and records
 * how they end, so an exec and its exit status outlive berthd as the
 * container does.
 *
 *   berthd                                   berth-shim               runtime
 *   ctl.sock: "exec ID FLAGS ROWS COLS\n" ─▶ exec --detach --process x-ID.json
 *     FLAGS: "-", or t (pty) and i (stdin)     --pid-file x-ID.pid
 *     ROWS COLS: the pty's size, 0 0 = none    [--console-socket exec.sock] CID ─▶
 *                                        ◀─  "ok PID\n" | "error TEXT\n"
 *   from then on the connection is the exec's stdio:
 *     shim → berthd  frames {stream, 0, 0, 0, be32 length} + payload:
 *                    1 stdout (the pty's output), 2 stderr,
 *                    3 the exit, payload the exit code in decimal; last,
 *                    sent once x-ID.exit is written
 *     berthd → shim  stdin bytes; shutdown(SHUT_WR) closes the exec's
 *                    stdin once every byte before it was written
 *   a connection that goes away (berthd died) only stops the output from
 *   being sent: the exec runs on with its stdin open
 *   x-ID.exit  {"pid","exit_code","signal","exited_at"} once it exited
 *
 *   ctl.sock: "exec-resize ID ROWS COLS\n" → TIOCSWINSZ on the exec's pty
 *   ctl.sock: "exec-kill ID SIGNUM\n"       → kill(2) of the exec's process
 *
 * An exec's output is read only while its connection keeps up: a client
 * more than CLIENT_OUT_MAX behind pauses the process's output rather than
 * lose it.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define X_EXIT 3 /* stream number of the exit frame */

static struct xproc *xof(struct ev *e)
{
	switch (e->kind) {
	case K_XOUT:
		return (struct xproc *)((char *)e - offsetof(struct xproc, out));
	case K_XERR:
		return (struct xproc *)((char *)e - offsetof(struct xproc, err));
	case K_XIN:
		return (struct xproc *)((char *)e - offsetof(struct xproc, in));
	default:
		return (struct xproc *)((char *)e - offsetof(struct xproc, conn));
	}
}

static int valid_exec_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* words splits args at blanks into at most n words; the count, or -1 when
 * there are more. (No sscanf: it would bring scanf's bulk into the shim.) */
static int words(char *args, char **w, int n)
{
	int k = 0;
	char *save = NULL;
	for (char *t = strtok_r(args, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (k == n)
			return -1;
		w[k++] = t;
	}
	return k;
}

/* number reads a decimal in [0, max]; -1 if it is none. */
static long number(const char *p, long max)
{
	char *end;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	long v = strtol(p, &end, 10);
	return errno || *end || v > max ? -1 : v;
}

static struct xproc *find(struct shim *s, const char *id)
{
	for (struct xproc *x = s->execs; x; x = x->next)
		if (strcmp(x->id, id) == 0)
			return x;
	return NULL;
}

/* xpath is STATE/x-ID.SUFFIX, in buf of 4096 bytes. */
static const char *xpath(char *buf, struct shim *s, const char *id, const char *suffix)
{
	snprintf(buf, 4096, "%s/x-%s.%s", s->o.state_dir, id, suffix);
	return buf;
}

static void close_ev(struct shim *s, struct ev *e)
{
	if (e->fd < 0)
		return;
	ep_del(s, e);
	close(e->fd);
	e->fd = -1;
}

static void conn_drop(struct shim *s, struct xproc *x)
{
	close_ev(s, &x->conn);
	free(x->q);
	x->q = NULL;
	x->q_len = x->q_cap = 0;
	if (x->paused) {
		x->paused = 0;
		if (x->out.fd >= 0)
			ep_mod(s, &x->out, EPOLLIN);
		if (x->err.fd >= 0)
			ep_mod(s, &x->err, EPOLLIN);
	}
}

static void conn_events(struct shim *s, struct xproc *x)
{
	if (x->conn.fd < 0)
		return;
	uint32_t ev = (x->in_len == 0 && !x->in_eof ? EPOLLIN : 0) | (x->q_len ? EPOLLOUT : 0);
	ep_mod(s, &x->conn, ev);
}

/* flush sends queued frames; output paused for a lagging connection
 * resumes once it caught up. */
static void flush(struct shim *s, struct xproc *x)
{
	size_t off = 0;
	while (off < x->q_len) {
		ssize_t w = send(x->conn.fd, x->q + off, x->q_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			conn_drop(s, x);
			return;
		}
		off += (size_t)w;
	}
	memmove(x->q, x->q + off, x->q_len - off);
	x->q_len -= off;
	if (x->paused && x->q_len == 0) {
		x->paused = 0;
		if (x->out.fd >= 0)
			ep_mod(s, &x->out, EPOLLIN);
		if (x->err.fd >= 0)
			ep_mod(s, &x->err, EPOLLIN);
	}
	conn_events(s, x);
}

static void frame(struct shim *s, struct xproc *x, int stream, const char *data, size_t n)
{
	if (x->conn.fd < 0)
		return;
	if (x->q_len + 8 + n > x->q_cap) {
		size_t cap = x->q_cap ? x->q_cap : 4096;
		while (cap < x->q_len + 8 + n)
			cap *= 2;
		char *q = realloc(x->q, cap);
		if (!q) {
			conn_drop(s, x);
			return;
		}
		x->q = q, x->q_cap = cap;
	}
	unsigned char hdr[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				(unsigned char)(n >> 8), (unsigned char)n};
	memcpy(x->q + x->q_len, hdr, 8);
	memcpy(x->q + x->q_len + 8, data, n);
	x->q_len += 8 + n;
	flush(s, x);
	if (x->conn.fd >= 0 && x->q_len > CLIENT_OUT_MAX && !x->paused) {
		x->paused = 1;
		if (x->out.fd >= 0)
			ep_mod(s, &x->out, 0);
		if (x->err.fd >= 0)
			ep_mod(s, &x->err, 0);
	}
}

/* pump moves one read of an exec's output to its connection; 0 at the
 * end of the stream (EOF, or EIO on a pty nobody holds any more). */
static int pump(struct shim *s, struct xproc *x, struct ev *e)
{
	char *buf = io_buf; /* loop.c's: one read buffer for every output */
	ssize_t n = read(e->fd, buf, sizeof io_buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		if (x->tty && e == &x->out)
			ep_del(s, e); /* the master stays open for resizes */
		else
			close_ev(s, e);
		return 0;
	}
	frame(s, x, e->kind == K_XERR ? S_STDERR : S_STDOUT, buf, (size_t)n);
	return 1;
}

static void stdin_close(struct shim *s, struct xproc *x)
{
	close_ev(s, &x->in);
	x->in_waiting = 0;
	x->in_len = x->in_off = 0;
}

/* push writes pending stdin; then, after berthd's EOF, closes stdin. */
static void push(struct shim *s, struct xproc *x)
{
	if (x->in.fd < 0) {
		x->in_len = x->in_off = 0;
	}
	while (x->in_off < x->in_len) {
		ssize_t w = write(x->in.fd, x->inbuf + x->in_off, x->in_len - x->in_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!x->in_waiting && ep_add(s, &x->in, EPOLLOUT) == 0)
				x->in_waiting = 1;
			return;
		}
		if (w < 0) {
			stdin_close(s, x); /* EPIPE: the process closed its stdin */
			break;
		}
		x->in_off += (size_t)w;
	}
	x->in_len = x->in_off = 0;
	if (x->in_waiting) {
		ep_del(s, &x->in);
		x->in_waiting = 0;
	}
	if (x->in_eof && !x->tty)
		stdin_close(s, x);
}

static void conn_read(struct shim *s, struct xproc *x, uint32_t events)
{
	ssize_t r = read(x->conn.fd, x->inbuf, sizeof x->inbuf);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0 || (r == 0 && (events & EPOLLHUP))) {
		/* Gone for good (berthd died): the exec runs on. */
		conn_drop(s, x);
		return;
	}
	if (r == 0)
		x->in_eof = 1; /* shutdown(SHUT_WR): stdin ends after what was sent */
	x->in_len = (size_t)r;
	x->in_off = 0;
	push(s, x);
}

void exec_event(struct shim *s, struct ev *e, uint32_t events)
{
	struct xproc *x = xof(e);
	if (x->dead || e->fd < 0)
		return;
	switch (e->kind) {
	case K_XOUT:
	case K_XERR:
		pump(s, x, e);
		return;
	case K_XIN:
		push(s, x);
		break;
	default:
		if (events & EPOLLOUT)
			flush(s, x);
		if (x->conn.fd >= 0 && (events & EPOLLIN))
			conn_read(s, x, events);
		else if (x->conn.fd >= 0 && (events & (EPOLLHUP | EPOLLERR)))
			conn_drop(s, x);
	}
	conn_events(s, x);
}

/* stdio makes the exec's stdio: pipes (stdin only if asked, else
 * /dev/null), or a console socket for the pty. ours[] are our ends. */
static int stdio(struct shim *s, int tty, int in, int theirs[3], int ours[3], int *con, char *err, size_t errlen)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	theirs[0] = theirs[1] = theirs[2] = nul;
	ours[0] = ours[1] = ours[2] = -1;
	*con = -1;
	if (nul < 0) {
		snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
		return -1;
	}
	if (tty) {
		char path[4096];
		snprintf(path, sizeof path, "%s/exec.sock", s->o.state_dir);
		return (*con = listen_unix(path, err, errlen)) < 0 ? -1 : 0;
	}
	for (int i = in ? 0 : 1; i < 3; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			snprintf(err, errlen, "make stdio pipes: %s", strerror(errno));
			return -1;
		}
		theirs[i] = i == 0 ? p[0] : p[1];
		ours[i] = i == 0 ? p[1] : p[0];
	}
	if (in)
		close(nul); /* no longer among theirs */
	return 0;
}

/* close_all closes each fd once (/dev/null may stand in several places). */
static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= fds[j] == fds[i];
		if (fds[i] >= 0 && !seen)
			close(fds[i]);
	}
}

/* exec_start runs one exec; on success conn (still registered as a
 * control connection) is the exec's now, and rest (bytes after the
 * request line) its first stdin. */
int exec_start(struct shim *s, int conn, char *args, const char *rest, size_t rest_len, char *err, size_t errlen)
{
	char proc[4096], pidf[4096], con_path[4096], *w[4];
	long rows = -1, cols = -1;
	if (words(args, w, 4) == 4)
		rows = number(w[2], 65535), cols = number(w[3], 65535);
	if (rows < 0 || cols < 0 || !valid_exec_id(w[0]) || strlen(w[1]) > 3) {
		snprintf(err, errlen, "bad request: exec ID FLAGS ROWS COLS");
		return -1;
	}
	const char *id = w[0], *flags = w[1];
	if (find(s, id)) {
		snprintf(err, errlen, "exec %s is running already", id);
		return -1;
	}
	int tty = strchr(flags, 't') != NULL, in = strchr(flags, 'i') != NULL;
	int theirs[3], ours[3], con;
	snprintf(con_path, sizeof con_path, "%s/exec.sock", s->o.state_dir);
	int rc = stdio(s, tty, in, theirs, ours, &con, err, errlen);
	const char *verb[12] = {"exec", "--detach", "--process", xpath(proc, s, id, "json"),
				"--pid-file", xpath(pidf, s, id, "pid")};
	int nv = 6;
	if (tty)
		verb[nv++] = "--console-socket", verb[nv++] = con_path;
	verb[nv++] = s->o.id;
	verb[nv] = NULL;
	unlink(pidf);
	if (rc == 0)
		rc = runtime_run(s, verb, theirs[0], theirs[1], theirs[2], err, errlen);
	close_all(theirs, 3);
	char buf[32];
	pid_t pid = 0;
	if (rc == 0 && (read_small(pidf, buf, sizeof buf) <= 0 || (pid = atoi(buf)) <= 0)) {
		snprintf(err, errlen, "read the exec's pid from %s: %s", pidf, strerror(errno));
		rc = -1;
	}
	int master = -1;
	if (rc == 0 && tty && (master = recv_master(con, err, errlen)) < 0)
		rc = -1;
	if (con >= 0) {
		close(con);
		unlink(con_path);
	}
	struct xproc *x = rc == 0 ? calloc(1, sizeof *x) : NULL;
	if (!x) {
		if (rc == 0)
			snprintf(err, errlen, "out of memory");
		close_all(ours, 3);
		if (master >= 0)
			close(master);
		/* A process that did start is left to the reaper. */
		return -1;
	}
	strcpy(x->id, id);
	x->pid = pid, x->tty = tty;
	x->out = (struct ev){K_XOUT, tty ? master : ours[1]};
	x->err = (struct ev){K_XERR, tty ? -1 : ours[2]};
	x->in = (struct ev){K_XIN, tty ? (in ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1) : ours[0]};
	x->conn = (struct ev){K_XCONN, conn};
	if (tty && (rows || cols)) {
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
		ioctl(master, TIOCSWINSZ, &ws);
	}
	struct ev *evs[] = {&x->out, &x->err, &x->in};
	for (int i = 0; i < 3; i++)
		if (evs[i]->fd >= 0)
			set_nonblock(evs[i]->fd);
	ep_add(s, &x->out, EPOLLIN);
	if (x->err.fd >= 0)
		ep_add(s, &x->err, EPOLLIN);
	x->next = s->execs;
	s->execs = x;
	char ok[32];
	int n = snprintf(ok, sizeof ok, "ok %d\n", pid);
	if (send(conn, ok, (size_t)n, MSG_NOSIGNAL) != n) {
		conn_drop(s, x);
		return 0;
	}
	ep_mod(s, &x->conn, EPOLLIN);
	if (rest_len > 0) {
		x->in_len = rest_len < sizeof x->inbuf ? rest_len : sizeof x->inbuf;
		memcpy(x->inbuf, rest, x->in_len);
		push(s, x);
		conn_events(s, x);
	}
	return 0;
}

int exec_resize(struct shim *s, char *args, char *err, size_t errlen)
{
	char *w[3];
	long rows = -1, cols = -1;
	if (words(args, w, 3) == 3)
		rows = number(w[1], 65535), cols = number(w[2], 65535);
	if (rows < 0 || cols < 0) {
		snprintf(err, errlen, "bad request: exec-resize ID ROWS COLS");
		return -1;
	}
	const char *id = w[0];
	struct xproc *x = find(s, id);
	if (!x || !x->tty) {
		snprintf(err, errlen, "exec %s has no terminal to resize", id);
		return -1;
	}
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (ioctl(x->out.fd, TIOCSWINSZ, &ws) < 0) {
		snprintf(err, errlen, "resize terminal: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int exec_kill(struct shim *s, char *args, char *err, size_t errlen)
{
	char *w[2];
	long sig = -1;
	if (words(args, w, 2) == 2)
		sig = number(w[1], 64);
	if (sig < 1) {
		snprintf(err, errlen, "bad request: exec-kill ID SIGNUM");
		return -1;
	}
	const char *id = w[0];
	struct xproc *x = find(s, id);
	/* Not reaped yet (reaping unlinks it), so the pid is still the exec's. */
	if (!x || kill(x->pid, (int)sig) < 0) {
		snprintf(err, errlen, "exec %s is not running", id);
		return -1;
	}
	return 0;
}

static void write_xexit(struct shim *s, struct xproc *x, int code, int sig)
{
	char ts[64], path[4096], rec[256];
	struct timespec at;
	clock_gettime(CLOCK_REALTIME, &at);
	fmt_time(ts, sizeof ts, &at);
	int n = snprintf(rec, sizeof rec, "{\"pid\":%d,\"exit_code\":%d,\"signal\":%d,\"exited_at\":\"%s\"}\n", x->pid,
			 code, sig, ts);
	/* Not synced: a host crash takes the container, and the exec, along. */
	if (write_file(xpath(path, s, x->id, "exit"), rec, (size_t)n, 0) < 0)
		warnx_shim(s, "write %s: %s", path, strerror(errno));
}

/* hang_up hands the connection its last frames (a couple of seconds at
 * most) and closes it. */
static void hang_up(struct shim *s, struct xproc *x)
{
	if (x->conn.fd < 0)
		return;
	struct timeval tv = {.tv_sec = 2};
	int fl = fcntl(x->conn.fd, F_GETFL);
	fcntl(x->conn.fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(x->conn.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (x->q_len)
		write_all(x->conn.fd, x->q, x->q_len);
	shutdown(x->conn.fd, SHUT_RDWR);
	conn_drop(s, x);
}

static void unlink_exec(struct shim *s, struct xproc *x)
{
	struct xproc **pp = &s->execs;
	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->dead = 1;
	x->next = s->xdead;
	s->xdead = x;
}

/* exec_reaped records the end of the exec whose process pid was: its
 * last output, the exit frame, x-ID.exit. 0 if pid is no exec's. */
int exec_reaped(struct shim *s, pid_t pid, int status)
{
	struct xproc *x = s->execs;
	while (x && x->pid != pid)
		x = x->next;
	if (!x)
		return 0;
	x->paused = 0;
	while (x->out.fd >= 0 && pump(s, x, &x->out) > 0)
		;
	while (x->err.fd >= 0 && pump(s, x, &x->err) > 0)
		;
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	/* The record first: whoever sees the exit frame finds it too. */
	write_xexit(s, x, code, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	char num[16];
	int n = snprintf(num, sizeof num, "%d", code);
	frame(s, x, X_EXIT, num, (size_t)n);
	hang_up(s, x);
	close_ev(s, &x->out);
	close_ev(s, &x->err);
	stdin_close(s, x);
	unlink_exec(s, x);
	return 1;
}

void exec_free_dead(struct shim *s)
{
	while (s->xdead) {
		struct xproc *x = s->xdead;
		s->xdead = x->next;
		free(x->q);
		free(x);
	}
}

/* exec_finish: the container is gone; execs that outlived it (outside its
 * pid namespace) lose their connections, which berthd reads as unknown. */
void exec_finish(struct shim *s)
{
	while (s->execs) {
		struct xproc *x = s->execs;
		hang_up(s, x);
		unlink_exec(s, x);
	}
}
