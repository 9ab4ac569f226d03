/*
 * Attach clients: each gets the live output from the moment it connected
 * (after the "ok\n" greeting) and may write the container's stdin. Without
 * a terminal every chunk is framed as Docker's multiplexed stream, an 8-byte
 * header {stream, 0, 0, 0, big-endian uint32 length}, stream 1 = stdout and
 * 2 = stderr; with a terminal the pty's bytes go out as they are.
 *
 * Nobody blocks anybody: output a client does not take is queued up to
 * CLIENT_OUT_MAX, after which the client is dropped; stdin that the
 * container does not read yet stops reading from that client until the
 * pipe drains.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void drop(struct shim *s, struct client *c)
{
	struct client **pp = &s->clients;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	ep_del(s, &c->ev);
	close(c->ev.fd);
	c->dead = 1;
	c->next = s->dropped;
	s->dropped = c;
}

static void set_events(struct shim *s, struct client *c, uint32_t events)
{
	if (c->events != events && ep_mod(s, &c->ev, events) == 0)
		c->events = events;
}

/* want computes a client's events: read unless its stdin waits for the
 * container, write while output is queued. */
static uint32_t want(struct client *c)
{
	return (c->in_len || c->rd_done ? 0 : EPOLLIN) | (c->out_len ? EPOLLOUT : 0);
}

void attach_accept(struct shim *s)
{
	int fd = accept4(s->att_l.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct client *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->ev.kind = K_ATT;
	c->ev.fd = fd;
	/* The greeting tells the client it is registered: output from here on
	 * reaches it, so berthd may attach, then start, and miss nothing. */
	if (send(fd, "ok\n", 3, MSG_NOSIGNAL) != 3 || ep_add(s, &c->ev, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->events = EPOLLIN;
	c->next = s->clients;
	s->clients = c;
}

/* queue appends to a client's output; 0 when the client must go. */
static int queue(struct client *c, const char *p, size_t n)
{
	if (c->out_len + n > CLIENT_OUT_MAX)
		return 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return 0;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 1;
}

/* flush writes queued output; 0 when the client is gone. */
static int flush(struct client *c)
{
	size_t off = 0;
	while (off < c->out_len) {
		ssize_t w = send(c->ev.fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return 0;
		}
		off += (size_t)w;
	}
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
	return 1;
}

void attach_broadcast(struct shim *s, enum stream st, const char *data, size_t n)
{
	unsigned char hdr[8] = {(unsigned char)st, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				(unsigned char)(n >> 8), (unsigned char)n};
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if ((!s->o.tty && !queue(c, (const char *)hdr, sizeof hdr)) || !queue(c, data, n) || !flush(c)) {
			drop(s, c);
			continue;
		}
		set_events(s, c, want(c));
	}
}

/* push_stdin writes a client's pending stdin; 1 if all of it went. */
static int push_stdin(struct shim *s, struct client *c)
{
	if (s->in.fd < 0) {
		c->in_len = c->in_off = 0; /* no stdin, or closed: discard */
		return 1;
	}
	while (c->in_off < c->in_len) {
		ssize_t w = write(s->in.fd, c->in + c->in_off, c->in_len - c->in_off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			attach_close_stdin(s); /* EPIPE: the container closed its stdin */
			c->in_len = c->in_off = 0;
			return 1;
		}
		c->in_off += (size_t)w;
	}
	c->in_len = c->in_off = 0;
	return 1;
}

void attach_event(struct shim *s, struct client *c, uint32_t events)
{
	if ((events & EPOLLOUT) && !flush(c)) {
		drop(s, c);
		return;
	}
	if (events & EPOLLIN) {
		ssize_t r = read(c->ev.fd, c->in, sizeof c->in);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			drop(s, c);
			return;
		}
		if (r == 0) {
			c->rd_done = 1; /* closed for writing: it still gets output */
			/* A StdinOnce container's stdin ends with its client's input
			 * (all of it written: EPOLLIN is off while any is pending),
			 * unless the client went away altogether. */
			if (s->o.stdin_once && !(events & EPOLLHUP))
				attach_close_stdin_later(s);
		}
		if (r > 0) {
			c->in_len = (size_t)r;
			c->in_off = 0;
			if (!push_stdin(s, c) && !s->stdin_waiting && ep_add(s, &s->in, EPOLLOUT) == 0)
				s->stdin_waiting = 1;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		drop(s, c);
		return;
	}
	set_events(s, c, want(c));
}

/* attach_stdin_ready: the container's stdin drained; feed the clients
 * that were waiting for it. */
void attach_stdin_ready(struct shim *s)
{
	int all = 1;
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->in_len && !push_stdin(s, c))
			all = 0;
		set_events(s, c, want(c));
	}
	if (all && s->stdin_waiting) {
		if (s->in.fd >= 0)
			ep_del(s, &s->in);
		s->stdin_waiting = 0;
	}
	if (all && s->in_closing)
		attach_close_stdin(s);
}

/* attach_close_stdin_later closes the container's stdin once the input
 * the clients sent so far is written. */
void attach_close_stdin_later(struct shim *s)
{
	for (struct client *c = s->clients; c; c = c->next)
		if (c->in_len) {
			s->in_closing = 1;
			return;
		}
	attach_close_stdin(s);
}

/* attach_close_stdin closes the container's stdin (close-stdin, or the
 * container closed it): the container reads EOF. */
void attach_close_stdin(struct shim *s)
{
	if (s->in.fd < 0)
		return;
	if (s->stdin_waiting)
		ep_del(s, &s->in);
	s->stdin_waiting = 0;
	close(s->in.fd);
	s->in.fd = -1;
	for (struct client *c = s->clients; c; c = c->next)
		c->in_len = c->in_off = 0;
}

/* attach_finish hands every client what is queued for it (waiting at most
 * a couple of seconds for a slow one) and hangs up: EOF is the client's
 * sign that the container is gone. */
void attach_finish(struct shim *s)
{
	struct timeval tv = {.tv_sec = 2};
	while (s->clients) {
		struct client *c = s->clients;
		int fl = fcntl(c->ev.fd, F_GETFL);
		fcntl(c->ev.fd, F_SETFL, fl & ~O_NONBLOCK);
		setsockopt(c->ev.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (c->out_len)
			write_all(c->ev.fd, c->out, c->out_len);
		shutdown(c->ev.fd, SHUT_RDWR);
		drop(s, c);
	}
}
