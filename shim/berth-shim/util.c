/* Small helpers: whole writes, crash-safe files, time and JSON text. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* write_file_atomic: temp file, fsync, rename, fsync the directory, so a
 * reader (a restarted berthd) sees either nothing or the whole file. */
int write_file_atomic(const char *path, const char *data, size_t n)
{
	return write_file(path, data, n, 1);
}

/* write_file: temp file and rename, so that a reader sees nothing or the
 * whole file; with sync, the data and the rename also survive a crash of
 * the host. */
int write_file(const char *path, const char *data, size_t n, int sync)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	if (!tmp)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, n) < 0 || (sync && fsync(fd) < 0) || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	char *slash = strrchr(path, '/');
	if (sync && slash) {
		char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	return 0;
}

char *path_join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0) {
		perror("berth-shim: out of memory");
		_exit(1);
	}
	return p;
}

/* fmt_time writes RFC 3339 with nanoseconds in UTC, trailing zeros of the
 * fraction trimmed: what Go's time.RFC3339Nano (and so Docker) writes. */
void fmt_time(char *buf, size_t n, const struct timespec *ts)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	char frac[16];
	snprintf(frac, sizeof frac, ".%09ld", ts->tv_nsec);
	size_t f = strlen(frac);
	while (f > 1 && frac[f - 1] == '0')
		f--;
	if (f == 1)
		f = 0;
	frac[f] = 0;
	snprintf(buf + k, n - k, "%sZ", frac);
}

/* utf8_len returns the length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* json_escape encodes n bytes as the inside of a JSON string, the way Go's
 * encoding/json (Go 1.22 on) does: quotes, backslashes and control characters escaped,
 * <, > and & as \u00XX, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
 * dst needs 6*n bytes. Returns the length written. */
size_t json_escape(char *dst, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
			*d++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*d++ = '\\';
			switch (c) {
			case '"': *d++ = '"'; break;
			case '\\': *d++ = '\\'; break;
			case '\n': *d++ = 'n'; break;
			case '\r': *d++ = 'r'; break;
			case '\t': *d++ = 't'; break;
			case '\b': *d++ = 'b'; break;
			case '\f': *d++ = 'f'; break;
			default:
				*d++ = 'u', *d++ = '0', *d++ = '0';
				*d++ = hex[c >> 4], *d++ = hex[c & 15];
			}
			i++;
			continue;
		}
		size_t l = utf8_len(s + i, n - i);
		if (l == 0) {
			memcpy(d, "\\ufffd", 6);
			d += 6;
			i++;
		} else if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			memcpy(d, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			d += 6;
			i += 3;
		} else {
			memcpy(d, s + i, l);
			d += l;
			i += l;
		}
	}
	return (size_t)(d - dst);
}

/* read_small reads up to n-1 bytes of a small file and terminates them. */
int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got < n - 1) {
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return (int)got;
}

/* warnx_shim records what the shim cannot report to anyone (a log write
 * that failed, a delete that failed after the exit): shim.log in the state
 * directory, opened only when there is something to say. */
void warnx_shim(struct shim *s, const char *fmt, ...)
{
	char msg[1024], ts[64];
	struct timespec now;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	fmt_time(ts, sizeof ts, &now);
	int fd = open(s->shimlog_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	dprintf(fd, "%s container %s: %s\n", ts, s->o.id, msg);
	close(fd);
}

void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int ep_add(struct shim *s, struct ev *ev, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev->fd, &e);
}

int ep_mod(struct shim *s, struct ev *ev, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, ev->fd, &e);
}

void ep_del(struct shim *s, struct ev *ev)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}
