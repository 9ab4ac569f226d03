package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

var (
	networksBucket  = []byte("networks")
	endpointsBucket = []byte("endpoints")
)

// load reads the records into the maps. A record that does not decode is
// logged and left alone.
func (s *Service) load() error {
	return s.o.DB.Update(func(tx *bolt.Tx) error {
		nb, err := tx.CreateBucketIfNotExists(networksBucket)
		if err != nil {
			return fmt.Errorf("network store: %w", err)
		}
		eb, err := tx.CreateBucketIfNotExists(endpointsBucket)
		if err != nil {
			return fmt.Errorf("network store: %w", err)
		}
		if err := nb.ForEach(func(k, v []byte) error {
			var n Network
			if err := json.Unmarshal(v, &n); err != nil || n.ID != string(k) {
				s.log.Warn("network record unreadable", "network", string(k), "err", err)
				return nil
			}
			s.networks[n.ID] = &n
			return nil
		}); err != nil {
			return err
		}
		var orphans [][]byte
		defer func() {
			for _, k := range orphans {
				eb.Delete(k)
			}
		}()
		return eb.ForEach(func(k, v []byte) error {
			var e Endpoint
			if err := json.Unmarshal(v, &e); err != nil || e.ID != string(k) {
				s.log.Warn("endpoint record unreadable", "endpoint", string(k), "err", err)
				return nil
			}
			if s.networks[e.NetworkID] == nil {
				s.log.Warn("endpoint of a missing network dropped", "endpoint", e.ID, "network", e.NetworkID)
				orphans = append(orphans, slices.Clone(k))
				return nil
			}
			s.addEndpointLocked(&e)
			return nil
		})
	})
}

func putJSON(db *bolt.DB, bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), b)
	})
}

func deleteKey(db *bolt.DB, bucket []byte, key string) error {
	return db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Delete([]byte(key))
	})
}

func (s *Service) putNetwork(n *Network) error {
	if err := putJSON(s.o.DB, networksBucket, n.ID, n); err != nil {
		return fmt.Errorf("store network %s: %w", n.Name, err)
	}
	return nil
}

func (s *Service) putEndpoint(e *Endpoint) error {
	if err := putJSON(s.o.DB, endpointsBucket, e.ID, e); err != nil {
		return fmt.Errorf("store endpoint %s: %w", e.ID, err)
	}
	return nil
}

// addEndpointLocked enters an endpoint in the maps (its address taken).
func (s *Service) addEndpointLocked(e *Endpoint) {
	s.eps[e.ID] = e
	u := s.used[e.NetworkID]
	if u == nil {
		u = map[netip.Addr]string{}
		s.used[e.NetworkID] = u
	}
	if e.Address.IsValid() {
		u[e.Address.Addr()] = e.ID
	}
}

// replaceEndpointLocked makes cur's record next, its address included.
func (s *Service) replaceEndpointLocked(cur, next *Endpoint) {
	if u := s.used[cur.NetworkID]; u != nil && cur.Address.IsValid() && u[cur.Address.Addr()] == cur.ID {
		delete(u, cur.Address.Addr())
	}
	*cur = *next
	s.addEndpointLocked(cur)
}

// dropEndpointLocked deletes an endpoint's record and takes it out of the
// maps: its address is free again.
func (s *Service) dropEndpointLocked(e *Endpoint) error {
	if err := deleteKey(s.o.DB, endpointsBucket, e.ID); err != nil {
		return fmt.Errorf("delete endpoint %s: %w", e.ID, err)
	}
	delete(s.eps, e.ID)
	if u := s.used[e.NetworkID]; u != nil && u[e.Address.Addr()] == e.ID {
		delete(u, e.Address.Addr())
	}
	return nil
}

// sortedNetworks are the networks by name.
func (s *Service) sortedNetworks() []*Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedNetworksLocked()
}

func (s *Service) sortedNetworksLocked() []*Network {
	out := make([]*Network, 0, len(s.networks))
	for _, n := range s.networks {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *Network) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// endpointsOfLocked are the endpoints matching f, by interface name.
func (s *Service) endpointsOfLocked(f func(*Endpoint) bool) []*Endpoint {
	var out []*Endpoint
	for _, e := range s.eps {
		if f(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Endpoint) int {
		if c := strings.Compare(a.ContainerID, b.ContainerID); c != 0 {
			return c
		}
		return ifIndex(a.IfName) - ifIndex(b.IfName)
	})
	return out
}
