package cgroups

import (
	"bytes"
	"math/rand/v2"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runFilter interprets prog, which may only use the instructions
// deviceFilter emits, on a device request. It also checks what the kernel's
// verifier would: jumps stay inside the program, every instruction is
// reachable, and the program ends in exit with r0 set.
func runFilter(t *testing.T, prog []insn, typ byte, major, minor int64, acc uint8) uint64 {
	t.Helper()
	checkReachable(t, prog)
	devType := uint64(unix.BPF_DEVCG_DEV_CHAR)
	if typ == 'b' {
		devType = unix.BPF_DEVCG_DEV_BLOCK
	}
	ctx := [3]uint64{uint64(acc)<<16 | devType, uint64(major), uint64(minor)}
	var reg [11]uint64
	set := [11]bool{r1: true}
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc < 0 || pc >= len(prog) || steps > 100000 {
			t.Fatalf("pc %d out of the program (%d insns)", pc, len(prog))
		}
		in := prog[pc]
		dst, src := in.regs&0xf, in.regs>>4
		use := func(r uint8) uint64 {
			if !set[r] {
				t.Fatalf("insn %d reads r%d before it is set", pc, r)
			}
			return reg[r]
		}
		imm := uint64(int64(in.imm))
		switch in.code {
		case opLdxW:
			if src != r1 || in.off%4 != 0 || in.off < 0 || in.off > 8 {
				t.Fatalf("insn %d: load from r%d%+d is not a context field", pc, src, in.off)
			}
			reg[dst], set[dst] = ctx[in.off/4], true
		case opMovImm:
			reg[dst], set[dst] = imm, true
		case opMovReg:
			reg[dst], set[dst] = use(src), true
		case opAndImm:
			reg[dst] = use(dst) & imm
		case opRshImm:
			reg[dst] = use(dst) >> uint(in.imm)
		case opJeqImm:
			if use(dst) == imm {
				pc += int(in.off)
			}
		case opJneImm:
			if use(dst) != imm {
				pc += int(in.off)
			}
		case opJa:
			pc += int(in.off)
		case opExit:
			return use(r0)
		default:
			t.Fatalf("insn %d: opcode %#x not in the emitted subset", pc, in.code)
		}
	}
}

func checkReachable(t *testing.T, prog []insn) {
	t.Helper()
	seen := make([]bool, len(prog))
	var visit func(pc int)
	visit = func(pc int) {
		for ; pc < len(prog) && !seen[pc]; pc++ {
			seen[pc] = true
			switch prog[pc].code {
			case opExit:
				return
			case opJa:
				pc += int(prog[pc].off)
				if pc+1 > len(prog) {
					t.Fatalf("jump past the end")
				}
			case opJeqImm, opJneImm:
				visit(pc + 1 + int(prog[pc].off))
			}
		}
		if pc >= len(prog) {
			t.Fatalf("execution falls off the end of the program")
		}
	}
	visit(0)
	for pc, ok := range seen {
		if !ok {
			t.Fatalf("insn %d is unreachable; the verifier would refuse the program", pc)
		}
	}
}

func TestDeviceFilterMatchesRules(t *testing.T) {
	lists := map[string][]specs.LinuxDeviceCgroup{
		"empty":      nil,
		"allow all":  {dev("a", -1, -1, "rwm", true)},
		"deny all":   {dev("a", -1, -1, "rwm", false)},
		"privileged": {dev("a", -1, -1, "rwm", false), dev("a", -1, -1, "rwm", true)},
		"defaults": {
			dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true), dev("c", 1, 5, "rwm", true),
			dev("c", 5, -1, "rwm", true), dev("c", -1, -1, "m", true), dev("b", -1, -1, "m", true),
		},
		"carve a hole (v2 only)":        {dev("c", -1, -1, "rwm", true), dev("c", 1, 3, "w", false)},
		"split access on overlap":       {dev("c", 1, -1, "r", true), dev("c", 1, 3, "w", true)},
		"later allow reopens":           {dev("c", 1, -1, "rwm", false), dev("c", 1, 5, "r", true)},
		"deny of a type among allows":   {dev("a", -1, -1, "rwm", true), dev("b", -1, -1, "rwm", false)},
		"only mknod allowed everywhere": {dev("a", -1, -1, "m", true)},
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			rules := mustRules(t, list)
			prog, err := deviceFilter(rules)
			if err != nil {
				t.Fatal(err)
			}
			forGrid(func(typ byte, major, minor int64, acc uint8) {
				want := allowedByRules(rules, typ, major, minor, acc)
				if got := runFilter(t, prog, typ, major, minor, acc) == 1; got != want {
					t.Fatalf("%c %d:%d acc %d: got allowed=%v, want %v", typ, major, minor, acc, got, want)
				}
			})
		})
	}
}

func TestDeviceFilterRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		rules := randomRules(rng)
		prog, err := deviceFilter(rules)
		if err != nil {
			t.Fatal(err)
		}
		forGrid(func(typ byte, major, minor int64, acc uint8) {
			want := allowedByRules(rules, typ, major, minor, acc)
			if got := runFilter(t, prog, typ, major, minor, acc) == 1; got != want {
				t.Fatalf("rules %v: %c %d:%d acc %d: got allowed=%v, want %v", rules, typ, major, minor, acc, got, want)
			}
		})
	}
}

func TestDeviceFilterSmall(t *testing.T) {
	// Allow-all compiles to the loads and "return 1"; unreachable rules and
	// trailing denies leave no trace.
	all, _ := deviceFilter(mustRules(t, []specs.LinuxDeviceCgroup{dev("c", 1, 3, "rwm", true), dev("a", -1, -1, "rwm", true)}))
	if len(all) != 9 {
		t.Errorf("allow all: got %d insns, want 9", len(all))
	}
	list := []specs.LinuxDeviceCgroup{dev("a", -1, -1, "rwm", false)}
	for i := 0; i < 100; i++ {
		list = append(list, dev("c", 10, int64(i), "rwm", true))
	}
	prog, err := deviceFilter(mustRules(t, list))
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) > 1500 {
		t.Errorf("100 rules: got %d insns, want at most 1500", len(prog))
	}
}

func TestEncode(t *testing.T) {
	got := encode([]insn{{code: opJneImm, regs: r5 | r1<<4, off: 3, imm: -2}})
	want := []byte{0x55, 0x15, 0x03, 0x00, 0xfe, 0xff, 0xff, 0xff}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}
