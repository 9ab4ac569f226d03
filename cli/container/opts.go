package container

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

// createFlags are run and create's flags.
type createFlags struct {
	attach                                  []string
	env, envFile, labels, labelFile         []string
	publish, expose, volumes, mounts, tmpfs []string
	volumesFrom                             []string
	capAdd, capDrop, securityOpt, ulimits   []string
	logOpts, sysctls, devices, addHosts     []string
	dns, dnsSearch, dnsOptions, groupAdd    []string
	entrypoint, hostname, domainname, name  string
	user, workdir, restart                  string
	memory, memorySwap, memoryReservation   string
	shmSize, cpus, cpusetCPUs, cpusetMems   string
	healthCmd, healthInterval               string
	healthTimeout, healthStartPeriod        string
	healthStartInterval, healthOnFailure    string
	logDriver, stopSignal, platform, pull   string
	ipc, pid, uts, userns, cgroupns         string
	runtime, cidfile, detachKeys            string
	cpuShares, cpuPeriod, cpuQuota          int64
	pidsLimit                               int64
	blkioWeight                             uint16
	healthRetries, stopTimeout, oomScoreAdj int
	interactive, tty, publishAll, readOnly  bool
	privileged, init, noHealthcheck, rm     bool
	oomKillDisable, quiet                   bool
	networkFlags
}

func (o *createFlags) register(f *pflag.FlagSet) {
	f.SetInterspersed(false) // flags after the image belong to the command
	f.StringSliceVarP(&o.attach, "attach", "a", nil, "Attach to STDIN, STDOUT or STDERR")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	f.StringArrayVar(&o.envFile, "env-file", nil, "Read in a file of environment variables")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "Set meta data on a container")
	f.StringArrayVar(&o.labelFile, "label-file", nil, "Read in a line delimited file of labels")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "Publish a container's port(s) to the host")
	f.BoolVarP(&o.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	f.StringArrayVar(&o.expose, "expose", nil, "Expose a port or a range of ports")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "Bind mount a volume")
	f.StringArrayVar(&o.mounts, "mount", nil, "Attach a filesystem mount to the container")
	f.StringArrayVar(&o.volumesFrom, "volumes-from", nil, "Mount volumes from the specified container(s)")
	f.StringArrayVar(&o.tmpfs, "tmpfs", nil, "Mount a tmpfs directory")
	f.StringArrayVar(&o.capAdd, "cap-add", nil, "Add Linux capabilities")
	f.StringArrayVar(&o.capDrop, "cap-drop", nil, "Drop Linux capabilities")
	f.StringArrayVar(&o.securityOpt, "security-opt", nil, "Security Options")
	f.StringArrayVar(&o.ulimits, "ulimit", nil, "Ulimit options")
	f.StringArrayVar(&o.logOpts, "log-opt", nil, "Log driver options")
	f.StringArrayVar(&o.sysctls, "sysctl", nil, "Sysctl options")
	f.StringArrayVar(&o.devices, "device", nil, "Add a host device to the container")
	f.StringArrayVar(&o.addHosts, "add-host", nil, "Add a custom host-to-IP mapping (host:ip)")
	f.StringArrayVar(&o.dns, "dns", nil, "Set custom DNS servers")
	f.StringArrayVar(&o.dnsSearch, "dns-search", nil, "Set custom DNS search domains")
	f.StringArrayVar(&o.dnsOptions, "dns-option", nil, "Set DNS options")
	f.StringArrayVar(&o.groupAdd, "group-add", nil, "Add additional groups to join")
	f.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	f.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	f.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	f.StringVar(&o.name, "name", "", "Assign a name to the container")
	f.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	f.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVar(&o.restart, "restart", "no", "Restart policy to apply when a container exits")
	o.networkFlags.register(f)
	o.registerResources(f)
	f.StringVar(&o.shmSize, "shm-size", "", "Size of /dev/shm")
	f.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	f.StringVar(&o.healthInterval, "health-interval", "", "Time between running the check (ms|s|m|h)")
	f.StringVar(&o.healthTimeout, "health-timeout", "", "Maximum time to allow one check to run (ms|s|m|h)")
	f.StringVar(&o.healthStartPeriod, "health-start-period", "", "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)")
	f.StringVar(&o.healthStartInterval, "health-start-interval", "", "Time between running the check during the start period (ms|s|m|h)")
	f.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	f.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")
	f.StringVar(&o.healthOnFailure, "health-on-failure", "", "Action to take when the container becomes unhealthy (none, restart, stop, kill); berth's label "+labelHealthOnFailure)
	f.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	f.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	f.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	f.IntVar(&o.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
	f.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	f.StringVar(&o.pull, "pull", "missing", `Pull image before running ("always", "missing", "never")`)
	f.StringVar(&o.ipc, "ipc", "", "IPC mode to use")
	f.StringVar(&o.pid, "pid", "", "PID namespace to use")
	f.StringVar(&o.uts, "uts", "", "UTS namespace to use")
	f.StringVar(&o.userns, "userns", "", "User namespace to use")
	f.StringVar(&o.cgroupns, "cgroupns", "", `Cgroup namespace to use (host|private)`)
	f.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	f.StringVar(&o.cidfile, "cidfile", "", "Write the container ID to the file")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	f.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	f.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	f.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	f.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	f.BoolVar(&o.rm, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	f.BoolVar(&o.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the pull output")
}

// containerConfig is what create sends.
type containerConfig struct {
	Config     *container.Config
	HostConfig *container.HostConfig
	Network    *network.NetworkingConfig
}

// parse turns the flags, the image and the command into the API's
// configuration. getenv reads the client's environment for -e NAME.
func (o *createFlags) parse(image string, cmd []string, getenv func(string) (string, bool), changed func(string) bool) (*containerConfig, error) {
	env := []string{}
	for _, f := range o.envFile {
		vars, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		env = append(env, vars...)
	}
	cmdline, err := parseEnv(o.env, getenv)
	if err != nil {
		return nil, err
	}
	env = append(env, cmdline...)
	labelValues := []string{}
	for _, f := range o.labelFile {
		ls, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		labelValues = append(labelValues, ls...)
	}
	labels, err := parseKeyValues(append(labelValues, o.labels...), "label", false)
	if err != nil {
		return nil, err
	}
	if labels, err = o.withHealthOnFailure(labels); err != nil {
		return nil, err
	}
	exposed, bindings, err := parsePorts(o.publish, o.expose)
	if err != nil {
		return nil, err
	}
	netMode, endpoints, err := o.networkFlags.parse()
	if err != nil {
		return nil, err
	}
	hosts, err := extraHosts(o.addHosts)
	if err != nil {
		return nil, err
	}
	restart, err := parseRestart(o.restart)
	if err != nil {
		return nil, err
	}
	if o.rm && !restart.IsNone() {
		return nil, fmt.Errorf("conflicting options: cannot specify both --restart and --rm")
	}
	hc := &container.HostConfig{
		Binds: binds(o.volumes), VolumesFrom: o.volumesFrom, PortBindings: bindings, PublishAllPorts: o.publishAll, RestartPolicy: restart,
		AutoRemove: o.rm, CapAdd: o.capAdd, CapDrop: o.capDrop, Privileged: o.privileged, ReadonlyRootfs: o.readOnly,
		ExtraHosts: hosts, DNSSearch: o.dnsSearch, DNSOptions: o.dnsOptions, GroupAdd: o.groupAdd,
		NetworkMode: netMode, IpcMode: container.IpcMode(o.ipc), PidMode: container.PidMode(o.pid),
		UTSMode: container.UTSMode(o.uts), UsernsMode: container.UsernsMode(o.userns), CgroupnsMode: container.CgroupnsMode(o.cgroupns),
		Runtime: o.runtime, OomScoreAdj: o.oomScoreAdj, ContainerIDFile: o.cidfile,
		LogConfig: container.LogConfig{Type: o.logDriver},
	}
	if hc.LogConfig.Config, err = parseKeyValues(o.logOpts, "log-opt", true); err != nil {
		return nil, err
	}
	if hc.Sysctls, err = parseKeyValues(o.sysctls, "sysctl", true); err != nil {
		return nil, err
	}
	if hc.Tmpfs, err = parseTmpfs(o.tmpfs); err != nil {
		return nil, err
	}
	if o.init {
		hc.Init = &o.init
	}
	for _, s := range o.dns {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not an ip address", s)
		}
		hc.DNS = append(hc.DNS, a)
	}
	for _, s := range o.mounts {
		m, err := parseMount(s)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--mount\" flag: %w", s, err)
		}
		hc.Mounts = append(hc.Mounts, m)
	}
	for _, s := range o.devices {
		d, err := parseDevice(s)
		if err != nil {
			return nil, err
		}
		hc.Devices = append(hc.Devices, d)
	}
	for _, s := range o.ulimits {
		u, err := parseUlimit(s)
		if err != nil {
			return nil, err
		}
		hc.Ulimits = append(hc.Ulimits, u)
	}
	if hc.SecurityOpt, err = securityOpts(o.securityOpt); err != nil {
		return nil, err
	}
	if err := o.resources(&hc.Resources, changed); err != nil {
		return nil, err
	}
	if hc.ShmSize, err = parseMemory(o.shmSize, "--shm-size", false); err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Image: image, Cmd: cmd, Env: env, Labels: labels, ExposedPorts: exposed, Hostname: o.hostname,
		Domainname: o.domainname, User: o.user, WorkingDir: o.workdir, Tty: o.tty, OpenStdin: o.interactive,
		StopSignal: o.stopSignal,
	}
	if changed("entrypoint") {
		cfg.Entrypoint = []string{}
		if o.entrypoint != "" {
			cfg.Entrypoint = []string{o.entrypoint}
		}
	}
	if changed("stop-timeout") {
		cfg.StopTimeout = &o.stopTimeout
	}
	if cfg.Healthcheck, err = o.health(); err != nil {
		return nil, err
	}
	for _, v := range o.volumes {
		// An anonymous volume ("-v /data") is declared in Config.Volumes.
		if !strings.Contains(v, ":") {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
		}
	}
	return &containerConfig{Config: cfg, HostConfig: hc, Network: &network.NetworkingConfig{EndpointsConfig: endpoints}}, nil
}

// registerResources adds the resource limit flags, which run, create and
// update share; resources reads them.
func (o *createFlags) registerResources(f *pflag.FlagSet) {
	f.StringVarP(&o.memory, "memory", "m", "", "Memory limit")
	f.StringVar(&o.memorySwap, "memory-swap", "", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	f.StringVar(&o.memoryReservation, "memory-reservation", "", "Memory soft limit")
	f.StringVar(&o.cpus, "cpus", "", "Number of CPUs")
	f.StringVar(&o.cpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	f.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	f.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	f.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	f.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable")
}

func (o *createFlags) resources(r *container.Resources, changed func(string) bool) error {
	var err error
	if r.Memory, err = parseMemory(o.memory, "--memory", false); err != nil {
		return err
	}
	if r.MemorySwap, err = parseMemory(o.memorySwap, "--memory-swap", true); err != nil {
		return err
	}
	if r.MemoryReservation, err = parseMemory(o.memoryReservation, "--memory-reservation", false); err != nil {
		return err
	}
	if r.NanoCPUs, err = parseCPUs(o.cpus); err != nil {
		return err
	}
	if r.NanoCPUs > 0 && (o.cpuPeriod > 0 || o.cpuQuota > 0) {
		return fmt.Errorf("conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	r.CPUShares, r.CPUPeriod, r.CPUQuota = o.cpuShares, o.cpuPeriod, o.cpuQuota
	r.CpusetCpus, r.CpusetMems, r.BlkioWeight = o.cpusetCPUs, o.cpusetMems, o.blkioWeight
	if changed("pids-limit") {
		r.PidsLimit = &o.pidsLimit
	}
	if changed("oom-kill-disable") {
		r.OomKillDisable = &o.oomKillDisable
	}
	return nil
}

func (o *createFlags) health() (*container.HealthConfig, error) {
	set := o.healthCmd != "" || o.healthInterval != "" || o.healthTimeout != "" || o.healthStartPeriod != "" ||
		o.healthStartInterval != "" || o.healthRetries != 0
	if o.noHealthcheck {
		if set {
			return nil, fmt.Errorf("--no-healthcheck conflicts with --health-* options")
		}
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !set {
		return nil, nil
	}
	h := &container.HealthConfig{Retries: o.healthRetries}
	if o.healthCmd != "" {
		h.Test = []string{"CMD-SHELL", o.healthCmd}
	}
	var err error
	if h.Interval, err = parseDuration(o.healthInterval, "--health-interval"); err != nil {
		return nil, err
	}
	if h.Timeout, err = parseDuration(o.healthTimeout, "--health-timeout"); err != nil {
		return nil, err
	}
	if h.StartPeriod, err = parseDuration(o.healthStartPeriod, "--health-start-period"); err != nil {
		return nil, err
	}
	if h.StartInterval, err = parseDuration(o.healthStartInterval, "--health-start-interval"); err != nil {
		return nil, err
	}
	if o.healthRetries < 0 {
		return nil, fmt.Errorf("--health-retries cannot be negative")
	}
	return h, nil
}

// securityOpts passes --security-opt through, reading the profile of
// seccomp=FILE on the client as docker does (the daemon gets the JSON).
func securityOpts(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			k, val, ok = strings.Cut(v, ":")
		}
		if !ok && v != "no-new-privileges" {
			return nil, fmt.Errorf("Invalid --security-opt: %q", v)
		}
		if k == "seccomp" && val != "unconfined" && val != "builtin" {
			b, err := os.ReadFile(val)
			if err != nil {
				return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", val, err)
			}
			v = "seccomp=" + string(b)
		}
		out = append(out, v)
	}
	return out, nil
}

// labelHealthOnFailure carries --health-on-failure to berthd, which acts
// on it (the Engine API has no field for it).
const labelHealthOnFailure = "berth.health-on-failure"

// withHealthOnFailure adds the --health-on-failure label, checked as
// berthd checks it.
func (o *createFlags) withHealthOnFailure(labels map[string]string) (map[string]string, error) {
	if o.healthOnFailure == "" {
		return labels, nil
	}
	switch o.healthOnFailure {
	case "none", "restart", "stop", "kill":
	default:
		return nil, fmt.Errorf("invalid argument %q for \"--health-on-failure\" flag: must be one of none, restart, stop, kill", o.healthOnFailure)
	}
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelHealthOnFailure] = o.healthOnFailure
	return labels, nil
}
