package containers

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Restart backoff: the first restart waits minBackoff, each next one twice
// as long up to maxBackoff; a run that lasted resetAfter starts over.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = time.Minute
	resetAfter = 10 * time.Second
)

// checkRestartPolicy validates and normalizes a restart policy ("" is
// "no").
func checkRestartPolicy(hc *container.HostConfig) error {
	p := &hc.RestartPolicy
	if err := container.ValidateRestartPolicy(*p); err != nil {
		return errorf(errdefs.ErrInvalidArgument, "%s", err.Error())
	}
	if p.Name == "" {
		p.Name = container.RestartPolicyDisabled
	}
	if hc.AutoRemove && p.Name != container.RestartPolicyDisabled {
		return errorf(errdefs.ErrInvalidArgument, "can't create 'AutoRemove' container with restart policy")
	}
	return nil
}

// shouldRestart decides, at an exit, whether the policy restarts the
// container: never after the user stopped it; always and unless-stopped
// every time; on-failure for a non-zero code while retries remain.
func shouldRestart(p container.RestartPolicy, code, restarts int, stoppedByUser bool) bool {
	if stoppedByUser {
		return false
	}
	switch p.Name {
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		return true
	case container.RestartPolicyOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || restarts < p.MaximumRetryCount)
	}
	return false
}

// restartsAtBoot reports whether a container that is not running is
// started when berthd starts (after a reboot or a downtime).
func restartsAtBoot(p container.RestartPolicy, stoppedByUser bool) bool {
	return !stoppedByUser && (p.Name == container.RestartPolicyAlways || p.Name == container.RestartPolicyUnlessStopped)
}

// nextBackoff is the delay before the next restart, given the last one
// and how long the run lasted.
func nextBackoff(last, ran time.Duration) time.Duration {
	if last == 0 || ran >= resetAfter {
		return minBackoff
	}
	return min(last*2, maxBackoff)
}

// logRotation reads the json-file options max-size and max-file from
// the container's log config over the daemon's defaults. A size of -1
// means no rotation.
func logRotation(lc container.LogConfig, defSize int64, defFiles int) (int64, int, error) {
	switch lc.Type {
	case "", "json-file":
	default:
		return 0, 0, errorf(errdefs.ErrNotImplemented, "logging driver %q is not supported: berth has json-file only", lc.Type)
	}
	size, files := defSize, defFiles
	for k, v := range lc.Config {
		switch k {
		case "max-size":
			n, err := parseSize(v)
			if err != nil {
				return 0, 0, err
			}
			size = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return 0, 0, errorf(errdefs.ErrInvalidArgument, "invalid value for max-file: %s: it must be at least 1", v)
			}
			files = n
		case "mode", "max-buffer-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag":
			// Accepted and ignored: the shim writes synchronously and
			// does not compress.
		default:
			return 0, 0, errorf(errdefs.ErrInvalidArgument, "unknown log opt '%s' for json-file log driver", k)
		}
	}
	if _, ok := lc.Config["max-file"]; ok && files > 1 {
		if _, ok := lc.Config["max-size"]; !ok && defSize < 0 {
			return 0, 0, errorf(errdefs.ErrInvalidArgument, "max-file cannot be set when max-size is not set")
		}
	}
	return size, files, nil
}

// parseSize reads a size as Docker's log options write it: a number with
// an optional binary unit k, m or g (and b); -1 means unlimited.
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(f) || f*float64(mult) < 1 || f*float64(mult) > 1<<50 {
		return 0, errorf(errdefs.ErrInvalidArgument, "invalid size: '%s'", s)
	}
	return int64(f * float64(mult)), nil
}
