// Package server serves the Docker Engine API over net/http, so that the
// docker CLI, Docker SDKs and berth's own CLI can drive berthd.
//
// # Requests
//
// Every request passes through the version middleware (version.go): a
// "/v1.NN" prefix is stripped and the version put in the request's
// context; a version below MinAPIVersion or above MaxAPIVersion is
// refused with 400 and dockerd's wording. Routes are net/http ServeMux
// patterns without the prefix. Handlers return errors; errors.go maps
// their errdefs class to a status code (the one place that does) and
// writes {"message": "..."}.
//
// # Routers
//
// Each resource has a router file declaring the backend interface it
// needs (system.go, images.go, containers.go, volumes.go), so the routers
// depend on small interfaces and cmd/berthd wires the real services into
// them. berth's extensions beside the Docker API: GET
// /volumes/{name}/export and PUT /volumes/{name}/import (a volume as a tar
// archive with a SHA-256 manifest, see volume).
// Paths whose router is not written yet (networks, build) answer 501
// "not implemented yet"; a
// router registered later with more specific patterns takes over from
// that fallback.
//
// # Streams
//
// Pull, push, load and import answer with a stream of JSON progress
// messages (stream.go) in the shape the docker CLI renders. Headers are
// sent with the first message, so a request that fails before any
// progress (an unknown image, a bad reference) still gets a proper status
// code; a failure after that is the last message of the stream, as
// {"errorDetail": {"message": ...}, "error": ...}.
//
// # Registry credentials
//
// Pull and push use the credentials of the X-Registry-Auth header of the
// request (auth.go) and nothing else: the keychain berthd gives its
// registry client reads them from the request's context.
package server
