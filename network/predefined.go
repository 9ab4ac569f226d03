package network

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"
)

// defaultSubnet is dockerd's docker0 subnet, taken for the default bridge
// unless it overlaps a host route.
var defaultSubnet = netip.MustParsePrefix("172.17.0.0/16")

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// predefined makes or updates the networks "host", "none" and, unless
// disabled, "bridge". Their IDs are made once and kept.
func (s *Service) predefined() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	byName := map[string]*Network{}
	for _, n := range s.networks {
		byName[n.Name] = n
	}
	for _, p := range []struct{ name, driver string }{{"host", "host"}, {"none", "null"}} {
		if n := byName[p.name]; n != nil && n.Driver == p.driver {
			continue
		}
		n := &Network{ID: newID(), Name: p.name, Driver: p.driver, Scope: "local", Created: time.Now().UTC(),
			Labels: map[string]string{}, Options: map[string]string{}}
		if err := s.putNetwork(n); err != nil {
			return err
		}
		s.networks[n.ID] = n
	}
	old := byName["bridge"]
	if s.o.DefaultBridge == "none" {
		if old != nil && len(s.used[old.ID]) == 0 {
			if err := deleteKey(s.o.DB, networksBucket, old.ID); err != nil {
				return err
			}
			delete(s.networks, old.ID)
			s.wrote = true // its rules go with the table
			if err := s.drv.DeleteBridge(old.Bridge); err != nil {
				s.log.Warn("remove the former default bridge", "bridge", old.Bridge, "err", err)
			}
		}
		return nil
	}
	n := &Network{ID: newID(), Name: "bridge", Driver: "bridge", Scope: "local", Created: time.Now().UTC(), Default: true}
	if old != nil {
		n.ID, n.Created = old.ID, old.Created
		delete(s.networks, old.ID) // not taken by itself while choosing its subnet
	}
	sub, gw, err := s.defaultSubnetLocked(old)
	if err != nil {
		return err
	}
	n.Subnet, n.Gateway, n.Bridge, n.MTU = sub, gw, s.o.DefaultBridge, s.mtu
	n.ICC = !s.o.DisableICC
	n.Labels = map[string]string{}
	n.Options = map[string]string{
		"com.docker.network.bridge.default_bridge":       "true",
		"com.docker.network.bridge.enable_icc":           strconv.FormatBool(n.ICC),
		"com.docker.network.bridge.enable_ip_masquerade": "true",
		"com.docker.network.bridge.host_binding_ipv4":    "0.0.0.0",
		"com.docker.network.bridge.name":                 n.Bridge,
		"com.docker.network.driver.mtu":                  strconv.Itoa(n.MTU),
	}
	if err := s.putNetwork(n); err != nil {
		if old != nil {
			s.networks[old.ID] = old
		}
		return err
	}
	s.networks[n.ID] = n
	if old != nil && old.Bridge != n.Bridge && len(s.used[old.ID]) == 0 {
		// berthd runs with another --bridge now: the old device goes.
		if err := s.drv.DeleteBridge(old.Bridge); err != nil {
			s.log.Warn("remove the former default bridge", "bridge", old.Bridge, "err", err)
		}
	}
	return nil
}

// defaultSubnetLocked is the default bridge's subnet and gateway: --bip,
// else the one it had if still free, else 172.17.0.0/16 if free, else
// the first free subnet of the pools.
func (s *Service) defaultSubnetLocked(old *Network) (netip.Prefix, netip.Addr, error) {
	if bip := s.o.DefaultSubnet; bip.IsValid() {
		sub := bip.Masked()
		gw := bip.Addr()
		if gw == sub.Addr() {
			gw = gw.Next()
		}
		return sub, gw, nil
	}
	taken, err := s.takenLocked()
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, err
	}
	if old != nil && old.Subnet.IsValid() && !overlapsAny(old.Subnet, taken) {
		return old.Subnet, old.Gateway, nil
	}
	sub := defaultSubnet
	if overlapsAny(sub, taken) {
		if sub, err = s.freeSubnetLocked(); err != nil {
			return netip.Prefix{}, netip.Addr{}, err
		}
	}
	return sub, sub.Addr().Next(), nil
}
