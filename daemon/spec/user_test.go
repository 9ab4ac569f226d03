package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

func TestResolveUser(t *testing.T) {
	ids := busyboxIDs()
	passwd, group := parsePasswd([]byte(ids["etc/passwd"])), parseGroup([]byte(ids["etc/group"]))
	tests := []struct {
		spec     string
		groupAdd []string
		noFiles  bool
		want     []uint32 // uid, gid, additional gids...
		err      string
	}{
		{spec: "", want: []uint32{0, 0, 0, 10}},
		{spec: "root", want: []uint32{0, 0, 0, 10}},
		{spec: "0", want: []uint32{0, 0, 0, 10}},
		{spec: "tester", want: []uint32{1000, 1000, 1000, 10, 29, 999}},
		{spec: "1000", want: []uint32{1000, 1000, 1000, 10, 29, 999}},
		{spec: "tester:audio", want: []uint32{1000, 29, 29}},
		{spec: "tester:33", want: []uint32{1000, 33, 33}},
		{spec: "tester:4000", want: []uint32{1000, 4000, 4000}},
		{spec: "1234", want: []uint32{1234, 0, 0}},
		{spec: "1234:5678", want: []uint32{1234, 5678, 5678}},
		{spec: "www-data", groupAdd: []string{"audio", "7777", "wheel"}, want: []uint32{33, 33, 33, 29, 7777, 10}},
		{spec: "nobody:nogroup", want: []uint32{65534, 65534, 65534}},
		{spec: "1000:1000", noFiles: true, want: []uint32{1000, 1000, 1000}},
		{spec: "", noFiles: true, want: []uint32{0, 0, 0}},
		{spec: "x", err: "unable to find user x: no matching entries in passwd file"},
		{spec: "tester", noFiles: true, err: "unable to find user tester: no matching entries in passwd file"},
		{spec: "tester:nosuch", err: "unable to find group nosuch: no matching entries in group file"},
		{spec: "root", groupAdd: []string{"nosuch"}, err: "unable to find group nosuch: no matching entries in group file"},
		{spec: "-5", err: "uids and gids must be in range 0-2147483647"},
		{spec: "1:-5", err: "uids and gids must be in range 0-2147483647"},
		{spec: "4294967296", err: "uids and gids must be in range 0-2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			p, g := passwd, group
			if tt.noFiles {
				p, g = nil, nil
			}
			u, err := resolveUser(tt.spec, p, g)
			var extra []int
			if err == nil {
				extra, err = additionalGroups(tt.groupAdd, g)
			}
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got error %v, want %q", err, tt.err)
				}
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Errorf("got error class of %v, want invalid argument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []uint32{uint32(u.uid), uint32(u.gid), uint32(u.gid)}
			for _, s := range append(u.sgids, extra...) {
				if !slices.Contains(got[2:], uint32(s)) {
					got = append(got, uint32(s))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got uid, gid, groups %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePasswdSkipsMalformedLines(t *testing.T) {
	got := parsePasswd([]byte("#comment\n+nis::0:0::/:\nbad:x:notanumber:0::/:\nshort:x\n\n  ok:x:7:8:ok:/home/ok:/bin/sh  \nneg:x:-1:0::/:\n"))
	if len(got) != 1 || got[0] != (passwdEntry{name: "ok", uid: 7, gid: 8, home: "/home/ok"}) {
		t.Errorf("got %+v, want only ok (7:8)", got)
	}
}

// TestUserFromRootfs resolves the user through Generate, reading the
// rootfs's files.
func TestUserFromRootfs(t *testing.T) {
	root := writeRootfs(t, busyboxIDs())
	r, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{User: "tester", Cmd: []string{"id"}}}, WithHost(testHost()))
	if err != nil {
		t.Fatal(err)
	}
	u := r.Spec.Process.User
	if u.UID != 1000 || u.GID != 1000 || !slices.Equal(u.AdditionalGids, []uint32{1000, 10, 29, 999}) {
		t.Errorf("got user %+v, want 1000:1000 with groups [1000 10 29 999]", u)
	}
}

// TestHostileRootfs: the image controls /etc/passwd and /etc/group. A
// symlink must resolve inside the rootfs (never to the host's file), and
// a FIFO, a device or a huge file must not hang or flood the daemon.
func TestHostileRootfs(t *testing.T) {
	outside := t.TempDir()
	hostPasswd := filepath.Join(outside, "passwd")
	if err := os.WriteFile(hostPasswd, []byte("evil:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := map[string]func(t *testing.T, root string){
		"absolute symlink to a host file": func(t *testing.T, root string) {
			symlink(t, hostPasswd, filepath.Join(root, "etc/passwd"))
		},
		"relative symlink climbing out": func(t *testing.T, root string) {
			rel, _ := filepath.Rel(filepath.Join(root, "etc"), hostPasswd)
			symlink(t, rel, filepath.Join(root, "etc/passwd"))
		},
		"etc is a symlink to a host directory": func(t *testing.T, root string) {
			symlink(t, outside, filepath.Join(root, "etc"))
		},
		"symlink to the host's /etc/passwd": func(t *testing.T, root string) {
			symlink(t, "/etc/passwd", filepath.Join(root, "etc/passwd"))
		},
	}
	for name, f := range setup {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if name == "etc is a symlink to a host directory" {
				os.Remove(filepath.Join(root, "etc"))
			}
			f(t, root)
			_, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{User: "evil", Cmd: []string{"sh"}}}, WithHost(testHost()))
			if err == nil {
				t.Fatal("got user evil resolved from a file outside the rootfs, want an error")
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("got error %v, want an invalid-argument error", err)
			}
		})
	}

	t.Run("symlinks inside the rootfs are followed", func(t *testing.T) {
		root := writeRootfs(t, map[string]string{"usr/share/base/passwd": "app:x:500:501::/:/bin/sh\n"})
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		symlink(t, "/usr/share/base/passwd", filepath.Join(root, "etc/passwd"))
		r, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{User: "app", Cmd: []string{"sh"}}}, WithHost(testHost()))
		if err != nil {
			t.Fatal(err)
		}
		if u := r.Spec.Process.User; u.UID != 500 || u.GID != 501 {
			t.Errorf("got %d:%d, want 500:501", u.UID, u.GID)
		}
	})

	t.Run("symlink loop", func(t *testing.T) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		symlink(t, "/etc/passwd", filepath.Join(root, "etc/passwd"))
		_, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{Cmd: []string{"sh"}}}, WithHost(testHost()))
		if !errors.Is(err, syscall.ELOOP) || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("got %v, want ELOOP as an invalid argument", err)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		if err := syscall.Mkfifo(filepath.Join(root, "etc/passwd"), 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{Cmd: []string{"sh"}}}, WithHost(testHost()))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("got %v, want a not-a-regular-file error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading a FIFO as /etc/passwd blocked")
		}
	})

	t.Run("too large", func(t *testing.T) {
		root := writeRootfs(t, map[string]string{"etc/group": strings.Repeat("g:x:1:\n", maxIDFileSize/7+1)})
		_, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{Cmd: []string{"sh"}}}, WithHost(testHost()))
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("got %v, want a too-large error", err)
		}
	})

	t.Run("etc is a file", func(t *testing.T) {
		root := writeRootfs(t, map[string]string{"etc": "not a directory"})
		r, err := Generate(Input{ID: testID, Rootfs: root, Config: &container.Config{User: "7:8", Cmd: []string{"sh"}}}, WithHost(testHost()))
		if err != nil {
			t.Fatalf("got %v, want the files read as absent", err)
		}
		if u := r.Spec.Process.User; u.UID != 7 || u.GID != 8 {
			t.Errorf("got %d:%d, want 7:8", u.UID, u.GID)
		}
	})
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
