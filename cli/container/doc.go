// Package container holds the berth CLI's container commands: run,
// create, start, stop, kill, restart, pause, unpause, wait, rm, ps,
// logs, exec, attach, inspect, top, stats, cp, commit, diff, export,
// rename, update, port and prune, with docker's flags, output and exit
// statuses (125 when run itself fails, 126 and 127 when the command
// cannot be run, else the container's own status).
//
// opts.go turns run and create's flags into the API's Config and
// HostConfig; parse.go holds the parsers of single flag values (ports,
// env files, ulimits, mounts...), which have unit and fuzz tests.
package container
