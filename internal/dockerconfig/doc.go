// Package dockerconfig reads and writes the registry credentials of a
// docker-style config.json, the one file both the docker CLI and berth
// use: "auths" (base64 "user:password" per registry, or an identity
// token), "credsStore" (a credential helper for every registry) and
// "credHelpers" (a helper per registry). It depends only on the standard
// library and errdefs, so the berth CLI can use it without linking the
// daemon's registry client.
//
// Keys: a registry is named by its host ("reg.example:5000"); a key
// written with a scheme or path ("https://reg.example:5000/v1/") stands
// for its host. Docker Hub, under any of its names (docker.io,
// index.docker.io, registry-1.docker.io), is keyed "https://index.docker.io/v1/"
// (HubServer), in auths and towards helpers, as docker keys it.
//
// Lookup, for a host: the helper that credHelpers names for it, else
// credsStore; when that helper has nothing for the server, or no helper
// is configured, the auths entry. Store (login) goes through the same
// helper and leaves an empty placeholder {} in auths, as docker does, or
// writes the entry into auths when no helper is configured. Erase
// (logout) erases through the helper and drops the auths entries.
//
// Helpers follow the docker-credential-helpers protocol: the program
// docker-credential-NAME, found on PATH, is run with the action as its
// only argument and speaks JSON on stdin and stdout (see helper.go). A
// helper runs under a timeout and its output is bounded.
//
// File keeps every key of config.json it does not interpret, and every
// field of an auths entry, as it found them; Save replaces the file
// atomically with mode 0600.
package dockerconfig
