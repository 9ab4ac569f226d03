// Package seccomp compiles an OCI seccomp profile (specs.LinuxSeccomp) to a
// classic BPF program and installs it with seccomp(2), in pure Go: no cgo,
// no libseccomp.
//
// # Lifecycle
//
// berth-runtime's init calls Load on a locked OS thread just before execve,
// after setting no_new_privs. Load compiles the profile (Compile), installs
// it with SECCOMP_SET_MODE_FILTER and returns the notify listener fd when a
// rule uses SCMP_ACT_NOTIFY; sending that fd to listenerPath is the
// caller's job. Compile is also usable alone, to validate a config early.
// Actions, Operators, Archs, KnownFlags and SupportedFlags feed the
// runtime's `features` command.
//
// # Program layout
//
// The kernel runs the program on struct seccomp_data {nr, arch,
// instruction_pointer, args[6]} for every syscall. The program is:
//
//	ld   [arch]
//	jeq  AUDIT_ARCH_native        -> native block
//	jeq  AUDIT_ARCH_other, 0, 1   \  one pair per other arch
//	ja   other block              /
//	ret  KILL_PROCESS             an arch the filter does not serve
//	native block:
//	  ld   [nr]
//	  binary search over the syscall numbers:
//	  jge  #k, right half          each node splits the numbers in two
//	    ...
//	    ret ACTION                 a run of numbers with one plain outcome
//	    argument checks            one syscall with argument rules
//	other blocks ...
//
// Each arch block cuts the whole 32-bit number space into spans with one
// outcome each, merging neighbours with the same plain return: an
// allowlist's long runs of allowed numbers collapse into single leaves. A
// balanced search over the spans costs about log2(spans) comparisons per
// syscall: a Docker-sized allowlist of ~400 names compiles to ~170
// instructions for x86_64 alone, ~620 with x86 and x32, runs at most ~30 of
// them per syscall, and stays far under the kernel's 4096-instruction
// limit. The kernel's action cache then skips the program altogether for
// syscalls it proves always allowed. A node whose left half
// is longer than a conditional jump's 255-instruction reach jumps to a ja.
//
// A syscall with argument rules and no unconditional one is a leaf of its
// own, one run of checks per alternative (see Semantics):
//
//	alternative 1: check each condition, on failure jump past "ret"; ret ACTION1
//	alternative 2: ...
//	ret DEFAULT
//
// A 64-bit comparison loads the argument's high half and decides on it
// unless it equals the value's high half, then loads the low half and
// decides on that, so the ordering operators compare unsigned 64-bit
// values exactly. Comparisons known at compile time (GE 0, LT 0, a mask
// that cannot produce the wanted bits, ...) are folded away.
//
// # Semantics
//
//   - Rule precedence is libseccomp's, which runc and crun inherit and real
//     profiles rely on. A rule whose action (errnoRet included) is the
//     default action is dropped, as runc and crun drop it: it neither
//     decides a syscall nor hides another rule. The first unconditional
//     rule naming a syscall decides every call of it, and the rules with
//     argument conditions for that syscall are ignored, before or after it:
//     podman's profile allows setns in its allowlist and denies it further
//     down, and the allow wins. Without an unconditional rule, the
//     conditional rules are tried in config order, the first that holds
//     decides, and else the default action applies.
//   - The conditions of a rule on distinct arguments are ANDed. A rule that
//     compares one argument more than once holds when any one of its
//     conditions holds, those on the other arguments included: runc and
//     crun add it to libseccomp as one single-condition rule per
//     condition, since libseccomp cannot compare an argument twice in one
//     rule. Such a rule may have more than six conditions.
//   - When the default action refuses the syscall (SCMP_ACT_ERRNO, _KILL*,
//     _TRAP), the numbers above the highest one the profile names on an ABI
//     (any rule, any action) get ENOSYS instead, as runc gives them: a
//     profile that predates a syscall such as clone3 makes it look absent,
//     and glibc falls back to the older syscall rather than fail with
//     EPERM. Gaps below that number keep the default, and so does an ABI on
//     which the profile names nothing. A default of SCMP_ACT_ALLOW, _LOG or
//     _TRACE stays, as in runc: a tracer handles new syscalls itself. runc
//     does this for the architectures the config lists; here every served
//     ABI gets it, the native one included.
//   - A syscall name unknown on an ABI is skipped there, as runc and crun do:
//     profiles name syscalls newer than some kernels.
//   - errnoRet defaults to EPERM, for rules and for the default action alike
//     (config-linux.md); it is an error on an action that takes none.
//   - The native ABI is always served. Listed ABIs the native kernel can run
//     (x86 and x32 on amd64, arm on arm64) get blocks; any other recognised
//     architecture is left out, since the kernel never reports it. A
//     syscall from an arch the filter does not serve kills the process.
//   - x32 shares AUDIT_ARCH_X86_64 and sets bit 0x40000000 in its numbers.
//     With x32 listed, those numbers resolve through the x32 table, and the
//     ENOSYS rule above applies to x32 and x86_64 separately. Without it,
//     they get the default action when it refuses the syscall, and ENOSYS
//     when the default would let it run, so x32 cannot be used to step
//     around a denylist.
//   - On 32-bit ABIs (x86, arm) the kernel truncates arguments to 32 bits,
//     so only the low half is compared, the high half taken as zero.
//   - SCMP_ACT_NOTIFY cannot be the default action.
//
// # Loading
//
// Without SECCOMP_FILTER_FLAG_TSYNC the filter binds the calling thread and
// the processes it starts; with it, every thread of the process. Load adds
// SECCOMP_FILTER_FLAG_NEW_LISTENER for notify rules, and TSYNC_ESRCH when
// TSYNC comes with them (both would otherwise report through the return
// value); it drops WAIT_KILLABLE_RECV when there is no listener, since it
// only shapes one. When the kernel rejects the flags, Load names the flag.
//
// The syscall tables (zsyscalls.go) are generated by gen.go from
// golang.org/x/sys and the installed kernel headers: see gen.go.
package seccomp
