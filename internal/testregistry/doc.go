// Package testregistry starts Debian's docker-registry (distribution 2.8) for
// tests: on a free loopback port, with its storage in the test's temporary
// directory, and with no authentication, htpasswd basic authentication, or
// bearer-token authentication backed by a small token server the test runs
// itself. It also holds a reverse proxy that lets a test break a registry's
// answers (cut a body short, corrupt it, fail with a status) to exercise a
// client's retries and checks.
//
// Lifecycle: Start writes the registry's config (and htpasswd file or token
// certificate), starts the process, waits until /v2/ answers, and registers a
// t.Cleanup that stops the process by its PID (SIGTERM, then SIGKILL) and
// prints the registry's log when the test failed. The process also dies with
// the test binary (Pdeathsig), so a crashed test leaves nothing running.
package testregistry
