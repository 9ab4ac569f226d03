// Package cli is the berth command line: a client of berthd's Docker
// Engine API, with docker's commands, flags, output and exit statuses.
//
// Run builds the command tree over one command.CLI (streams, flags,
// API client), executes it and turns the outcome into an exit status:
// 0; the status of a command.StatusError (125 for bad flags and for
// run's own failures, a container's exit code); or 1 for any other
// error, printed on standard error ("Error response from daemon: ..."
// for the daemon's).
//
// The commands live in subpackages by resource: image, container,
// system, registry. Each verb exists both at the top level and in its
// group where docker has both (`berth pull` and `berth image pull`).
package cli
