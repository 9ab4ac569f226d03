// Package exchange moves images in and out of berth as tar streams: the
// docker-archive format that `docker save` and `docker load` speak
// (manifest.json, repositories, and before Docker 25 one <id>/layer.tar
// per layer), the OCI image layout (oci-layout, index.json,
// blobs/<alg>/<hex>), and `docker import`'s rootfs tarball.
//
// Save writes one tar that is both an OCI image layout and a
// docker-archive, as Docker 25 and later do, so every loader accepts it:
// each blob is written once under blobs/sha256/, index.json names each
// image with the org.opencontainers.image.ref.name and
// io.containerd.image.name annotations, and manifest.json points at the
// same config and layer blobs. The output is a function of its input
// alone: entries come in a fixed order with fixed owners, modes and times.
//
// Load reads any of these archives as a stream. Every file that may be a
// blob goes to the Ingester as its bytes pass, with its digest when the
// name gives one (blobs/sha256/<hex>) so the store verifies it; only small
// JSON documents are kept in memory. When the tar ends, Load decides what
// it was: an OCI layout (index.json) names its manifests directly; a
// docker-archive without one gets a Docker schema2 manifest built from
// manifest.json and the image config, with layer digests computed while
// the layers were read and checked against the config's diff_ids.
//
// Import turns a rootfs tar into a one-layer image: the layer is stored
// gzip-compressed, its diff_id is the digest of the tar as given, and the
// config takes `docker import --change` instructions (see ParseChange).
//
// Archives are untrusted input: paths in manifest.json that leave the
// archive or name nothing, duplicate entries, oversized documents,
// malformed JSON and blobs whose content does not match their name all
// end the load with an error; nothing is written to disk by this package
// and no blob is handed on without the digest it must have, when that
// digest is known.
package exchange
