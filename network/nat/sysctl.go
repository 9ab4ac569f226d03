package nat

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// setSysctls turns on, in the calling thread's namespace, what r's rules
// need: forwarding (unless r.KeepIPForward); route_localnet on bridges with published ports (so
// 127.0.0.1 may be DNATed out of them); bridged frames through the
// forward hook when a network has ICC off. A bridge not (yet) there is
// skipped: its rules wait for it.
func setSysctls(r Rules, bridgeFilter bool) error {
	if !r.KeepIPForward && (len(r.Networks) > 0 || len(r.Ports) > 0) {
		if err := sysctl("net/ipv4/ip_forward", true); err != nil {
			return err
		}
	}
	done := map[string]bool{}
	for _, p := range r.Ports {
		if done[p.Bridge] {
			continue
		}
		done[p.Bridge] = true
		if err := sysctl("net/ipv4/conf/"+p.Bridge+"/route_localnet", false); err != nil {
			return err
		}
	}
	for _, n := range r.Networks {
		if !n.ICC && bridgeFilter {
			return sysctl("net/bridge/bridge-nf-call-iptables", true)
		}
	}
	return nil
}

// sysctl writes 1 to /proc/sys/key unless it already holds 1.
func sysctl(key string, mustExist bool) error {
	p := "/proc/sys/" + key
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) && !mustExist {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	if len(b) > 0 && b[0] == '1' {
		return nil
	}
	if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	return nil
}
