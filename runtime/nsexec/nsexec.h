// Shared by nsexec.c and execproc.c.
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

// nsexec_bail sends the formatted message and errno's text to the parent
// as an error message and exits 1; nsexec_bailx leaves errno out.
void nsexec_bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void nsexec_bailx(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

// nsexec_exec_process reads the process blob from sync_fd, sets the
// process up and execs it; it returns only by exiting.
void nsexec_exec_process(int sync_fd) __attribute__((noreturn));

#endif
