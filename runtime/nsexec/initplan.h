// The init plan: keep in step with runtime/container/initplan.go.
#ifndef BERTH_INITPLAN_H
#define BERTH_INITPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nsexec.h"

#define PLAN_MAGIC "BIN1"

// Op records: payload is ints u32, strs u32, ints × u64, then strs
// NUL-terminated strings filling the rest. Process records (execblob.go)
// may come anywhere among them.
enum {
	P_HOSTMNT = 32,    // dev, ino of the runtime's mount namespace
	OP_CGROUPNS = 33,  // unshare a cgroup namespace
	OP_MOUNTPATH = 34, // [flags] src, target, fstype, data, error text
	OP_BINDROOT = 35,  // rootfs: bind it on itself, open it as the root
	OP_MOUNT = 36,     // a mount in the rootfs: see M_* and MS_*
	OP_DEVICE = 37,    // [mode, dev, uid, gid] path, parent, base
	OP_SYMLINK = 38,   // [ignore errors] dir, name, target, error text
	OP_MKDIR = 39,     // path, error prefix
	OP_PIVOT = 40,     // [no pivot] rootfs
	OP_SYSCTL = 41,    // key, value, file
	OP_ROPATH = 42,    // path
	OP_MASK = 43,      // path
	OP_ROROOT = 44,    // remount / read-only
	OP_UTS = 45,       // [0 hostname, 1 domainname] name
	OP_KEYRING = 46,   // session keyring name
};

// OP_MOUNT ints.
enum {
	M_TARGET,   // how the target is made: T_*
	M_FLAGS,    // mount(2) flags
	M_FBFLAGS,  // remount flags after binding the fallback source
	M_REST,     // remount flags after the mount (0: none)
	M_ATTRSET,  // mount_setattr, recursive
	M_ATTRCLR,  //
	M_PROCCHK,  // refuse a symlink at the destination
	M_NPROPS,   // then that many propagation flags
};
// OP_MOUNT strings.
enum { MS_DEST, MS_SRC, MS_FSTYPE, MS_DATA, MS_TPREFIX, MS_MPREFIX, MS_FALLBACK, MS_RPREFIX };
// M_TARGET values.
enum { T_NONE, T_DIR, T_FILE, T_BINDSRC };

#define MAX_PROPS 8
#define MAX_OPS 1024

struct plan_op {
	uint32_t tag, ni;
	uint64_t i[8 + MAX_PROPS];
	const char *s[8];
};

struct plan {
	struct proc proc;
	int has_host_mnt;
	uint64_t host_mnt_dev, host_mnt_ino;
	int nops;
	struct plan_op *ops; // as many as the plan has records, at most MAX_OPS
};

// nsexec_plan_decode decodes a plan into pl (strings point into b) and
// returns NULL or what is wrong; it never exits, so it can be fuzzed.
const char *nsexec_plan_decode(struct plan *pl, const char *b, size_t len);
void nsexec_plan_free(struct plan *pl);

#endif
