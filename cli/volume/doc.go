// Package volume holds `berth volume` and its verbs: create, ls, inspect,
// rm and prune as the docker CLI has them, and berth's export and import,
// which move a volume as a tar archive checked by a SHA-256 manifest
// (berthd's GET /volumes/{name}/export and PUT /volumes/{name}/import).
package volume
