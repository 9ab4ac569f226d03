// Shared by nsexec.c, execproc.c, initplan.c and inroot.c.
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

// nsexec_bail sends the formatted message and errno's text to the parent
// as an error message and exits 1; nsexec_bailx leaves errno out and
// nsexec_bailn appends errnum's text (none when it is 0). After
// nsexec_late, nobody reads the sync socket: the message goes to stderr
// as "berth-runtime: MSG" and the process exits with code.
void nsexec_bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void nsexec_bailx(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void nsexec_bailn(int errnum, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void nsexec_late(int code);

// nsexec_exec_process reads the process blob from sync_fd, sets the
// process up and execs it; it returns only by exiting.
void nsexec_exec_process(int sync_fd) __attribute__((noreturn));

// nsexec_run_plan peeks at the first packet on sync_fd: if it is an init
// plan (initplan.c), it runs it and execs the process, never returning;
// otherwise it returns and Go's init reads the packet.
void nsexec_run_plan(int sync_fd);

// Record tags of the process blob: keep in step with execblob.go.
enum {
	T_ARG = 1,
	T_ENV = 2,
	T_CWD = 3,
	T_USER = 4,
	T_UMASK = 5,
	T_RLIMIT = 6,
	T_CAPS = 7,
	T_NNP = 8,
	T_SECCOMP = 9,
	T_PRESERVE = 10,
	T_OOM = 11,
};

#define MAX_RLIMITS 64

struct proc {
	char **argv, **envp;
	int argc, envc;
	const char *cwd, *oom;
	uint32_t uid, gid, ngids, *gids;
	uint32_t umask;
	struct {
		uint32_t res;
		uint64_t soft, hard;
	} rl[MAX_RLIMITS];
	int nrl;
	int has_caps;
	uint32_t last_cap;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	int nnp;
	int has_seccomp;
	uint32_t sc_flags;
	struct sock_filter *filter;
	size_t filter_len;
	uint32_t preserve;
};

// nsexec_unknown_record is what nsexec_proc_record returns for a tag that
// is not a process record.
extern const char nsexec_unknown_record[];

// Decoding a blob: nsexec_proc_init, then nsexec_proc_record for each
// record, then nsexec_proc_check; each returns NULL or what is wrong.
// They never exit, so they can be fuzzed. nsexec_proc_free releases what
// decoding allocated.
void nsexec_proc_init(struct proc *p);
const char *nsexec_proc_record(struct proc *p, uint32_t tag, const char *v, uint32_t n);
const char *nsexec_proc_check(struct proc *p);
void nsexec_proc_free(struct proc *p);

// nsexec_proc_prepare runs the steps that may still fail with the error
// going to the parent (oom_score_adj, HOME, the PATH look-up) and returns
// the program's path; nsexec_proc_exec drops privileges and execs it.
const char *nsexec_proc_prepare(struct proc *p);
void nsexec_proc_exec(struct proc *p, const char *path) __attribute__((noreturn));

// nsexec_recv_packet reads one packet from fd into a new buffer, and the
// fds passed along with it (close-on-exec): up to max into fds (their
// number in *nfds), closing the rest.
#define NSEXEC_MAX_FDS 64
char *nsexec_recv_packet(int fd, size_t *len, int *fds, int *nfds, int max);

// In-root look-ups (inroot.c), as runtime/container/inroot.go does them:
// on failure they return -1 and leave the message (without the error
// text) in nsexec_emsg and the errno in nsexec_eno, in the words Go uses.
extern char nsexec_emsg[];
extern int nsexec_eno;
int nsexec_open_in_root(int root, const char *path, int flags);
int nsexec_mkdir_all_in_root(int root, const char *path, unsigned mode);
int nsexec_create_file_in_root(int root, const char *path);
// nsexec_clean writes filepath.Clean("/" + in) to out; -1 if too long.
int nsexec_clean(const char *in, char *out, size_t size);
// nsexec_bail_err bails with "PREFIX: " (nothing if prefix is empty),
// nsexec_emsg and nsexec_eno's text.
void nsexec_bail_err(const char *prefix) __attribute__((noreturn));

uint32_t nsexec_get32(const char *p);
uint64_t nsexec_get64(const char *p);

#endif
