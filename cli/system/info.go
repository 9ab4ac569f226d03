package system

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// infoData is what `berth info --format` sees: the daemon's info with
// the client's beside it.
type infoData struct {
	*system.Info
	ClientInfo clientInfo
	// ServerErrors holds why the daemon could not be asked.
	ServerErrors []string `json:",omitempty"`
}

type clientInfo struct {
	Version string
	Debug   bool
	Host    string
}

// NewInfoCommand is `berth info`.
func NewInfoCommand(c *command.CLI) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d := infoData{ClientInfo: clientInfo{Version: c.Version, Debug: c.Opts.Debug, Host: c.Host()}}
			api, err := c.Client()
			if err == nil {
				var res client.SystemInfoResult
				if res, err = api.Info(cmd.Context(), client.InfoOptions{}); err == nil {
					d.Info = &res.Info
				}
			}
			if err != nil {
				d.ServerErrors = []string{err.Error()}
			}
			if tmpl != "" {
				if tmpl == "json" {
					tmpl = "{{json .}}"
				}
				t, perr := format.Parse(tmpl)
				if perr != nil {
					return command.StatusError{Status: "template parsing error: " + perr.Error(), Code: 64}
				}
				if d.Info == nil {
					d.Info = &system.Info{}
				}
				if ferr := format.Template(c.Out, t, d); ferr != nil {
					return ferr
				}
				return err
			}
			writeInfo(c.Out, d)
			if err != nil {
				return command.StatusError{Status: "", Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

func writeInfo(w io.Writer, d infoData) {
	p := func(indent int, label string, v any) {
		fmt.Fprintf(w, "%s%s: %v\n", strings.Repeat(" ", indent), label, v)
	}
	fmt.Fprintln(w, "Client:")
	fmt.Fprintf(w, " Version:    %s\n", d.ClientInfo.Version)
	fmt.Fprintf(w, " Host:       %s\n", d.ClientInfo.Host)
	fmt.Fprintf(w, " Debug Mode: %v\n", d.ClientInfo.Debug)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Server:")
	if d.Info == nil {
		for _, e := range d.ServerErrors {
			fmt.Fprintf(w, "ERROR: %s\n", e)
		}
		return
	}
	i := d.Info
	p(1, "Containers", i.Containers)
	p(2, "Running", i.ContainersRunning)
	p(2, "Paused", i.ContainersPaused)
	p(2, "Stopped", i.ContainersStopped)
	p(1, "Images", i.Images)
	p(1, "Server Version", i.ServerVersion)
	p(1, "Storage Driver", i.Driver)
	for _, kv := range i.DriverStatus {
		p(2, kv[0], kv[1])
	}
	p(1, "Logging Driver", i.LoggingDriver)
	p(1, "Cgroup Driver", i.CgroupDriver)
	if i.CgroupVersion != "" {
		p(1, "Cgroup Version", i.CgroupVersion)
	}
	runtimes := make([]string, 0, len(i.Runtimes))
	for name := range i.Runtimes {
		runtimes = append(runtimes, name)
	}
	sort.Strings(runtimes)
	p(1, "Runtimes", strings.Join(runtimes, " "))
	p(1, "Default Runtime", i.DefaultRuntime)
	if len(i.SecurityOptions) > 0 {
		fmt.Fprintln(w, " Security Options:")
		for _, o := range i.SecurityOptions {
			// "name=seccomp,profile=builtin" → "seccomp" and "Profile: builtin"
			for n, kv := range strings.Split(o, ",") {
				k, v, _ := strings.Cut(kv, "=")
				if n == 0 {
					fmt.Fprintf(w, "  %s\n", v)
					continue
				}
				fmt.Fprintf(w, "   %s: %s\n", title(k), v)
			}
		}
	}
	p(1, "Kernel Version", i.KernelVersion)
	p(1, "Operating System", i.OperatingSystem)
	p(1, "OSType", i.OSType)
	p(1, "Architecture", i.Architecture)
	p(1, "CPUs", i.NCPU)
	p(1, "Total Memory", format.BytesSize(float64(i.MemTotal)))
	p(1, "Name", i.Name)
	p(1, "ID", i.ID)
	p(1, "Berth Root Dir", i.DockerRootDir)
	p(1, "Debug Mode", i.Debug)
	if i.Debug {
		p(2, "File Descriptors", i.NFd)
		p(2, "Goroutines", i.NGoroutines)
		p(2, "System Time", i.SystemTime)
		p(2, "EventsListeners", i.NEventsListener)
	}
	p(1, "Experimental", i.ExperimentalBuild)
	if len(i.Labels) > 0 {
		fmt.Fprintln(w, " Labels:")
		for _, l := range i.Labels {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if rc := i.RegistryConfig; rc != nil {
		if len(rc.InsecureRegistryCIDRs) > 0 || len(sortedIndexes(rc)) > 0 {
			fmt.Fprintln(w, " Insecure Registries:")
			for _, name := range sortedIndexes(rc) {
				fmt.Fprintf(w, "  %s\n", name)
			}
			for _, cidr := range rc.InsecureRegistryCIDRs {
				fmt.Fprintf(w, "  %s\n", cidr)
			}
		}
		if len(rc.Mirrors) > 0 {
			fmt.Fprintln(w, " Registry Mirrors:")
			for _, m := range rc.Mirrors {
				fmt.Fprintf(w, "  %s\n", m)
			}
		}
	}
	p(1, "Live Restore Enabled", i.LiveRestoreEnabled)
	for _, warn := range i.Warnings {
		fmt.Fprintln(w, warn)
	}
}

// sortedIndexes lists the registries marked insecure, by name.
func sortedIndexes(rc *registry.ServiceConfig) []string {
	var names []string
	for name, idx := range rc.IndexConfigs {
		if idx != nil && !idx.Secure {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
