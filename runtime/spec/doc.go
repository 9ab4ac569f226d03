// Package spec loads, validates and generates OCI runtime configurations
// (config.json, runtime-spec v1.x) for berth-runtime.
//
// Load accepts every 1.x ociVersion that generators write (1.0.2-dev, 1.1.0,
// 1.2.0, 1.3.0, …) and refuses 2.x and anything unparsable with an error that
// names the version. Validate checks what the runtime relies on before it
// creates anything, so bad input fails early and leaves nothing behind.
package spec
