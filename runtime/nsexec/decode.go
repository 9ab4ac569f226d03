package nsexec

// #include <stdio.h>
// #include <stdlib.h>
// #include <string.h>
// #include "initplan.h"
//
// // check_plan decodes b as the constructor would and frees what that
// // allocated; it fills what the tests compare.
// static const char *check_plan(const char *b, size_t n, int *nops, int *argc, int *envc) {
// 	struct plan *pl = malloc(sizeof(*pl));
// 	if (!pl)
// 		return "out of memory";
// 	const char *err = nsexec_plan_decode(pl, b, n);
// 	*nops = pl->nops;
// 	*argc = pl->proc.argc;
// 	*envc = pl->proc.envc;
// 	nsexec_plan_free(pl);
// 	free(pl);
// 	return err;
// }
//
// static int clean_path(const char *in, char *out, size_t size) {
// 	return nsexec_clean(in, out, size);
// }
//
// // make_in_root creates path in root as mkdir -p (dir) or as a file and
// // returns the fd, or -1 with the message in msg.
// static int make_in_root(int root, const char *path, int dir, char *msg, size_t size, int *eno) {
// 	int fd = dir ? nsexec_mkdir_all_in_root(root, path, 0755) : nsexec_create_file_in_root(root, path);
// 	if (fd < 0) {
// 		snprintf(msg, size, "%s", nsexec_emsg);
// 		*eno = nsexec_eno;
// 	}
// 	return fd;
// }
import "C"

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// planSummary is what decodePlan reports of a plan it accepts.
type planSummary struct{ ops, args, env int }

// decodePlan runs the constructor's plan decoder (initplan.c) on b, for
// tests: it never exits, whatever b holds.
func decodePlan(b []byte) (planSummary, error) {
	p := C.CBytes(b)
	defer C.free(p)
	var nops, argc, envc C.int
	if msg := C.check_plan((*C.char)(p), C.size_t(len(b)), &nops, &argc, &envc); msg != nil {
		return planSummary{}, errors.New(C.GoString(msg))
	}
	return planSummary{int(nops), int(argc), int(envc)}, nil
}

// cleanPath runs the constructor's path cleaning (inroot.c) on p, for
// tests; ok is false when the result does not fit 4 KiB.
func cleanPath(p string) (string, bool) {
	in := C.CString(p)
	defer C.free(unsafe.Pointer(in))
	out := (*C.char)(C.malloc(4096))
	defer C.free(unsafe.Pointer(out))
	if C.clean_path(in, out, 4096) < 0 {
		return "", false
	}
	return C.GoString(out), true
}

// makeInRoot runs the constructor's in-root creation (inroot.c): path is
// made inside root, as a directory (mkdir -p) or a file, and the path it
// got, as the kernel names it, is returned.
func makeInRoot(root *os.File, path string, dir bool) (string, error) {
	in := C.CString(path)
	defer C.free(unsafe.Pointer(in))
	msg := (*C.char)(C.malloc(1024))
	defer C.free(unsafe.Pointer(msg))
	var eno C.int
	d := C.int(0)
	if dir {
		d = 1
	}
	fd := C.make_in_root(C.int(root.Fd()), in, d, msg, 1024, &eno)
	if fd < 0 {
		return "", fmt.Errorf("%s: %w", C.GoString(msg), syscall.Errno(eno))
	}
	defer syscall.Close(int(fd))
	return os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
}
