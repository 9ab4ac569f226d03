/* Steps 4 to 6 of start-up: sockets, runtime create, log, shim.json. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* recv_master takes the pty master that runtime create sent on the
 * console socket: the connection is already queued when create returns. */
int recv_master(int lfd, char *err, size_t errlen)
{
	int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		snprintf(err, errlen, "runtime create sent no pty master on the console socket");
		return -1;
	}
	char data[256];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
	ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	close(conn);
	struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		snprintf(err, errlen, "console socket: no pty master in the message from runtime create");
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* oom_setup finds the memory cgroup of init and counts its OOM kills so
 * far: cgroup v1 memory.oom_control, else cgroup v2 memory.events. */
static void oom_setup(struct shim *s)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/cgroup", s->init_pid);
	if (read_small(path, buf, sizeof buf) <= 0)
		return;
	char *v2 = NULL;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (strcmp(c1 + 1, "") == 0) {
			v2 = c2 + 1;
			continue;
		}
		for (char *ctl = strtok_r(c1 + 1, ",", &c1); ctl; ctl = strtok_r(NULL, ",", &c1))
			if (strcmp(ctl, "memory") == 0) {
				snprintf(s->oom_file, sizeof s->oom_file, "/sys/fs/cgroup/memory%s/memory.oom_control", c2 + 1);
				goto found;
			}
	}
	if (!v2)
		return;
	snprintf(s->oom_file, sizeof s->oom_file, "/sys/fs/cgroup%s/memory.events", v2);
found:
	s->oom_base = oom_count(s);
}

long long oom_count(struct shim *s)
{
	char buf[1024];
	if (!s->oom_file[0] || read_small(s->oom_file, buf, sizeof buf) <= 0)
		return -1;
	char *p = strstr(buf, "oom_kill ");
	return p ? atoll(p + 9) : -1;
}

static int self_start_time(unsigned long long *t)
{
	char buf[1024];
	if (read_small("/proc/self/stat", buf, sizeof buf) <= 0)
		return -1;
	char *p = strrchr(buf, ')');
	/* After "pid (comm)": field 3 (state) onwards; starttime is field 22. */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*t = strtoull(p + 1, NULL, 10);
	return 0;
}

static int write_info(struct shim *s)
{
	unsigned long long st = 0;
	self_start_time(&st);
	char *buf;
	int n = asprintf(&buf,
			 "{\"id\":\"%s\",\"pid\":%d,\"start_time\":%llu,\"init_pid\":%d,\"terminal\":%s,\"stdin\":%s}\n",
			 s->o.id, getpid(), st, s->init_pid, s->o.tty ? "true" : "false",
			 s->o.stdin_open ? "true" : "false");
	if (n < 0)
		return -1;
	int r = write_file_atomic(s->info_path, buf, (size_t)n);
	free(buf);
	return r;
}

static int sock_path(char *dst, const char *dir, const char *name, char *err, size_t errlen)
{
	if ((size_t)snprintf(dst, 108, "%s/%s", dir, name) >= 108) {
		snprintf(err, errlen, "socket path %s/%s is longer than 107 bytes", dir, name);
		return -1;
	}
	return 0;
}

static void undo(struct shim *s, int created)
{
	char ignored[256];
	if (created) {
		const char *verb[] = {"delete", "--force", s->o.id, NULL};
		runtime_run(s, verb, 0, 0, 0, ignored, sizeof ignored);
	}
	unlink(s->ctl_path);
	unlink(s->att_path);
	unlink(s->console_path);
	unlink(s->init_pid_path);
	unlink(s->info_path);
	unlink(s->rtlog_path);
}

int setup(struct shim *s, char *err, size_t errlen)
{
	const char *dir = s->o.state_dir;
	if (sock_path(s->ctl_path, dir, "ctl.sock", err, errlen) < 0 ||
	    sock_path(s->att_path, dir, "attach.sock", err, errlen) < 0 ||
	    sock_path(s->console_path, dir, "console.sock", err, errlen) < 0)
		return -1;
	s->init_pid_path = path_join(dir, "init.pid");
	s->info_path = path_join(dir, "shim.json");
	s->exit_path = path_join(dir, "exit.json");
	s->rtlog_path = path_join(dir, "runtime.log");
	s->shimlog_path = path_join(dir, "shim.log");
	s->log.fd = -1;
	s->in.fd = s->out.fd = s->err.fd = -1;
	s->sig.kind = K_SIG, s->ctl_l.kind = K_CTL_LISTEN, s->att_l.kind = K_ATT_LISTEN;
	s->out.kind = K_OUT, s->err.kind = K_ERR, s->in.kind = K_STDIN;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->epfd < 0 || s->sig.fd < 0) {
		snprintf(err, errlen, "epoll or signalfd: %s", strerror(errno));
		return -1;
	}
	if ((s->ctl_l.fd = listen_unix(s->ctl_path, err, errlen)) < 0)
		return -1;
	if ((s->att_l.fd = listen_unix(s->att_path, err, errlen)) < 0) {
		unlink(s->ctl_path);
		return -1;
	}
	/* Sockets are ours now: a stale exit status must not be read as this run's. */
	unlink(s->exit_path);

	/* Step 5: the container's stdio. */
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC), con = -1;
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	int fd0 = nul, fd1 = nul, fd2 = nul;
	if (s->o.tty) {
		if ((con = listen_unix(s->console_path, err, errlen)) < 0)
			goto fail;
	} else {
		if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
		    (s->o.stdin_open && pipe2(pin, O_CLOEXEC) < 0)) {
			snprintf(err, errlen, "make stdio pipes: %s", strerror(errno));
			goto fail;
		}
		fd1 = pout[1], fd2 = perr[1];
		if (s->o.stdin_open)
			fd0 = pin[0];
	}
	const char *verb[9] = {"create", "--bundle", s->o.bundle, "--pid-file", s->init_pid_path};
	int nv = 5;
	if (s->o.tty)
		verb[nv++] = "--console-socket", verb[nv++] = s->console_path;
	verb[nv++] = s->o.id;
	verb[nv] = NULL;
	if (runtime_run(s, verb, fd0, fd1, fd2, err, errlen) < 0)
		goto fail;
	close(nul), close(pin[0]), close(pout[1]), close(perr[1]);
	nul = pin[0] = pout[1] = perr[1] = -1;

	char buf[32];
	if (read_small(s->init_pid_path, buf, sizeof buf) <= 0 || (s->init_pid = atoi(buf)) <= 0) {
		snprintf(err, errlen, "read init pid from %s: %s", s->init_pid_path, strerror(errno));
		goto fail_created;
	}
	if (s->o.tty) {
		if ((s->out.fd = recv_master(con, err, errlen)) < 0)
			goto fail_created;
		close(con), con = -1;
		unlink(s->console_path);
		if (s->o.stdin_open)
			s->in.fd = fcntl(s->out.fd, F_DUPFD_CLOEXEC, 3);
	} else {
		s->out.fd = pout[0], s->err.fd = perr[0], s->in.fd = pin[1];
	}
	set_nonblock(s->out.fd);
	if (s->err.fd >= 0)
		set_nonblock(s->err.fd);
	if (s->in.fd >= 0)
		set_nonblock(s->in.fd);

	/* Step 6. */
	if (log_open(&s->log, s->o.log_path, s->o.log_max_size, s->o.log_max_files) < 0) {
		snprintf(err, errlen, "open log %s: %s", s->o.log_path, strerror(errno));
		goto fail_created;
	}
	oom_setup(s);
	if (write_info(s) < 0) {
		snprintf(err, errlen, "write %s: %s", s->info_path, strerror(errno));
		goto fail_created;
	}
	if (ep_add(s, &s->sig, EPOLLIN) < 0 || ep_add(s, &s->ctl_l, EPOLLIN) < 0 || ep_add(s, &s->att_l, EPOLLIN) < 0 ||
	    ep_add(s, &s->out, EPOLLIN) < 0 || (s->err.fd >= 0 && ep_add(s, &s->err, EPOLLIN) < 0)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail_created;
	}
	if (report_ok(s) < 0) {
		/* The starter is gone before it learnt of the container: nobody
		 * will start it, so it goes, as a failed create would. */
		undo(s, 1);
		if (s->log.created)
			unlink(s->o.log_path);
		_exit(1);
	}
	return 0;

fail_created:
	undo(s, 1);
	if (s->log.created)
		unlink(s->o.log_path);
	return -1;
fail:
	undo(s, 0);
	return -1;
}
