package containers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/image"
)

var (
	imgA = digest.Digest("sha256:" + strings.Repeat("a", 64))
	imgB = digest.Digest("sha256:" + strings.Repeat("b", 64))
)

// TestLookup: full ID, name with or without "/", unique prefix, in
// dockerd's order, and its errors.
func TestLookup(t *testing.T) {
	s, _ := testService(t, nil)
	now := time.Now()
	a := addRecord(t, s, "abc1", "web", state{Status: container.StateCreated}, now, imgA, nil)
	b := addRecord(t, s, "abc2", "db", state{Status: container.StateCreated}, now, imgA, nil)
	// A name that looks like the other's ID prefix: the name wins.
	c := addRecord(t, s, "fff", "abc2", state{Status: container.StateCreated}, now, imgA, nil)
	cases := []struct {
		ref  string
		want *ctr
		err  error
	}{
		{a.id, a, nil}, {"web", a, nil}, {"/web", a, nil}, {"abc1", a, nil}, {"db", b, nil},
		{"abc2", c, nil}, {"abc", nil, errdefs.ErrInvalidArgument}, {"nosuch", nil, errdefs.ErrNotFound},
		{"", nil, errdefs.ErrNotFound}, {"f", c, nil}, {"0", nil, errdefs.ErrNotFound},
	}
	for _, tc := range cases {
		got, err := s.get(tc.ref)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("get(%q): got %v, want %v", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("get(%q): got %v, %v; want %s", tc.ref, got, err, tc.want.id)
		}
	}
	if _, err := s.get("nosuch"); err == nil || err.Error() != "No such container: nosuch" {
		t.Errorf("get(nosuch): got %v, want dockerd's message", err)
	}
}

// TestList: running only by default, all, filters, limit, newest first.
func TestList(t *testing.T) {
	s, _ := testService(t, fakeImages{"busybox": {Image: image.Image{ID: imgA}}})
	base := time.Now().Add(-time.Hour)
	addRecord(t, s, "01", "one", state{Status: container.StateExited, ExitCode: 3, FinishedAt: base}, base, imgA, map[string]string{"tier": "db"})
	addRecord(t, s, "02", "two", state{Status: container.StateRunning, StartedAt: base}, base.Add(time.Minute), imgB, map[string]string{"tier": "web"})
	addRecord(t, s, "03", "three", state{Status: container.StatePaused, StartedAt: base}, base.Add(2*time.Minute), imgA, nil)
	addRecord(t, s, "04", "four", state{Status: container.StateCreated}, base.Add(3*time.Minute), imgA, nil)
	cases := []struct {
		o    ListOptions
		want string
	}{
		{ListOptions{}, "three two"},
		{ListOptions{All: true}, "four three two one"},
		{ListOptions{Limit: 2}, "four three"},
		{ListOptions{Filters: map[string][]string{"status": {"exited"}}}, "one"},
		{ListOptions{Filters: map[string][]string{"status": {"created", "paused"}}}, "four three"},
		{ListOptions{All: true, Filters: map[string][]string{"label": {"tier"}}}, "two one"},
		{ListOptions{All: true, Filters: map[string][]string{"label": {"tier=db"}}}, "one"},
		{ListOptions{All: true, Filters: map[string][]string{"ancestor": {"busybox"}}}, "four three one"},
		{ListOptions{Filters: map[string][]string{"exited": {"3"}}}, "one"},
		{ListOptions{All: true, Filters: map[string][]string{"name": {"^/t"}}}, "three two"},
		{ListOptions{All: true, Filters: map[string][]string{"id": {"02"}}}, "two"},
		{ListOptions{All: true, Filters: map[string][]string{"before": {"three"}}}, "two one"},
		{ListOptions{All: true, Filters: map[string][]string{"since": {"two"}}}, "four three"},
		{ListOptions{All: true, Filters: map[string][]string{"publish": {"80"}}}, ""},
	}
	for _, tc := range cases {
		got, err := s.List(context.Background(), tc.o)
		if err != nil {
			t.Errorf("List(%+v): %v", tc.o, err)
			continue
		}
		var names []string
		for _, c := range got {
			names = append(names, strings.TrimPrefix(c.Names[0], "/"))
		}
		if strings.Join(names, " ") != tc.want {
			t.Errorf("List(%+v): got %q, want %q", tc.o, names, tc.want)
		}
	}
	for _, f := range []map[string][]string{{"colour": {"x"}}, {"status": {"sleeping"}}, {"exited": {"x"}}, {"before": {"nosuch"}}} {
		if _, err := s.List(context.Background(), ListOptions{Filters: f}); err == nil {
			t.Errorf("List with filter %v: no error", f)
		}
	}
	sum, _ := s.List(context.Background(), ListOptions{Filters: map[string][]string{"name": {"one"}}, All: true})
	if len(sum) != 1 || sum[0].Status == "" || !strings.HasPrefix(sum[0].Status, "Exited (3) ") || sum[0].Command != "sleep 1" ||
		sum[0].ImageID != imgA.String() || sum[0].HostConfig.NetworkMode != "bridge" || sum[0].Ports == nil {
		t.Errorf("summary: got %+v", sum)
	}
}

// TestRenameAndCounts: rename conflicts, the event, and the state counts.
func TestRenameAndCounts(t *testing.T) {
	s, ev := testService(t, nil)
	now := time.Now()
	addRecord(t, s, "01", "one", state{Status: container.StateRunning}, now, imgA, nil)
	addRecord(t, s, "02", "two", state{Status: container.StatePaused}, now, imgA, nil)
	addRecord(t, s, "03", "three", state{Status: container.StateExited}, now, imgA, nil)
	ctx := context.Background()
	if err := s.Rename(ctx, "one", "two"); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), `The container name "/two" is already in use`) {
		t.Errorf("rename to a name in use: got %v", err)
	}
	if err := s.Rename(ctx, "one", "one"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("rename to the same name: got %v", err)
	}
	if err := s.Rename(ctx, "one", "bad name"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("rename to an invalid name: got %v", err)
	}
	if err := s.Rename(ctx, "one", "/uno"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if _, err := s.get("one"); !errdefs.IsNotFound(err) {
		t.Errorf("old name after rename: got %v, want not found", err)
	}
	if c, err := s.get("uno"); err != nil || c.rec.Name != "uno" {
		t.Errorf("new name after rename: got %v", err)
	}
	if got := ev.actions(); len(got) != 1 || got[0] != "rename uno" {
		t.Errorf("events: got %q, want [rename uno]", got)
	}
	// The rename is recorded.
	recs, _, _ := loadRecords(s.o.DB)
	names := map[string]bool{}
	for _, r := range recs {
		names[r.Name] = true
	}
	if !names["uno"] || names["one"] {
		t.Errorf("records after rename: got %v", names)
	}
	total, running, paused, stopped, _ := s.ContainerCounts(ctx)
	if total != 3 || running != 1 || paused != 1 || stopped != 1 {
		t.Errorf("counts: got %d %d %d %d, want 3 1 1 1", total, running, paused, stopped)
	}
	users, _ := s.ContainersUsing(ctx, imgA)
	if len(users) != 3 {
		t.Errorf("ContainersUsing: got %v", users)
	}
}

// TestWaitImmediate: not-running answers at once for a container that
// does not run; a bad condition is refused.
func TestWaitImmediate(t *testing.T) {
	s, _ := testService(t, nil)
	addRecord(t, s, "01", "done", state{Status: container.StateExited, ExitCode: 42}, time.Now(), imgA, nil)
	ch, err := s.Wait(context.Background(), "done", "")
	if err != nil {
		t.Fatal(err)
	}
	if r := <-ch; r.StatusCode != 42 {
		t.Errorf("wait: got %d, want 42", r.StatusCode)
	}
	if _, err := s.Wait(context.Background(), "done", "sometime"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("wait with a bad condition: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err = s.Wait(ctx, "done", container.WaitConditionNextExit)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Errorf("wait next-exit after cancel: got a result, want the channel closed")
	}
}

// TestStateErrorsWithoutShim: the verbs that need a running container
// answer as dockerd does when it is not.
func TestStateErrorsWithoutShim(t *testing.T) {
	s, _ := testService(t, nil)
	addRecord(t, s, "01", "stopped", state{Status: container.StateExited}, time.Now(), imgA, nil)
	ctx := context.Background()
	checks := []struct {
		name string
		err  error
		want func(error) bool
	}{
		{"stop", s.Stop(ctx, "stopped", "", nil), errdefs.IsNotModified},
		{"kill", s.Kill(ctx, "stopped", ""), errdefs.IsConflict},
		{"pause", s.Pause(ctx, "stopped"), errdefs.IsConflict},
		{"unpause", s.Unpause(ctx, "stopped"), errdefs.IsConflict},
		{"resize", s.Resize(ctx, "stopped", 10, 10), errdefs.IsConflict},
		{"kill bad signal", s.Kill(ctx, "stopped", "SIGNOPE"), errdefs.IsInvalidArgument},
		{"logs no stream", func() error { _, err := s.Logs(ctx, "stopped", LogsOptions{}); return err }(), errdefs.IsInvalidArgument},
	}
	for _, c := range checks {
		if !c.want(c.err) {
			t.Errorf("%s: got %v", c.name, c.err)
		}
	}
}

// TestCreateRefusals: what Create refuses before any work, with dockerd's
// messages, and that a refused create reserves nothing.
func TestCreateRefusals(t *testing.T) {
	s, _ := testService(t, fakeImages{})
	addRecord(t, s, "01", "taken", state{Status: container.StateCreated}, time.Now(), imgA, nil)
	ctx := context.Background()
	cfg := &container.Config{Image: "busybox"}
	cases := []struct {
		name string
		req  container.CreateRequest
		want string
	}{
		{"x", container.CreateRequest{}, "config cannot be empty"},
		{"x", container.CreateRequest{Config: &container.Config{}}, "no image specified"},
		{"x", container.CreateRequest{Config: cfg}, "No such image: busybox"},
		{"x", container.CreateRequest{Config: cfg, HostConfig: &container.HostConfig{AutoRemove: true, RestartPolicy: container.RestartPolicy{Name: "always"}}}, "can't create 'AutoRemove' container with restart policy"},
		{"x", container.CreateRequest{Config: cfg, HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "sometimes"}}}, "invalid restart policy"},
		{"x", container.CreateRequest{Config: cfg, HostConfig: &container.HostConfig{NetworkMode: "mynet"}}, "network mynet not found"},
		{"x", container.CreateRequest{Config: cfg, HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Type: "syslog"}}}, "logging driver \"syslog\" is not supported"},
		{"x", container.CreateRequest{Config: cfg, HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Config: map[string]string{"max-size": "lots"}}}}, "invalid size: 'lots'"},
	}
	for _, tc := range cases {
		_, err := s.Create(ctx, tc.name, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%+v): got %v, want %q", tc.req, err, tc.want)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.names) != 1 || len(s.shorts) != 1 {
		t.Errorf("after refused creates: names %v, short IDs %v; want only the first container's", s.names, s.shorts)
	}
}
