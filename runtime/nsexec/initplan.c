// initplan: a new container's init, in C. When the parent sets
// _BERTH_PLAN and its first packet on the sync socket is an init plan
// (runtime/container/initplan.go writes it and lists the records), the
// process that clone or nsexec put into the container's namespaces and
// cgroups runs the plan here and execs the container's process: the Go
// runtime never starts in the container. Any other first packet is Go's
// init config: the constructor returns and Go's init reads it.
//
// The plan is data: the parent resolved everything that needs the spec
// (mount options, bundle-relative sources, cgroup paths, devices, the
// order of steps) and this file only applies it, step by step, in the
// order Go's createInit would, with the same error texts:
//
//   1. non-dumpable until execve; join the v1 cgroups (their tasks files
//      come with the plan, after the exec fifo); refuse to run in the
//      runtime's own mount namespace; umask 0
//   2. the ops, in plan order: cgroup namespace, propagation of /, the
//      rootfs bind, mounts and devices resolved in the rootfs, cwd,
//      pivot_root, sysctls, read-only and masked paths, read-only root,
//      hostname, session keyring
//   3. oom_score_adj, HOME, the PATH look-up; "ready" to the parent
//   4. wait for start: open the exec fifo for writing (blocks until
//      `start` opens it) and write a byte
//   5. the process: rlimits, fds, cwd, seccomp, capabilities, user, exec
//      (execproc.c). Errors from 4 on go to stderr, as Go's init does.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initplan.h"
#include "nsexec.h"

static const struct {
	uint32_t tag;
	uint32_t min_ints, max_ints, strs;
} op_shapes[] = {
	{P_HOSTMNT, 2, 2, 0},   {OP_CGROUPNS, 0, 0, 0}, {OP_MOUNTPATH, 1, 1, 5},
	{OP_BINDROOT, 0, 0, 1}, {OP_MOUNT, 8, 8 + MAX_PROPS, 8},
	{OP_DEVICE, 4, 4, 3},   {OP_SYMLINK, 1, 1, 4},  {OP_MKDIR, 0, 0, 2},
	{OP_PIVOT, 1, 1, 1},    {OP_SYSCTL, 0, 0, 3},   {OP_ROPATH, 0, 0, 1},
	{OP_MASK, 0, 0, 1},     {OP_ROROOT, 0, 0, 0},   {OP_UTS, 1, 1, 1},
	{OP_KEYRING, 0, 0, 1},
};

static const char *decode_op(struct plan_op *op, uint32_t tag, const char *v, uint32_t n)
{
	size_t k;
	for (k = 0; k < sizeof(op_shapes) / sizeof(op_shapes[0]); k++)
		if (op_shapes[k].tag == tag)
			break;
	if (k == sizeof(op_shapes) / sizeof(op_shapes[0]))
		return nsexec_unknown_record;
	if (n < 8)
		return "short op";
	uint32_t ni = nsexec_get32(v), ns = nsexec_get32(v + 4);
	if (ni < op_shapes[k].min_ints || ni > op_shapes[k].max_ints || ns != op_shapes[k].strs)
		return "op of the wrong shape";
	if ((uint64_t)ni * 8 > n - 8)
		return "truncated op";
	memset(op, 0, sizeof(*op));
	op->tag = tag;
	op->ni = ni;
	for (uint32_t i = 0; i < ni; i++)
		op->i[i] = nsexec_get64(v + 8 + 8 * i);
	const char *p = v + 8 + 8 * ni, *end = v + n;
	for (uint32_t i = 0; i < ns; i++) {
		const char *z = memchr(p, 0, end - p);
		if (!z)
			return "unterminated string in op";
		op->s[i] = p;
		p = z + 1;
	}
	if (p != end)
		return "trailing bytes in op";
	if (tag == OP_MOUNT && (op->i[M_NPROPS] > MAX_PROPS || ni != 8 + op->i[M_NPROPS]))
		return "bad propagation list in mount op";
	return NULL;
}

const char *nsexec_plan_decode(struct plan *pl, const char *b, size_t len)
{
	memset(pl, 0, sizeof(*pl));
	nsexec_proc_init(&pl->proc);
	if (len < 4 || memcmp(b, PLAN_MAGIC, 4) != 0)
		return "not an init plan";
	// Room for every record: a plan is a few KB, and touching no more
	// memory than it needs saves page faults on the start path.
	size_t nrec = 0;
	for (size_t off = 4; len - off >= 8 && nrec < MAX_OPS; nrec++) {
		uint32_t n = nsexec_get32(b + off + 4);
		if (n > len - off - 8)
			break;
		off += 8 + n;
	}
	pl->ops = malloc(sizeof(*pl->ops) * (nrec ? nrec : 1));
	if (!pl->ops)
		return "out of memory";
	size_t off = 4;
	while (off < len) {
		if (len - off < 8)
			return "truncated record";
		uint32_t tag = nsexec_get32(b + off), n = nsexec_get32(b + off + 4);
		off += 8;
		if (n > len - off)
			return "truncated record";
		const char *v = b + off;
		off += n;
		const char *err = nsexec_proc_record(&pl->proc, tag, v, n);
		if (err != nsexec_unknown_record) {
			if (err)
				return err;
			continue;
		}
		if ((size_t)pl->nops == nrec)
			return "too many ops";
		struct plan_op *op = &pl->ops[pl->nops];
		if ((err = decode_op(op, tag, v, n)) != NULL)
			return err;
		if (tag == P_HOSTMNT) {
			pl->host_mnt_dev = op->i[0];
			pl->host_mnt_ino = op->i[1];
			pl->has_host_mnt = 1;
			continue;
		}
		pl->nops++;
	}
	if (!pl->has_host_mnt)
		return "no mount namespace of the runtime";
	return nsexec_proc_check(&pl->proc);
}

void nsexec_plan_free(struct plan *pl)
{
	nsexec_proc_free(&pl->proc);
	free(pl->ops);
	pl->ops = NULL;
}
