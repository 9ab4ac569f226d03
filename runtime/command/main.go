package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Version is set at build time with -ldflags "-X …/command.Version=…".
var Version = "dev"

// Commit is the source revision, set at build time.
var Commit = ""

// app is what every verb gets: the global options and the log.
type app struct {
	root          string
	systemdCgroup bool
	debug         bool
	log           *logger
}

type verb struct {
	name    string
	usage   string
	summary string
	run     func(a *app, args []string) error
}

func verbs() []verb {
	return []verb{
		{"create", "[options] <container-id>", "create a container", runCreate},
		{"start", "<container-id>", "start the process of a created container", runStart},
		{"run", "[options] <container-id>", "create and start a container, wait for it", runRun},
		{"state", "<container-id>", "print the OCI state of a container", runState},
		{"kill", "[options] <container-id> [signal]", "send a signal (default SIGTERM) to a container", runKill},
		{"delete", "[options] <container-id>", "delete a container", runDelete},
		{"exec", "[options] <container-id> [command args...]", "run a process in a running container", runExec},
		{"list", "[options]", "list containers", runList},
		{"ps", "[options] <container-id> [ps options]", "list the processes of a container", runPs},
		{"pause", "<container-id>", "freeze every process of a container", runPause},
		{"resume", "<container-id>", "thaw a paused container", runResume},
		{"events", "[options] <container-id>", "print container events and resource statistics", runEvents},
		{"update", "[options] <container-id>", "update resource limits of a container", runUpdate},
		{"features", "", "print the features this runtime supports (JSON)", runFeatures},
		{"spec", "[options]", "write a default config.json", runSpec},
		{"checkpoint", "<container-id>", "not supported", unsupported("checkpoint")},
		{"restore", "<container-id>", "not supported", unsupported("restore")},
	}
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{log: &logger{stderr: stderr}}
	gf := flag.NewFlagSet("berth-runtime", flag.ContinueOnError)
	gf.SetOutput(io.Discard)
	gf.StringVar(&a.root, "root", "/run/berth-runtime", "root directory for container state")
	gf.BoolVar(&a.debug, "debug", false, "log debug messages")
	logPath := gf.String("log", "", "log file (default: stderr)")
	logFormat := gf.String("log-format", "text", "log format: text or json")
	gf.BoolVar(&a.systemdCgroup, "systemd-cgroup", false, "use the systemd cgroup driver (not supported yet)")
	gf.String("criu", "", "ignored (checkpoint/restore is not supported)")
	gf.String("rootless", "auto", "ignored: rootless mode is detected")
	version := gf.Bool("version", false, "print the version")
	gf.BoolVar(version, "v", false, "print the version")
	help := gf.Bool("help", false, "show help")
	gf.BoolVar(help, "h", false, "show help")
	if err := gf.Parse(args); err != nil {
		fmt.Fprintf(stderr, "berth-runtime: %v\n", err)
		return 1
	}
	if err := a.log.open(*logPath, *logFormat); err != nil {
		fmt.Fprintf(stderr, "berth-runtime: %v\n", err)
		return 1
	}
	defer a.log.close()
	if *version {
		printVersion(stdout)
		return 0
	}
	rest := gf.Args()
	if *help || len(rest) == 0 || rest[0] == "help" {
		printUsage(stdout)
		return 0
	}
	for _, v := range verbs() {
		if v.name == rest[0] || (rest[0] == "ls" && v.name == "list") {
			err := v.run(a, rest[1:])
			var ec exitCode
			if errors.As(err, &ec) {
				return int(ec)
			}
			if err != nil {
				a.log.errorf("%v", err)
				return 1
			}
			return 0
		}
	}
	a.log.errorf("unknown command %q (see berth-runtime --help)", rest[0])
	return 1
}

// exitCode ends the program with a code and no message (run, exec).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "berth-runtime version %s\n", Version)
	if Commit != "" {
		fmt.Fprintf(w, "commit: %s\n", Commit)
	}
	fmt.Fprintf(w, "spec: %s\n", specVersion())
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "berth-runtime: an OCI container runtime with runc's command line\n\nUsage: berth-runtime [global options] <command> [options] [arguments]\n\nCommands:")
	vs := verbs()
	sort.Slice(vs, func(i, j int) bool { return vs[i].name < vs[j].name })
	for _, v := range vs {
		fmt.Fprintf(w, "  %-11s %s\n", v.name, v.summary)
	}
	fmt.Fprintln(w, "\nGlobal options:\n  --root DIR          container state (default /run/berth-runtime)\n  --log FILE          log file\n  --log-format FMT    text or json\n  --debug             debug logging\n  --systemd-cgroup    systemd cgroup driver (not supported yet)\n  --version, -v       print the version")
}

func unsupported(name string) func(*app, []string) error {
	return func(*app, []string) error {
		return fmt.Errorf("%s is not supported by berth-runtime (no CRIU support yet)", name)
	}
}

// parse parses a verb's flags, allowing flags after positional arguments
// unless strict, and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string, strict bool) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%s: %w", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if strict {
			return append(pos, args...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneID checks that exactly one container id was given.
func oneID(verb string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("%s: expects exactly one container id, got %d arguments", verb, len(pos))
	}
	return pos[0], nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
