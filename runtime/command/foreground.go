package command

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/berth-dev/berth/runtime/container"
)

// tty is the terminal of a foreground run/exec -t without --console-socket:
// the runtime receives the pty master itself and copies between it and its
// own stdio.
type tty struct {
	ours, theirs *os.File // socketpair: theirs goes to init as the console socket
	master       *os.File
	restore      func()
	done         chan struct{}
}

func newTTY() (*tty, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socketpair: %w", err)
	}
	return &tty{ours: os.NewFile(uintptr(fds[0]), "console"), theirs: os.NewFile(uintptr(fds[1]), "console-peer"), done: make(chan struct{})}, nil
}

// attach receives the master and starts copying.
func (t *tty) attach() error {
	t.theirs.Close()
	m, err := container.RecvFD(t.ours)
	t.ours.Close()
	if err != nil {
		return err
	}
	t.master = m
	if term.IsTerminal(int(os.Stdin.Fd())) {
		if st, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
			t.restore = func() { term.Restore(int(os.Stdin.Fd()), st) }
		}
		t.resize()
	}
	go io.Copy(m, os.Stdin)
	go func() {
		io.Copy(os.Stdout, m)
		close(t.done)
	}()
	return nil
}

func (t *tty) resize() {
	if t.master == nil {
		return
	}
	if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// close waits briefly for the last output, then restores the terminal.
func (t *tty) close() {
	if t.master != nil {
		select {
		case <-t.done:
		case <-time.After(200 * time.Millisecond):
		}
		t.master.Close()
	}
	if t.restore != nil {
		t.restore()
	}
}

// relay forwards the signals the runtime gets to the container's process;
// SIGWINCH resizes the pty instead. Subscribing to every signal costs one
// round trip with the Go runtime's signal-mask thread per signal, a few
// milliseconds in all, and so does unsubscribing: the subscription starts
// in the background before the container is created (as runc's does), and
// is never undone, since the runtime exits soon after stop. Signals that
// come before the process is known wait in the channel and are forwarded
// once it is; those that come after stop are dropped.
type relay struct {
	ch         chan os.Signal
	subscribed chan struct{}
	done       chan struct{}
	wg         sync.WaitGroup
}

func newRelay() *relay {
	r := &relay{ch: make(chan os.Signal, 32), subscribed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		signal.Notify(r.ch)
		close(r.subscribed)
	}()
	return r
}

// wait returns once the runtime catches every signal.
func (r *relay) wait() { <-r.subscribed }

// to forwards signals to pid until stop, from the time the subscription is
// in place: run waits for it before it starts the container; exec does not,
// its process runs already.
func (r *relay) to(pid int, t *tty) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case <-r.done:
			return
		case <-r.subscribed:
		}
		for {
			select {
			case <-r.done:
				return
			case s := <-r.ch:
				sig := s.(unix.Signal)
				switch sig {
				case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
					continue
				case unix.SIGWINCH:
					if t != nil {
						t.resize()
					}
					continue
				}
				unix.Kill(pid, sig)
			}
		}
	}()
}

// stop ends forwarding and waits until no signal is being forwarded.
func (r *relay) stop() {
	close(r.done)
	r.wg.Wait()
}

// becomeSubreaper makes the runtime adopt init when nsexec's intermediate
// process exits, so it can wait for it.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

var errDetachTTY = errors.New("cannot allocate a tty when detaching without --console-socket")
