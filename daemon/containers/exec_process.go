package containers

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// specProcess keeps the process of a container's config.json between
// execs: decoding the whole spec for each exec costs about a third of a
// millisecond on the exec's start path. The file is written by rename,
// so its inode, size and modification time tell whether it changed.
type specProcess struct {
	mu   sync.Mutex
	key  fileKey
	proc *specs.Process
}

type fileKey struct{ ino, size, sec, nsec int64 }

// get returns the process of the config.json at path. The caller must not
// change what it points to: it copies the struct and replaces fields.
func (c *specProcess) get(path string) (*specs.Process, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("stat %s: no inode", path)
	}
	key := fileKey{ino: int64(st.Ino), size: fi.Size(), sec: st.Mtim.Sec, nsec: st.Mtim.Nsec}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil && c.key == key {
		return c.proc, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	var sp struct {
		Process *specs.Process `json:"process"`
	}
	if err := json.Unmarshal(data, &sp); err != nil || sp.Process == nil {
		return nil, fmt.Errorf("decode config.json: %v: %w", err, errdefs.ErrDataLoss)
	}
	c.key, c.proc = key, sp.Process
	return sp.Process, nil
}
