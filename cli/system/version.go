package system

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/format"
)

// versionInfo is what `berth version` shows and --format sees.
type versionInfo struct {
	Client clientVersion
	Server *client.ServerVersionResult
}

type clientVersion struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
	GoVersion  string
	GitCommit  string
	Os         string
	Arch       string
}

// NewVersionCommand is `berth version`.
func NewVersionCommand(c *command.CLI) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the berth version information",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{Client: clientVersion{
				Version: c.Version, APIVersion: client.MaxAPIVersion, GoVersion: runtime.Version(),
				GitCommit: c.Commit, Os: runtime.GOOS, Arch: runtime.GOARCH,
			}}
			api, err := c.Client()
			var serr error
			if err == nil {
				var sv client.ServerVersionResult
				sv, serr = api.ServerVersion(cmd.Context(), client.ServerVersionOptions{})
				if serr == nil {
					v.Server = &sv
				}
				v.Client.APIVersion = api.ClientVersion()
			} else {
				serr = err
			}
			if tmpl != "" {
				t, err := format.Parse(tmpl)
				if tmpl == "json" {
					t, err = format.Parse("{{json .}}")
				}
				if err != nil {
					return command.StatusError{Status: "template parsing error: " + err.Error(), Code: 64}
				}
				if err := format.Template(c.Out, t, v); err != nil {
					return err
				}
				return serr
			}
			writeVersion(c, v)
			return serr
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

func writeVersion(c *command.CLI, v versionInfo) {
	w := c.Out
	// Values start in column 21, as in docker version.
	line := func(indent int, label, value string) {
		fmt.Fprintf(w, "%s%-*s%s\n", strings.Repeat(" ", indent), 20-indent, label+":", value)
	}
	fmt.Fprintln(w, "Client:")
	line(1, "Version", v.Client.Version)
	line(1, "API version", v.Client.APIVersion)
	line(1, "Go version", v.Client.GoVersion)
	line(1, "Git commit", v.Client.GitCommit)
	line(1, "OS/Arch", v.Client.Os+"/"+v.Client.Arch)
	line(1, "Host", c.Host())
	s := v.Server
	if s == nil {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Server: %s\n", s.Platform.Name)
	for _, comp := range s.Components {
		fmt.Fprintf(w, " %s:\n", comp.Name)
		d := comp.Details
		if comp.Name != "Engine" {
			line(2, "Version", comp.Version)
			for _, k := range sortedKeys(d) {
				line(2, k, d[k])
			}
			continue
		}
		line(2, "Version", comp.Version)
		line(2, "API version", fmt.Sprintf("%s (minimum version %s)", d["ApiVersion"], d["MinAPIVersion"]))
		line(2, "Go version", d["GoVersion"])
		line(2, "Git commit", d["GitCommit"])
		line(2, "OS/Arch", d["Os"]+"/"+d["Arch"])
		line(2, "Kernel version", d["KernelVersion"])
		line(2, "Experimental", d["Experimental"])
	}
	if len(s.Components) == 0 {
		line(1, "Version", s.Version)
		line(1, "API version", fmt.Sprintf("%s (minimum version %s)", s.APIVersion, s.MinAPIVersion))
		line(1, "OS/Arch", s.Os+"/"+strings.ToLower(s.Arch))
	}
}
