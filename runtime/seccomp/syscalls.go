package seccomp

//go:generate go run gen.go -o zsyscalls.go

// x32SyscallBit is __X32_SYSCALL_BIT: x32 syscalls arrive under
// AUDIT_ARCH_X86_64 with this bit set in their number.
const x32SyscallBit = 0x40000000

// sysnum is a row of syscallTable: a syscall name and its number on each
// ABI (column), -1 where the ABI lacks it. The table is a composite literal
// of constants, so it costs nothing at start-up.
type sysnum struct {
	name string
	nrs  [numColumns]int32
}

// lookupRow returns the row of syscallTable holding name, or -1.
func lookupRow(name string) int32 {
	lo, hi := 0, len(syscallTable)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if syscallTable[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(syscallTable) && syscallTable[lo].name == name {
		return int32(lo)
	}
	return -1
}

// lookup returns the number of name on the ABI of column col.
func lookup(col int, name string) (uint32, bool) {
	row := lookupRow(name)
	if row < 0 || syscallTable[row].nrs[col] < 0 {
		return 0, false
	}
	return uint32(syscallTable[row].nrs[col]), true
}
