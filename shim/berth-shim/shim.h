/*
 * berth-shim: the per-container supervisor. See ../doc.go for the protocol
 * between berthd (the Go package shim) and this program.
 *
 * One process per container, single-threaded, one epoll loop; every fd it
 * owns is close-on-exec, and the runtime's children get only their stdio.
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define LINE_MAX_LOG (16 * 1024)       /* Docker splits log lines at 16 KiB */
#define CLIENT_OUT_MAX (1024 * 1024)   /* an attach client further behind is dropped */
#define CLIENT_IN_MAX 4096
#define LOG_BATCH (16 * 1024)         /* log records are written in batches of about this size */

enum kind { K_SIG, K_CTL_LISTEN, K_ATT_LISTEN, K_OUT, K_ERR, K_STDIN, K_CTL, K_ATT, K_XOUT, K_XERR, K_XIN, K_XCONN };
enum stream { S_STDOUT = 1, S_STDERR = 2 };

/* ev is what epoll hands back: every registered fd starts with one. */
struct ev {
	enum kind kind;
	int fd;
};

struct opts {
	const char *id, *bundle, *runtime, *runtime_root, *state_dir, *log_path;
	long long log_max_size; /* <= 0: never rotate */
	int log_max_files;      /* total files, the current one included (Docker's max-file) */
	int tty, stdin_open, stdin_once;
	int sync_fd;
};

/* logw writes Docker's json-file format with size-based rotation. */
struct logw {
	const char *path;
	int fd;
	long long size, max_size;
	int max_files;
	char line[2][LINE_MAX_LOG]; /* pending partial line per stream */
	size_t len[2];
	char *rec;                  /* records encoded, not yet written */
	size_t rec_len, rec_cap;
	char ts[32];                /* date and time of day of ts_sec, formatted */
	size_t ts_len;
	time_t ts_sec;
	int failed;                 /* a write failed: reported once */
	int created;                /* log_open created the file */
};

struct ctlconn {
	struct ev ev;
	size_t len;
	char buf[256];
};

struct client {
	struct ev ev;
	struct client *next;
	char *out;                  /* queued output the socket did not take yet */
	size_t out_len, out_cap;
	char in[CLIENT_IN_MAX];     /* stdin read from the client, not yet written */
	size_t in_off, in_len;
	uint32_t events;
	int rd_done;                /* the client closed its end for writing */
	int dead;                   /* dropped; freed after the current epoll batch */
};

/* xproc is one exec: a process started in the container by the shim (see
 * exec.c). Its connection is the one that asked for it. */
struct xproc {
	struct ev out, err, in, conn;
	struct xproc *next;
	pid_t pid;
	int tty;
	int paused;                 /* output is not read while the connection lags */
	int dead;                   /* ended; freed after the current epoll batch */
	char id[65];
	char *q;                    /* frames the connection did not take yet */
	size_t q_len, q_cap;
	size_t in_off, in_len;      /* stdin read from the connection, not yet written */
	int in_eof;                 /* berthd closed its input: close stdin once written */
	int in_waiting;             /* EPOLLOUT registered on the stdin fd */
	char inbuf[CLIENT_IN_MAX];
};

struct shim {
	struct opts o;
	char ctl_path[108], att_path[108], console_path[108];
	char *init_pid_path, *info_path, *exit_path, *rtlog_path, *shimlog_path;
	int epfd;
	struct ev sig, ctl_l, att_l, out, err, in;
	int in_closed;              /* close-stdin was asked or the container closed it */
	int in_closing;             /* close stdin once the pending input is written */
	int stdin_waiting;          /* EPOLLOUT registered on the stdin fd */
	struct client *clients;
	struct client *dropped;     /* see serve */
	struct xproc *execs, *xdead;
	struct logw log;
	pid_t init_pid;
	char oom_file[4096];        /* memory.oom_control (v1) or memory.events (v2) */
	long long oom_base;
};

/* util.c */
int write_all(int fd, const void *buf, size_t n);
int write_file_atomic(const char *path, const char *data, size_t n);
int write_file(const char *path, const char *data, size_t n, int sync);
char *path_join(const char *dir, const char *name);
void fmt_time(char *buf, size_t n, const struct timespec *ts);
size_t json_escape(char *dst, const char *src, size_t n);
int read_small(const char *path, char *buf, size_t n);
void warnx_shim(struct shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void set_nonblock(int fd);
int ep_add(struct shim *s, struct ev *ev, uint32_t events);
int ep_mod(struct shim *s, struct ev *ev, uint32_t events);
void ep_del(struct shim *s, struct ev *ev);

/* runtime.c */
int runtime_run(struct shim *s, const char *const *verb, int fd0, int fd1, int fd2, char *err, size_t errlen);
pid_t spawn(const char *const *argv, int fd0, int fd1, int fd2);
int wait_child(pid_t pid);

/* logfile.c */
int log_open(struct logw *l, const char *path, long long max_size, int max_files);
void log_feed(struct shim *s, enum stream st, const char *data, size_t n);
void log_flush(struct shim *s);
void log_close(struct logw *l);

/* attach.c */
void attach_accept(struct shim *s);
void attach_broadcast(struct shim *s, enum stream st, const char *data, size_t n);
void attach_event(struct shim *s, struct client *c, uint32_t events);
void attach_stdin_ready(struct shim *s);
void attach_close_stdin(struct shim *s);
void attach_close_stdin_later(struct shim *s);
void attach_finish(struct shim *s);

/* control.c */
void control_accept(struct shim *s);
void control_event(struct shim *s, struct ctlconn *c);

/* setup.c */
int recv_master(int lfd, char *err, size_t errlen);

/* main.c */
int listen_unix(const char *path, char *err, size_t errlen);
int report_ok(struct shim *s);

/* setup.c */
int setup(struct shim *s, char *err, size_t errlen);
long long oom_count(struct shim *s);

/* exec.c */
int exec_start(struct shim *s, int conn, char *args, const char *rest, size_t rest_len, char *err, size_t errlen);
int exec_resize(struct shim *s, char *args, char *err, size_t errlen);
int exec_kill(struct shim *s, char *args, char *err, size_t errlen);
void exec_event(struct shim *s, struct ev *e, uint32_t events);
int exec_reaped(struct shim *s, pid_t pid, int status);
void exec_free_dead(struct shim *s);
void exec_finish(struct shim *s);

/* loop.c */
extern char io_buf[LINE_MAX_LOG]; /* where output is read into before it is handed on */
void serve(struct shim *s);

#endif
