/*
 * The container log in Docker's json-file format, one record per line:
 *
 *   {"log":"hello\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
 *
 * Output is split at '\n'; a line longer than 16 KiB is written as 16 KiB
 * records without a trailing "\n" (Docker's mark of a partial message) and
 * the rest; output left without '\n' when the container exits is written
 * the same way. The file rotates to PATH.1 … PATH.(max_files-1) once it has
 * reached max_size, as Docker's json-file driver does.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int log_open(struct logw *l, const char *path, long long max_size, int max_files)
{
	l->path = path;
	l->max_size = max_size;
	l->max_files = max_files < 1 ? 1 : max_files;
	/* A restarted container appends to its log, as Docker's does. */
	l->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	l->created = l->fd >= 0;
	if (l->fd < 0 && errno == EEXIST)
		l->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (l->fd < 0)
		return -1;
	struct stat st;
	l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

static int rotate(struct logw *l)
{
	char from[4096], to[4096];
	close(l->fd);
	l->fd = -1;
	if (l->max_files > 1) {
		for (int i = l->max_files - 2; i >= 0; i--) {
			if (i == 0)
				snprintf(from, sizeof from, "%s", l->path);
			else
				snprintf(from, sizeof from, "%s.%d", l->path, i);
			snprintf(to, sizeof to, "%s.%d", l->path, i + 1);
			if (rename(from, to) < 0 && errno != ENOENT)
				return -1;
		}
		l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	} else {
		l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	}
	if (l->fd < 0)
		return -1;
	l->size = 0;
	return 0;
}

/* write_batch writes the records encoded so far with one write(2): a
 * reader following the file sees whole records unless the disk is full,
 * and a container that prints many short lines costs few system calls. */
static void write_batch(struct shim *s)
{
	struct logw *l = &s->log;
	if (l->rec_len == 0 || l->fd < 0) {
		l->rec_len = 0;
		return;
	}
	if (write_all(l->fd, l->rec, l->rec_len) < 0) {
		if (!l->failed)
			warnx_shim(s, "write log %s: %s", l->path, strerror(errno));
		l->failed = 1;
	} else {
		l->size += (long long)l->rec_len;
	}
	l->rec_len = 0;
}

/* log_time writes the time as fmt_time does, formatting the date and
 * time of day only when the second changes: a record costs little more
 * than its bytes. */
static size_t log_time(struct logw *l, char *dst, const struct timespec *ts)
{
	if (ts->tv_sec != l->ts_sec || l->ts_len == 0) {
		struct tm tm;
		gmtime_r(&ts->tv_sec, &tm);
		l->ts_len = strftime(l->ts, sizeof l->ts, "%Y-%m-%dT%H:%M:%S", &tm);
		l->ts_sec = ts->tv_sec;
	}
	memcpy(dst, l->ts, l->ts_len);
	size_t k = l->ts_len;
	/* The fraction, trailing zeros trimmed, as Go's RFC3339Nano. */
	char frac[9];
	long ns = ts->tv_nsec;
	for (int i = 8; i >= 0; i--, ns /= 10)
		frac[i] = (char)('0' + ns % 10);
	int f = 9;
	while (f > 0 && frac[f - 1] == '0')
		f--;
	if (f > 0) {
		dst[k++] = '.';
		memcpy(dst + k, frac, (size_t)f);
		k += (size_t)f;
	}
	dst[k++] = 'Z';
	return k;
}

/* emit encodes one record into the batch. The file rotates before a record
 * once it has reached the maximum size, as Docker's json-file does. */
static void emit(struct shim *s, enum stream st, const char *data, size_t n)
{
	struct logw *l = &s->log;
	if (n == 0)
		return;
	if (l->max_size > 0 && l->size + (long long)l->rec_len >= l->max_size) {
		write_batch(s);
		if (rotate(l) < 0) {
			if (!l->failed)
				warnx_shim(s, "rotate log %s: %s", l->path, strerror(errno));
			l->failed = 1;
		}
	}
	if (l->fd < 0)
		return;
	size_t need = l->rec_len + 6 * n + 128;
	if (need > l->rec_cap) {
		char *r = realloc(l->rec, need);
		if (!r)
			return;
		l->rec = r;
		l->rec_cap = need;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char *r = l->rec + l->rec_len;
	memcpy(r, "{\"log\":\"", 8);
	size_t k = 8;
	k += json_escape(r + k, data, n);
	static const char out[] = "\",\"stream\":\"stdout\",\"time\":\"", err[] = "\",\"stream\":\"stderr\",\"time\":\"";
	memcpy(r + k, st == S_STDERR ? err : out, sizeof out - 1);
	k += sizeof out - 1;
	k += log_time(l, r + k, &now);
	memcpy(r + k, "\"}\n", 3);
	k += 3;
	l->rec_len += k;
	if (l->rec_len >= LOG_BATCH)
		write_batch(s);
}

/* log_feed splits a chunk of the container's output into records. */
void log_feed(struct shim *s, enum stream st, const char *data, size_t n)
{
	struct logw *l = &s->log;
	int i = st == S_STDERR;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;
		size_t room = LINE_MAX_LOG - l->len[i];
		if (take > room) {
			/* A line longer than 16 KiB: flush what fits as a partial record. */
			memcpy(l->line[i] + l->len[i], data, room);
			emit(s, st, l->line[i], LINE_MAX_LOG);
			l->len[i] = 0;
			data += room;
			n -= room;
			continue;
		}
		if (nl && l->len[i] == 0) {
			emit(s, st, data, take); /* the common case: no copy */
		} else {
			memcpy(l->line[i] + l->len[i], data, take);
			l->len[i] += take;
			if (nl) {
				emit(s, st, l->line[i], l->len[i]);
				l->len[i] = 0;
			}
		}
		data += take;
		n -= take;
	}
	write_batch(s);
}

/* log_flush writes what is left without a newline, as partial records. */
void log_flush(struct shim *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->log.len[i] > 0)
			emit(s, i ? S_STDERR : S_STDOUT, s->log.line[i], s->log.len[i]);
		s->log.len[i] = 0;
	}
	write_batch(s);
}

void log_close(struct logw *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
