package command

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/runtime/spec"
)

func runSpec(a *app, args []string) error {
	fs := flag.NewFlagSet("spec", flag.ContinueOnError)
	bundle := fs.String("bundle", "", "directory to write config.json in")
	fs.StringVar(bundle, "b", "", "directory to write config.json in")
	rootless := fs.Bool("rootless", false, "a configuration for an unprivileged user")
	if _, err := parse(fs, args, false); err != nil {
		return err
	}
	s := spec.Default()
	if *rootless {
		spec.Rootless(s)
	}
	path := filepath.Join(*bundle, spec.ConfigName)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("spec: %s already exists; remove it first", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spec: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o666)
}
