package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rule is a validated syscalls[] entry.
type rule struct {
	names []string
	rows  []int32 // the names' rows in syscallTable, -1 for unknown names
	ret   uint32
	// alts are the rule's alternatives: it matches a call when all the
	// conditions of one of them hold. A rule without alternatives is
	// unconditional: it matches every call.
	alts [][]cond
}

func parseRules(calls []specs.LinuxSyscall) ([]rule, error) {
	rules := make([]rule, len(calls))
	for i, call := range calls {
		r, err := parseRule(call)
		if err != nil {
			return nil, fmt.Errorf("compile seccomp rule for %s: %w", ruleName(i, call.Names), err)
		}
		rules[i] = r
	}
	return rules, nil
}

func parseRule(call specs.LinuxSyscall) (rule, error) {
	if len(call.Names) == 0 {
		return rule{}, errors.New("no syscall names")
	}
	r, err := actionRet(call.Action, call.ErrnoRet)
	if err != nil {
		return rule{}, err
	}
	alts, err := parseAlts(call.Args)
	if err != nil {
		return rule{}, err
	}
	rows := make([]int32, len(call.Names))
	for i, name := range call.Names {
		rows[i] = lookupRow(name)
	}
	return rule{names: call.Names, rows: rows, ret: r, alts: alts}, nil
}

// parseAlts turns a rule's argument conditions into its alternatives.
// Conditions on distinct arguments are ANDed, so they make one
// alternative. When one argument is compared more than once, every
// condition becomes an alternative of its own, those on the other
// arguments included. That is what runc and crun do: libseccomp cannot
// compare an argument twice in one rule, so they add such a rule as one
// single-condition rule per condition.
func parseAlts(args []specs.LinuxSeccompArg) ([][]cond, error) {
	if len(args) == 0 {
		return nil, nil
	}
	conds := make([]cond, len(args))
	var seen [maxArgs]bool
	repeated := false
	for i, a := range args {
		c, err := parseCond(a)
		if err != nil {
			return nil, err
		}
		conds[i] = c
		repeated = repeated || seen[c.index]
		seen[c.index] = true
	}
	if !repeated {
		return [][]cond{conds}, nil
	}
	alts := make([][]cond, len(conds))
	for i := range conds {
		alts[i] = conds[i : i+1 : i+1]
	}
	return alts, nil
}

// ruleName names syscalls[i] in errors.
func ruleName(i int, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf("syscalls[%d]", i)
	}
	return fmt.Sprintf("syscalls[%d] (%s)", i, names[0])
}

// retString describes a SECCOMP_RET_* value in the spec's terms.
func retString(r uint32) string {
	act, data := r&unix.SECCOMP_RET_ACTION_FULL, r&unix.SECCOMP_RET_DATA
	for _, a := range actionRets[1:] { // skip SCMP_ACT_KILL, an alias
		if a.ret == act {
			if a.data {
				return fmt.Sprintf("%s(%d)", a.name, data)
			}
			return string(a.name)
		}
	}
	return fmt.Sprintf("%#x", r)
}

// foldRule drops the conditions of conds that always hold on the ABI; the
// rule never matches when one never holds.
func foldRule(conds []cond, arg32 bool) ([]cond, truth) {
	var live []cond
	for _, c := range conds {
		switch c.fold(arg32) {
		case never:
			return nil, never
		case depends:
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil, always
	}
	return live, depends
}
