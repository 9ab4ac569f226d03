package nat

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/containerd/errdefs"
	"github.com/google/nftables"
	"github.com/vishvananda/netns"
)

// Table is berth's nftables table in one network namespace.
type Table struct {
	name string
	ns   netns.NsHandle // the namespace Open was called in
}

// Open returns the table named name (berthd: "berth") in the calling
// thread's network namespace. Nothing is changed until Apply. The caller
// should Close the table when done with it.
func Open(name string) (*Table, error) {
	if name == "" || len(name) > 255 {
		return nil, fmt.Errorf("open nftables table %q: invalid name: %w", name, errdefs.ErrInvalidArgument)
	}
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("open nftables table %s: network namespace: %w", name, err)
	}
	t := &Table{name: name, ns: ns}
	// One read, so a kernel without nf_tables fails here, clearly.
	if err := t.do(func(c *nftables.Conn) error {
		_, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
		return err
	}); err != nil {
		ns.Close()
		return nil, fmt.Errorf("open nftables table %s: %w", name, err)
	}
	return t, nil
}

// Close releases the handle on the network namespace; the rules stay.
func (t *Table) Close() error { return t.ns.Close() }

// Apply replaces the whole table with r's ruleset in one netlink batch
// (see the package doc), then sets the sysctls the data path needs.
func (t *Table) Apply(r Rules) error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("apply nftables table %s: %w", t.name, err)
	}
	err := t.do(func(c *nftables.Conn) error {
		bf := BridgeFilter()
		if err := batch(c, t.table(), r, bf); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
		return setSysctls(r, bf)
	})
	if err != nil {
		return fmt.Errorf("apply nftables table %s: %w", t.name, err)
	}
	return nil
}

// Delete removes the table; a table already gone is no error.
func (t *Table) Delete() error {
	err := t.do(func(c *nftables.Conn) error {
		c.AddTable(t.table())
		c.DelTable(t.table())
		return c.Flush()
	})
	if err != nil {
		return fmt.Errorf("delete nftables table %s: %w", t.name, err)
	}
	return nil
}

func (t *Table) table() *nftables.Table {
	return &nftables.Table{Name: t.name, Family: nftables.TableFamilyINet}
}

// BridgeFilter reports whether bridged frames can be filtered by the
// inet forward hook (br_netfilter is there) in the calling thread's
// network namespace. Without it ICC off is not enforced.
func BridgeFilter() bool {
	_, err := os.Stat("/proc/sys/net/bridge/bridge-nf-call-iptables")
	return err == nil
}

// do runs f with a netlink connection on a thread in t's namespace. The
// thread is locked for the call; when it cannot be put back in its own
// namespace it stays locked, so that it dies with the goroutine rather
// than serve other goroutines in the wrong namespace.
func (t *Table) do(f func(*nftables.Conn) error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		cur, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("network namespace of thread: %w", err)
			return
		}
		defer cur.Close()
		if !cur.Equal(t.ns) {
			if err := netns.Set(t.ns); err != nil {
				runtime.UnlockOSThread()
				errc <- fmt.Errorf("enter network namespace: %w", err)
				return
			}
		}
		err = run(f)
		if !cur.Equal(t.ns) {
			if berr := netns.Set(cur); berr != nil {
				errc <- errors.Join(err, fmt.Errorf("leave network namespace: %w", berr))
				return // thread stays locked and ends with the goroutine
			}
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// run opens a connection in the thread's namespace (the socket keeps it)
// and runs f.
func run(f func(*nftables.Conn) error) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	return f(c)
}
