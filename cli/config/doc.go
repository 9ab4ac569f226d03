// Package config reads and writes the berth CLI's config.json, in the
// docker CLI's format, in the directory --config names (default
// ~/.berth). Registry credentials go where the docker CLI puts them,
// through internal/dockerconfig (which berthd's registry client shares):
// into the credential helper config.json names for the registry
// (credHelpers, else credsStore), leaving an empty placeholder under
// "auths", or else under "auths" as base64 "user:password", keyed by
// registry host (Docker Hub's key is https://index.docker.io/v1/). Every
// other key of the file is left as it was found.
package config
