/* Step 7: the event loop, and what happens when the container's init exits. */
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* pump moves one read of container output to the log and the attach
 * clients; 0 at end of stream (EOF, or EIO on a pty with no slave left). */
char io_buf[LINE_MAX_LOG];

static int pump(struct shim *s, struct ev *e)
{
	char *buf = io_buf;
	ssize_t n = read(e->fd, buf, sizeof io_buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0)
		return 0;
	enum stream st = e->kind == K_ERR ? S_STDERR : S_STDOUT;
	log_feed(s, st, buf, (size_t)n);
	attach_broadcast(s, st, buf, (size_t)n);
	return 1;
}

/* stream_done stops watching an output that ended. A pty master stays
 * open, for resize, until the shim exits. */
static void stream_done(struct shim *s, struct ev *e)
{
	ep_del(s, e);
	if (!(s->o.tty && e == &s->out)) {
		close(e->fd);
		e->fd = -1;
	}
}

/* reap collects every exited child (the container's init, and whatever
 * else was reparented to this subreaper); 1 with *status when init is one. */
static int reap(struct shim *s, int *status)
{
	struct signalfd_siginfo si;
	while (read(s->sig.fd, &si, sizeof si) == sizeof si)
		;
	int found = 0, st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == s->init_pid) {
			*status = st;
			found = 1;
		} else {
			exec_reaped(s, pid, st);
		}
	return found;
}

static void write_exit(struct shim *s, int status, const struct timespec *at, int oom)
{
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	char ts[64], *buf;
	fmt_time(ts, sizeof ts, at);
	int n = asprintf(&buf,
			 "{\"id\":\"%s\",\"pid\":%d,\"exit_code\":%d,\"signal\":%d,\"oom_killed\":%s,\"exited_at\":\"%s\"}\n",
			 s->o.id, s->init_pid, code, sig, oom ? "true" : "false", ts);
	if (n < 0 || write_file_atomic(s->exit_path, buf, (size_t)n) < 0)
		warnx_shim(s, "write %s: %s", s->exit_path, strerror(errno));
	free(buf);
}

/* finish runs once init has exited, in this order:
 *  1. drain what the container wrote before it exited (the pipes hold it)
 *  2. read the OOM kill count while the cgroup still exists
 *  3. runtime delete: the id is free again before anyone learns of the exit,
 *     so a restart policy may create the container again at once
 *  4. exit.json, atomically: the one record a restarted berthd needs
 *  5. close the log; hand attach clients their last output and hang up
 *     (execs in the container's pid namespace were reaped before init)
 *  6. remove the sockets and shim.json; exit */
static void finish(struct shim *s, int status, const struct timespec *at)
{
	struct ev *outs[] = {&s->out, &s->err};
	for (int i = 0; i < 2; i++)
		if (outs[i]->fd >= 0)
			while (pump(s, outs[i]) > 0)
				;
	log_flush(s);

	long long oom = oom_count(s);
	int oom_killed = oom >= 0 && s->oom_base >= 0 && oom > s->oom_base;

	char err[2048];
	const char *verb[] = {"delete", "--force", s->o.id, NULL};
	if (runtime_run(s, verb, 0, 0, 0, err, sizeof err) < 0)
		warnx_shim(s, "delete after exit: %s", err);

	write_exit(s, status, at, oom_killed);
	log_close(&s->log);
	attach_finish(s);
	exec_finish(s);
	unlink(s->ctl_path);
	unlink(s->att_path);
	unlink(s->init_pid_path);
	unlink(s->info_path);
	unlink(s->rtlog_path);
	_exit(0);
}

void serve(struct shim *s)
{
	struct epoll_event evs[16];
	for (;;) {
		int n = epoll_wait(s->epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR) {
			warnx_shim(s, "epoll_wait: %s", strerror(errno));
			_exit(1);
		}
		for (int i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;
			int status = 0;
			switch (e->kind) {
			case K_SIG:
				if (reap(s, &status)) {
					struct timespec at;
					clock_gettime(CLOCK_REALTIME, &at);
					finish(s, status, &at);
				}
				break;
			case K_CTL_LISTEN:
				control_accept(s);
				break;
			case K_ATT_LISTEN:
				attach_accept(s);
				break;
			case K_OUT:
			case K_ERR:
				if (pump(s, e) == 0)
					stream_done(s, e);
				break;
			case K_STDIN:
				attach_stdin_ready(s);
				break;
			case K_CTL:
				control_event(s, (struct ctlconn *)e);
				/* The handler may have freed it: no further event of this
				 * batch refers to it, since each fd appears once. */
				break;
			case K_ATT:
				if (!((struct client *)e)->dead)
					attach_event(s, (struct client *)e, evs[i].events);
				break;
			case K_XOUT:
			case K_XERR:
			case K_XIN:
			case K_XCONN:
				exec_event(s, e, evs[i].events);
				break;
			}
		}
		/* Clients dropped in this batch are freed only now: a later event
		 * of the batch may still point at one. */
		while (s->dropped) {
			struct client *c = s->dropped;
			s->dropped = c->next;
			free(c->out);
			free(c);
		}
		exec_free_dead(s);
	}
}
