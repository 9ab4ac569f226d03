module github.com/berth-dev/berth

go 1.26.8

require (
	github.com/containerd/errdefs v1.0.0
	github.com/moby/sys/capability v0.5.0
	github.com/opencontainers/runtime-spec v1.3.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)
