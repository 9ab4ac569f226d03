// Package testutil holds helpers shared by berth's tests.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI (BERTH_CI=1), where a test that
// cannot run must fail rather than skip, so CI never turns green by skipping.
func CI() bool { return os.Getenv("BERTH_CI") == "1" }

// Skip skips the test with reason, or fails it under BERTH_CI=1.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if CI() {
		t.Fatalf("BERTH_CI=1 and %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips a test that needs root (fails it under BERTH_CI=1).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "test needs root")
	}
}

// RequireBinary returns the path of a program the test needs, skipping the
// test when it is not installed (failing it under BERTH_CI=1).
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Skip(t, "test needs "+name+" on PATH")
	}
	return p
}
