// Package registry is berth's client of the OCI distribution API (Docker's
// registry v2 protocol): resolve a reference to a manifest or index, fetch
// manifests and small blobs verified by digest, stream large blobs with
// transparent Range resume, select a platform from an index, push images
// (skipping blobs the registry has, mounting them from another repository
// where possible, manifests last), and log in.
//
// Names follow Docker's normalisation through go-containerregistry's name
// package: "busybox" is index.docker.io/library/busybox:latest. Credentials
// come from an authn.Keychain; ConfigKeychain reads a docker-style
// config.json (auths, credHelpers, credsStore) from a path the caller gives,
// through internal/dockerconfig, which the berth CLI shares, running
// docker-credential-NAME helpers per the credential helper protocol.
// The authentication handshakes (ping, basic, bearer token with scopes and
// refresh) are go-containerregistry's transport; every request above it is
// issued here, so that reads can resume with Range requests and pushes can
// report progress per blob.
//
// Hosts: plain HTTP (and TLS without verification) is used only for hosts
// listed in Options.Insecure and for loopback (localhost, 127.0.0.0/8, ::1);
// every other request must be HTTPS. Mirrors of a registry are tried first,
// in order, for every read, and the registry itself last.
//
// A Client holds only caches (authenticated transports per host and scope);
// it is safe for concurrent use.
package registry
