package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/config"
	"github.com/berth-dev/berth/internal/dockerconfig"
)

// Host is the host name a login server is keyed by: its scheme and
// path dropped ("https://reg:5000/v2/" is "reg:5000"), Docker Hub's
// aliases all docker.io.
func Host(server string) string { return dockerconfig.Host(server) }

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
			res, err := api.RegistryLogin(cmd.Context(), client.RegistryLoginOptions{Username: user, Password: password, ServerAddress: addr})
			if err != nil {
				return err
			}
			if err := store(cmd.Context(), c, addr, user, password, res.Auth.IdentityToken); err != nil {
				return err
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

// unencryptedWarning is what the docker CLI prints when login keeps a
// password in config.json itself.
const unencryptedWarning = `
WARNING! Your credentials are stored unencrypted in '%s'.
Configure a credential helper to remove this warning. See
https://docs.docker.com/go/credential-store/

`

// store keeps the credentials login checked where the docker CLI keeps
// them: in the registry's credential helper (credHelpers, else
// credsStore) with a placeholder in auths, or in auths. An identity
// token the daemon answered takes the password's place.
func store(ctx context.Context, c *command.CLI, server, user, password, identityToken string) error {
	cf, err := c.Config()
	if err != nil {
		return err
	}
	creds := dockerconfig.Credentials{Username: user, Password: password}
	if identityToken != "" {
		creds = dockerconfig.Credentials{Username: user, IdentityToken: identityToken}
	}
	if err := cf.Store(ctx, server, creds); err != nil {
		return fmt.Errorf("error saving credentials: %w", err)
	}
	if err := cf.Save(); err != nil {
		return fmt.Errorf("error saving credentials: %w", err)
	}
	if cf.Helper(server) == "" && creds.Password != "" {
		fmt.Fprintf(c.Err, unencryptedWarning, cf.Path())
	}
	return nil
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
			name := config.Key(server)
			cf, err := c.Config()
			if err != nil {
				return err
			}
			found, err := cf.Erase(cmd.Context(), name)
			if err != nil {
				// As the docker CLI: say so, keep config.json, succeed.
				fmt.Fprintf(c.Out, "Removing login credentials for %s\n", name)
				fmt.Fprintf(c.Err, "WARNING: could not erase credentials:\n%v\n", err)
				return nil
			}
			if !found && cf.Helper(name) == "" {
				fmt.Fprintf(c.Out, "Not logged in to %s\n", name)
				return nil
			}
			fmt.Fprintf(c.Out, "Removing login credentials for %s\n", name)
			return cf.Save()
		},
	}
}
