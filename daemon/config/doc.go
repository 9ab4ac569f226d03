// Package config is berthd's configuration: the daemon.json file with
// dockerd's key names, and the command-line flags with dockerd's flag
// names, merged so that a flag given on the command line overrides the
// file.
//
// Lifecycle: Default gives the built-in values; Load reads a daemon.json
// over them (unknown keys are refused, as dockerd refuses them, so a typo
// never passes silently); Flags registers the command-line flags on a
// pflag.FlagSet bound to a Config of their own, and Merge copies the flags
// the user actually set over the file's values; Validate checks the result.
// Nothing here starts anything: cmd/berthd wires the services from the
// merged Config.
package config
