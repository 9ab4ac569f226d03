package nsexec

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
import "C"

import (
	"errors"
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
