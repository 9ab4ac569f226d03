// Package config reads and writes the berth CLI's config.json, in the
// docker CLI's format, in the directory --config names (default
// ~/.berth). It keeps the registry credentials of `berth login` under
// "auths", as base64 "user:password", keyed by registry host (Docker
// Hub's key is https://index.docker.io/v1/ as docker writes it), and
// leaves every other key of the file as it found it.
//
// Credential helpers and stores (credsStore) are not supported: a file
// that names one is still read, and its inline auths are used.
package config
