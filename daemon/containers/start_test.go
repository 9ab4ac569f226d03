package containers

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

// TestStartFailure: a runtime's failure to run the process gives Docker's
// exit code and, for 126 and 127, an invalid-argument error kind.
func TestStartFailure(t *testing.T) {
	for _, tc := range []struct {
		msg     string
		code    int
		invalid bool
	}{
		{`exec: "nosuch": executable file not found in $PATH`, 127, true},
		{"open /bin/x: no such file or directory", 127, true},
		{"exec /etc: permission denied", 126, true},
		{"exec /tmp: is a directory", 126, true},
		{"cgroup: device or resource busy", 128, false},
	} {
		err := errors.New(tc.msg)
		if got := startFailureCode(err); got != tc.code {
			t.Errorf("startFailureCode(%q): got %d, want %d", tc.msg, got, tc.code)
		}
		got := startError(err)
		if inv := errdefs.IsInvalidArgument(got); inv != tc.invalid {
			t.Errorf("startError(%q): got invalid-argument %v, want %v", tc.msg, inv, tc.invalid)
		}
		if !errors.Is(got, err) {
			t.Errorf("startError(%q): got %v, want it to wrap the runtime's error", tc.msg, got)
		}
	}
}
