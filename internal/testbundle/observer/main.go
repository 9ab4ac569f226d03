// Command observer runs inside test containers and reports what the
// container looks like from the inside, as JSON, or performs one action a
// test asks for (fork bomb, memory hog, write attempts).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

type info struct {
	Pid, Ppid, UID, GID, EUID, EGID int
	Groups                          []int
	Cwd                             string
	CwdErr                          string `json:",omitempty"`
	Hostname, Domainname            string
	Status                          map[string]string // selected /proc/self/status lines
	FDs                             map[string]string // fd → readlink target
	UIDMap, GIDMap                  string
	Cgroup                          string
	Mountinfo                       string
	Env                             []string
	Rlimits                         map[string][2]uint64
	Umask                           int
	OOMScoreAdj                     string
	Sysctls                         map[string]string `json:",omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: observer info|forkbomb|oom|sleep|exit N|mkdir DIR|write FILE|cat FILE|stat PATH...|ns|clock|args ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "info":
		printInfo()
	case "forkbomb":
		forkbomb()
	case "oom":
		oom()
	case "sleep":
		time.Sleep(time.Hour)
	case "exit":
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	case "mkdir":
		if err := os.Mkdir(os.Args[2], 0o755); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
	case "write":
		if err := os.WriteFile(os.Args[2], []byte("observer was here\n"), 0o644); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
	case "cat":
		data, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Stdout.Write(data)
	case "stat":
		statPaths(os.Args[2:])
	case "ns":
		namespaces()
	case "clock":
		clocks()
	case "args":
		json.NewEncoder(os.Stdout).Encode(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "observer: unknown command", os.Args[1])
		os.Exit(2)
	}
}

func printInfo() {
	in := info{
		Pid: os.Getpid(), Ppid: os.Getppid(), UID: os.Getuid(), GID: os.Getgid(),
		EUID: os.Geteuid(), EGID: os.Getegid(), Env: os.Environ(),
		Status: map[string]string{}, FDs: map[string]string{}, Rlimits: map[string][2]uint64{},
	}
	in.Groups, _ = os.Getgroups()
	var err error
	if in.Cwd, err = os.Getwd(); err != nil {
		in.CwdErr = err.Error()
	}
	in.Hostname = read("/proc/sys/kernel/hostname")
	in.Domainname = read("/proc/sys/kernel/domainname")
	for _, line := range strings.Split(read("/proc/self/status"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (strings.HasPrefix(k, "Cap") || k == "NoNewPrivs" || k == "Seccomp" || k == "Umask") {
			in.Status[k] = strings.TrimSpace(v)
		}
	}
	// Read the fd list first, then readlink: the dir fd itself shows up too.
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		t, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil {
			in.FDs[e.Name()] = t
		}
	}
	in.UIDMap = read("/proc/self/uid_map")
	in.GIDMap = read("/proc/self/gid_map")
	in.Cgroup = read("/proc/self/cgroup")
	in.Mountinfo = read("/proc/self/mountinfo")
	for name, r := range map[string]int{"NOFILE": syscall.RLIMIT_NOFILE, "CORE": syscall.RLIMIT_CORE, "NPROC": 6} {
		var l syscall.Rlimit
		if syscall.Getrlimit(r, &l) == nil {
			in.Rlimits[name] = [2]uint64{l.Cur, l.Max}
		}
	}
	in.Umask = syscall.Umask(0)
	in.OOMScoreAdj = read("/proc/self/oom_score_adj")
	if len(os.Args) > 2 {
		in.Sysctls = map[string]string{}
		for _, k := range os.Args[2:] {
			in.Sysctls[k] = read("/proc/sys/" + strings.ReplaceAll(k, ".", "/"))
		}
	}
	json.NewEncoder(os.Stdout).Encode(in)
}

func read(p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(string(data))
}

// forkbomb forks sleeping children until fork fails, then reports how many
// it made and why it stopped.
func forkbomb() {
	n := 0
	for ; n < 10000; n++ {
		r1, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if e != 0 {
			fmt.Printf("forked %d, then: %v\n", n, e)
			os.Exit(0)
		}
		if r1 == 0 {
			// The child: no Go runtime threads here, so only raw syscalls.
			for {
				syscall.RawSyscall(syscall.SYS_PAUSE, 0, 0, 0)
			}
		}
	}
	fmt.Printf("forked %d without hitting a limit\n", n)
}

// oom allocates and touches memory until killed.
func oom() {
	var hog [][]byte
	for i := 0; ; i++ {
		b := make([]byte, 16<<20)
		for j := range b {
			if j%4096 == 0 {
				b[j] = 1
			}
		}
		hog = append(hog, b)
		if i%16 == 0 {
			fmt.Printf("allocated %d MiB\n", (i+1)*16)
		}
	}
}

// fileInfo is what `observer stat` reports of one path (lstat: a symlink
// is reported as such, with its target).
type fileInfo struct {
	Path         string
	Err          string `json:",omitempty"`
	Type         string // "file", "dir", "symlink", "char", "block", "fifo", "socket"
	Mode         uint32 // permission bits
	UID, GID     uint32
	Major, Minor uint32
	Link         string `json:",omitempty"`
}

func statPaths(paths []string) {
	out := []fileInfo{}
	for _, p := range paths {
		fi := fileInfo{Path: p}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			fi.Err = err.Error()
			out = append(out, fi)
			continue
		}
		fi.Type = map[uint32]string{syscall.S_IFREG: "file", syscall.S_IFDIR: "dir", syscall.S_IFLNK: "symlink",
			syscall.S_IFCHR: "char", syscall.S_IFBLK: "block", syscall.S_IFIFO: "fifo", syscall.S_IFSOCK: "socket"}[st.Mode&syscall.S_IFMT]
		fi.Mode = st.Mode & 0o7777
		fi.UID, fi.GID = st.Uid, st.Gid
		fi.Major = uint32((st.Rdev>>8)&0xfff) | uint32((st.Rdev>>32)&^0xfff)
		fi.Minor = uint32(st.Rdev&0xff) | uint32((st.Rdev>>12)&^0xff)
		if fi.Type == "symlink" {
			fi.Link, _ = os.Readlink(p)
		}
		out = append(out, fi)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// namespaces prints /proc/self/ns/* as name → "type:[inode]".
func namespaces() {
	out := map[string]string{}
	ents, _ := os.ReadDir("/proc/self/ns")
	for _, e := range ents {
		if t, err := os.Readlink("/proc/self/ns/" + e.Name()); err == nil {
			out[e.Name()] = t
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// clocks prints CLOCK_MONOTONIC and CLOCK_BOOTTIME in nanoseconds, which
// a time namespace offsets.
func clocks() {
	out := map[string]int64{}
	for name, id := range map[string]uintptr{"monotonic": 1, "boottime": 7} {
		var ts syscall.Timespec
		if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0); e == 0 {
			out[name] = ts.Nano()
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
