// Package overlay is the snapshotter on overlayfs: one directory per layer,
// stacked at mount time. It is berth's default.
//
// Mounts, for a snapshot whose parents are P1 (nearest) … Pn:
//
//	active, no parent     bind (rw) of its fs dir
//	active, parents       overlay lowerdir=P1/fs:…:Pn/fs, upperdir=fs, workdir=work
//	view, no parent       bind (ro) of its own, empty, fs dir
//	view, one parent      bind (ro) of P1/fs
//	view, parents         overlay lowerdir=P1/fs:…:Pn/fs (read-only: no upper)
//
// Layers are filled with overlay whiteouts, and an active snapshot
// prepared with no parent can be committed onto any committed parent
// (Features: OverlayWhiteouts and Rebase), because an upper dir does not
// depend on what lies below it. internal/mount applies the overlay with one
// fsconfig call per layer, so deep images are not bound by mount(2)'s page
// of option data.
//
// index=off is added only when the overlay module's default is index=on
// (/sys/module/overlay/parameters/index): with the index on, a lower layer
// shared by many overlays, and an upper mounted again on other lowers, are
// refused.
package overlay
