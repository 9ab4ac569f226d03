// Package progress renders the JSON message stream of pull, push, load
// and import (one jsonstream.Message per line) as the docker CLI shows
// it.
//
// On a terminal each layer keeps one line, rewritten in place as its
// status and progress bar change ("a3ed95caeb02: Downloading [==>   ]
// 1.2MB/3.4MB"); a message without a layer (the "Digest:" and "Status:"
// lines) ends that block and is printed below it. Elsewhere (a pipe, a
// file, a test) a layer's line is printed once per change of status and
// progress bars are left out, so logs stay short and readable.
package progress
