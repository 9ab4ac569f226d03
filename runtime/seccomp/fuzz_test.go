package seccomp

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FuzzCompile feeds JSON LinuxSeccomp configs to the compiler. A config
// that compiles must give a program the kernel's checker would accept and
// that agrees with the reference evaluator on inputs drawn from the config;
// one that does not must give an error, never a panic.
func FuzzCompile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg specs.LinuxSeccomp
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		prog, err := compile(&cfg, "amd64")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := check(prog); err != nil {
			t.Fatalf("check: %v\n%s", err, disassemble(prog))
		}
		h := fnv.New64a()
		h.Write(data)
		rng := rand.New(rand.NewPCG(h.Sum64(), 0))
		for _, d := range fuzzInputs(&cfg, rng) {
			got, err := run(prog, d, nil)
			if err != nil {
				t.Fatalf("run %+v: %v", d, err)
			}
			if want := reference(&cfg, "amd64", d); got != want {
				t.Fatalf("%+v: got %s, want %s\n%s", d, retString(got), retString(want), disassemble(prog))
			}
		}
	})
}

// fuzzInputs draws seccomp_data for the syscalls cfg names, on each x86
// ABI, with arguments at and around the values its rules compare with.
func fuzzInputs(cfg *specs.LinuxSeccomp, rng *rand.Rand) []seccompData {
	values := []uint64{0, 1, 0xffffffff, 0x1_00000000, ^uint64(0)}
	var names []string
	for _, s := range cfg.Syscalls {
		names = append(names, s.Names...)
		for _, a := range s.Args {
			values = append(values, a.Value, a.Value-1, a.Value+1, a.ValueTwo, a.Value&a.ValueTwo)
		}
	}
	abis := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	var out []seccompData
	for range min(64, 4*len(names)+4) {
		a, _ := findABI(abis[rng.IntN(len(abis))])
		d := seccompData{arch: a.audit, nr: rng.Uint32N(600)}
		if a.x32 {
			d.nr |= x32SyscallBit
		}
		if len(names) > 0 {
			if nr, ok := lookup(a.col, names[rng.IntN(len(names))]); ok {
				d.nr = nr
			}
		}
		if rng.IntN(16) == 0 {
			d.arch = unix.AUDIT_ARCH_AARCH64
		}
		for i := range d.args {
			d.args[i] = values[rng.IntN(len(values))]
		}
		out = append(out, d)
	}
	return out
}
