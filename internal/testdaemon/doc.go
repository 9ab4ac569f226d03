// Package testdaemon runs a berthd for the integration tests: over a
// directory of its own (data and exec roots, socket, log), with the test
// arguments every harness gives it, until the test stops it by its PID.
// The harnesses (integration/engine, integration/cli, integration/network)
// add their own clients (docker CLI, berth CLI) and namespaces around it.
//
// Lifecycle: New names the paths; Start forks berthd (from a thread of the
// caller's choice, so it may start in another network namespace) and waits
// until its socket answers _ping; Stop sends SIGTERM and waits (SIGKILL
// after 30 s); Kill ends it as a crash would; Check, at the test's end,
// fails the test on a data race or panic in the log and prints the log of
// a failed test. Start may be called again after Stop or Kill: the log is
// appended to.
package testdaemon
