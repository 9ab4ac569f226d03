package command

import (
	"context"
	"flag"
	"os"

	"github.com/berth-dev/berth/runtime/container"
)

type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring          bool
	preserveFDs                    int
}

func (c *createFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.bundle, "bundle", ".", "path to the bundle directory")
	fs.StringVar(&c.bundle, "b", ".", "path to the bundle directory")
	fs.StringVar(&c.pidFile, "pid-file", "", "file to write the init pid to")
	fs.StringVar(&c.consoleSocket, "console-socket", "", "unix socket that receives the pty master")
	fs.BoolVar(&c.noPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root")
	fs.BoolVar(&c.noNewKeyring, "no-new-keyring", false, "keep the caller's session keyring")
	fs.IntVar(&c.preserveFDs, "preserve-fds", 0, "pass N fds after stdio (3, 4, …) to the container")
}

func (c *createFlags) opts(a *app, id string) container.CreateOpts {
	return container.CreateOpts{
		Root: a.root, ID: id, Bundle: c.bundle, PidFile: c.pidFile, ConsoleSocket: c.consoleSocket,
		NoPivot: c.noPivot, NoNewKeyring: c.noNewKeyring, PreserveFDs: c.preserveFDs,
		SystemdCgroup: a.systemdCgroup,
		// BERTH_INIT=go: Go's init creates every container (the C init
		// is the default where it can; see container/initplan.go).
		GoInit: os.Getenv("BERTH_INIT") == "go",
	}
}

func runCreate(a *app, args []string) error {
	var cf createFlags
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	cf.register(fs)
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	id, err := oneID("create", pos)
	if err != nil {
		return err
	}
	_, err = container.Create(context.Background(), cf.opts(a, id), a.log.warnf)
	return err
}
