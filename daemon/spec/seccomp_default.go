package spec

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// allowedSyscalls run unconditionally under the default profile: Docker's
// allowlist (moby/profiles, 2025), which leaves out the ~50 syscalls that
// reach past a container (kernel modules, kexec, reboot, clock setting,
// swap, quotas, keyrings, userfaultfd, io_uring, mount and namespace
// creation without CAP_SYS_ADMIN, ...).
const allowedSyscalls = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64
fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64
fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs
fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill
landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link
linkat listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat
lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod
mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv
msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat
openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename renameat renameat2
restart_syscall riscv_hwprobe rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid
setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit
set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr
setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
socketcall socketpair splice stat stat64 statfs statfs64 statmount statx symlink symlinkat sync
sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev
`

// sysAdminSyscalls need CAP_SYS_ADMIN: mounts, namespaces, BPF, perf,
// quotas, the host and domain name, the kernel log, LSM attributes.
const sysAdminSyscalls = `
bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl
quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare
`

// socketFamilies are the address families socket(2) may create beyond the
// first twelve (AF_UNSPEC..AF_ROSE): every family but DECnet, Econet, ATM
// SVC, IrDA, WAN pipe, ISDN, CAIF, AF_ALG and AF_VSOCK, which containers do
// not need and whose kernel code has a record of bugs.
func socketFamilies() []uint64 {
	return []uint64{13, 14, 15, 16, 17, 18, 21, 22, 24, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45}
}

// cloneNamespaceFlags are the clone(2) flags that create namespaces.
const cloneNamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// DefaultProfile returns berth's default seccomp profile, equivalent to
// Docker's: deny with EPERM by default, allow the common syscalls, and
// allow the privileged ones only to containers holding the capability that
// the kernel would check anyway (mount with CAP_SYS_ADMIN, ptrace with
// CAP_SYS_PTRACE, ...). Without CAP_SYS_ADMIN, clone may not create
// namespaces and clone3, whose flags a filter cannot read, fails with
// ENOSYS so that libcs fall back to clone.
func DefaultProfile() *Profile {
	allow := func(names string) Syscall {
		return Syscall{Names: strings.Fields(names), Action: specs.ActAllow}
	}
	withCap := func(names, c string) Syscall {
		r := allow(names)
		r.Includes = &Filter{Caps: []string{c}}
		return r
	}
	arg0 := func(name string, op specs.LinuxSeccompOperator, v uint64) Syscall {
		r := allow(name)
		r.Args = []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: op}}
		return r
	}
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)

	rules := []Syscall{allow(allowedSyscalls)}
	rules = append(rules, allow("process_vm_readv process_vm_writev ptrace"))
	// ptrace could bypass seccomp before Linux 4.8.
	rules[len(rules)-1].Includes = &Filter{MinKernel: &KernelVersion{4, 8}}
	rules = append(rules, arg0("socket", specs.OpLessThan, 12))
	for _, f := range socketFamilies() {
		rules = append(rules, arg0("socket", specs.OpEqualTo, f))
	}
	// personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32 and
	// the query 0xffffffff; not READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE,
	// which weaken the process's memory protections.
	for _, v := range []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		rules = append(rules, arg0("personality", specs.OpEqualTo, v))
	}
	archRule := func(names string, arches ...string) Syscall {
		r := allow(names)
		r.Includes = &Filter{Arches: arches}
		return r
	}
	rules = append(rules,
		archRule("sync_file_range2 swapcontext", "ppc64le"),
		archRule("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls", "arm", "arm64"),
		archRule("arch_prctl", "amd64", "x32"),
		archRule("modify_ldt", "amd64", "x32", "x86"),
		archRule("s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr", "s390", "s390x"),
		archRule("riscv_flush_icache", "riscv64"),
		withCap("open_by_handle_at", "CAP_DAC_READ_SEARCH"),
		withCap(sysAdminSyscalls, "CAP_SYS_ADMIN"),
	)
	noNS := []specs.LinuxSeccompArg{{Index: 0, Value: cloneNamespaceFlags, Op: specs.OpMaskedEqual}}
	rules = append(rules,
		Syscall{Names: []string{"clone"}, Action: specs.ActAllow, Args: noNS,
			Excludes: &Filter{Caps: []string{"CAP_SYS_ADMIN"}, Arches: []string{"s390", "s390x"}}},
		// s390 passes clone's flags second.
		Syscall{Names: []string{"clone"}, Action: specs.ActAllow,
			Args:     []specs.LinuxSeccompArg{{Index: 1, Value: cloneNamespaceFlags, Op: specs.OpMaskedEqual}},
			Comment:  "s390 parameter ordering for clone is different",
			Includes: &Filter{Arches: []string{"s390", "s390x"}}, Excludes: &Filter{Caps: []string{"CAP_SYS_ADMIN"}}},
		Syscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys,
			Excludes: &Filter{Caps: []string{"CAP_SYS_ADMIN"}}},
		withCap("reboot", "CAP_SYS_BOOT"),
		withCap("chroot", "CAP_SYS_CHROOT"),
		withCap("delete_module init_module finit_module", "CAP_SYS_MODULE"),
		withCap("acct", "CAP_SYS_PACCT"),
		withCap("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace", "CAP_SYS_PTRACE"),
		withCap("iopl ioperm", "CAP_SYS_RAWIO"),
		withCap("settimeofday stime clock_settime clock_settime64", "CAP_SYS_TIME"),
		withCap("vhangup", "CAP_SYS_TTY_CONFIG"),
		withCap("get_mempolicy mbind set_mempolicy set_mempolicy_home_node", "CAP_SYS_NICE"),
		withCap("syslog", "CAP_SYSLOG"),
		withCap("bpf", "CAP_BPF"),
		withCap("perf_event_open", "CAP_PERFMON"),
	)
	return &Profile{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eperm,
		ArchMap:         defaultArchMap(),
		Syscalls:        rules,
	}
}

// defaultArchMap serves the compat ABIs a 64-bit kernel also runs, as
// Docker's profile does.
func defaultArchMap() []ArchMap {
	return []ArchMap{
		{Arch: specs.ArchX86_64, SubArches: []specs.Arch{specs.ArchX86, specs.ArchX32}},
		{Arch: specs.ArchAARCH64, SubArches: []specs.Arch{specs.ArchARM}},
		{Arch: specs.ArchMIPS64, SubArches: []specs.Arch{specs.ArchMIPS, specs.ArchMIPS64N32}},
		{Arch: specs.ArchMIPS64N32, SubArches: []specs.Arch{specs.ArchMIPS, specs.ArchMIPS64}},
		{Arch: specs.ArchMIPSEL64, SubArches: []specs.Arch{specs.ArchMIPSEL, specs.ArchMIPSEL64N32}},
		{Arch: specs.ArchMIPSEL64N32, SubArches: []specs.Arch{specs.ArchMIPSEL, specs.ArchMIPSEL64}},
		{Arch: specs.ArchS390X, SubArches: []specs.Arch{specs.ArchS390}},
		{Arch: specs.ArchRISCV64},
		{Arch: specs.ArchLOONGARCH64},
	}
}
