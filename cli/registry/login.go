package registry

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/config"
)

// Host is the host name a login server is keyed by: its scheme and
// path dropped ("https://reg:5000/v2/" is "reg:5000"), Docker Hub's
// aliases all docker.io.
func Host(server string) string {
	s := strings.TrimSpace(server)
	if s == "" || config.Key(s) == config.HubServer {
		return "docker.io"
	}
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	s, _, _ = strings.Cut(s, "/")
	if config.Key(s) == config.HubServer {
		return "docker.io"
	}
	return s
}

// NewLoginCommand is `berth login`.
func NewLoginCommand(c *command.CLI) *cobra.Command {
	var user, password string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Long:  "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
		Args:  command.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			host := Host(server)
			if password != "" {
				fmt.Fprintln(c.Err, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
				if passwordStdin {
					return errors.New("--password and --password-stdin are mutually exclusive")
				}
			}
			if passwordStdin {
				if user == "" {
					return errors.New("Must provide --username with --password-stdin")
				}
				b, err := io.ReadAll(c.In)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			var err error
			if user == "" {
				if user, err = prompt(c, "Username: "); err != nil {
					return err
				}
			}
			if password == "" {
				if password, err = promptPassword(c); err != nil {
					return err
				}
			}
			if user == "" {
				return errors.New("Error: Non-null Username Required")
			}
			if password == "" {
				return errors.New("Error: Password Required")
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			addr := host
			if host == "docker.io" {
				addr = config.HubServer
			}
			if _, err := api.RegistryLogin(cmd.Context(), client.RegistryLoginOptions{Username: user, Password: password, ServerAddress: addr}); err != nil {
				return err
			}
			cf, err := c.Config()
			if err != nil {
				return err
			}
			cf.SetCredentials(host, user, password)
			if err := cf.Save(); err != nil {
				return fmt.Errorf("error saving credentials: %w", err)
			}
			fmt.Fprintln(c.Out, "Login Succeeded")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "Username")
	f.StringVarP(&password, "password", "p", "", "Password or Personal Access Token (PAT)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	return cmd
}

func prompt(c *command.CLI, label string) (string, error) {
	if !c.In.IsTerminal() {
		return "", errors.New("Error: Cannot perform an interactive login from a non TTY device")
	}
	fmt.Fprint(c.Out, label)
	line, err := bufio.NewReader(c.In).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func promptPassword(c *command.CLI) (string, error) {
	if !c.In.IsTerminal() {
		return "", errors.New("Error: Cannot perform an interactive login from a non TTY device")
	}
	fmt.Fprint(c.Out, "Password: ")
	b, err := term.ReadPassword(c.In.FD())
	fmt.Fprintln(c.Out)
	return string(b), err
}

// NewLogoutCommand is `berth logout`.
func NewLogoutCommand(c *command.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Long:  "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
		Args:  command.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			host := Host(server)
			cf, err := c.Config()
			if err != nil {
				return err
			}
			name := host
			if host == "docker.io" {
				name = config.HubServer
			}
			if !cf.Remove(host) {
				fmt.Fprintf(c.Out, "Not logged in to %s\n", name)
				return nil
			}
			fmt.Fprintf(c.Out, "Removing login credentials for %s\n", name)
			return cf.Save()
		},
	}
}
