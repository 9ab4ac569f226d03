// Command berthd is berth's daemon: it keeps images (and containers) and
// serves the Docker Engine API on a unix socket. Flags and daemon.json
// use dockerd's names; flags override the file. The wiring of every
// service is in run.go.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/daemon/config"
)

// Set at link time (Makefile).
var (
	version = "dev"
	commit  = ""
)

func main() {
	cmd := &cobra.Command{
		Use:           "berthd [OPTIONS]",
		Short:         "berth's container engine daemon, serving the Docker Engine API",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags := config.NewFlags(cmd.Flags())
	showVersion := cmd.Flags().BoolP("version", "v", false, "print the version and exit")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			fmt.Printf("berthd version %s, build %s\n", version, commit)
			return nil
		}
		cfg := config.Default()
		if err := config.Load(cfg, flags.ConfigFile, !flags.ConfigFileGiven()); err != nil {
			return err
		}
		if err := flags.Apply(cfg); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		return run(cfg, newLogger(cfg))
	}
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		os.Exit(1)
	}
}

// newLogger logs text to stderr at the configured level.
func newLogger(cfg *config.Config) *slog.Logger {
	level := slog.LevelInfo
	switch cfg.LogLevel {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error", "fatal":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
