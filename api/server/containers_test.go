package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/containers"
)

// fakeContainers answers the container routes for shape tests.
type fakeContainers struct {
	ContainerBackend // the methods a test does not use panic
	waitCh           chan containers.WaitResult
	lastList         containers.ListOptions
	lastStop         []any
}

func (f *fakeContainers) Wait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan containers.WaitResult, error) {
	if ref != "c1" {
		return nil, errorf(errdefs.ErrNotFound, "No such container: %s", ref)
	}
	return f.waitCh, nil
}

func (f *fakeContainers) List(ctx context.Context, o containers.ListOptions) ([]container.Summary, error) {
	f.lastList = o
	return []container.Summary{}, nil
}

func (f *fakeContainers) Inspect(ctx context.Context, ref string, size bool) (container.InspectResponse, error) {
	return container.InspectResponse{ID: "c1", NetworkSettings: &container.NetworkSettings{}}, nil
}

func (f *fakeContainers) Stop(ctx context.Context, ref, signal string, timeout *int) error {
	f.lastStop = []any{ref, signal, *timeout}
	return errorf(errdefs.ErrNotModified, "container already stopped")
}

func (f *fakeContainers) Attach(ctx context.Context, ref string, o containers.AttachOptions, open func(bool) (containers.AttachStreams, error)) error {
	s, err := open(false)
	if err != nil {
		return err
	}
	s.Out.Write([]byte{1, 0, 0, 0, 0, 0, 0, 3, 'h', 'i', '\n'})
	return nil
}

func containerServer(t *testing.T, f *fakeContainers) *httptest.Server {
	t.Helper()
	s := New(Options{Version: "test"})
	s.AddContainers(Containers{Backend: f})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// TestContainerWaitHeadersFirst: the wait answer's headers come before
// the result, so a client can start the container after they arrive.
func TestContainerWaitHeadersFirst(t *testing.T) {
	f := &fakeContainers{waitCh: make(chan containers.WaitResult, 1)}
	ts := containerServer(t, f)
	resp, err := http.Post(ts.URL+"/v1.50/containers/c1/wait?condition=next-exit", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("wait: got status %d", resp.StatusCode)
	}
	f.waitCh <- containers.WaitResult{StatusCode: 3}
	var got container.WaitResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.StatusCode != 3 || got.Error != nil {
		t.Errorf("wait body: got %+v, %v; want StatusCode 3", got, err)
	}
	resp, _ = http.Post(ts.URL+"/containers/nosuch/wait", "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "No such container: nosuch") {
		t.Errorf("wait for nothing: got %d %s", resp.StatusCode, body)
	}
}

// TestContainerQueries: the query parameters reach the backend decoded,
// a stopped container's stop answers 304, inspect has the fields older
// API versions expect.
func TestContainerQueries(t *testing.T) {
	f := &fakeContainers{}
	ts := containerServer(t, f)
	resp, err := http.Get(ts.URL + `/v1.50/containers/json?all=1&limit=3&size=true&filters={"status":{"exited":true}}`)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %v %v", resp, err)
	}
	if o := f.lastList; !o.All || o.Limit != 3 || !o.Size || len(o.Filters["status"]) != 1 {
		t.Errorf("list options: got %+v", o)
	}
	resp, _ = http.Post(ts.URL+"/v1.50/containers/c1/stop?t=5&signal=SIGINT", "", nil)
	if resp.StatusCode != http.StatusNotModified || f.lastStop[0] != "c1" || f.lastStop[1] != "SIGINT" || f.lastStop[2] != 5 {
		t.Errorf("stop: got %d, %v", resp.StatusCode, f.lastStop)
	}
	resp, _ = http.Post(ts.URL+"/v1.50/containers/c1/stop?t=soon", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stop with a bad t: got %d", resp.StatusCode)
	}
	resp, _ = http.Get(ts.URL + "/v1.50/containers/c1/json")
	var raw map[string]map[string]any
	json.NewDecoder(resp.Body).Decode(&raw)
	if _, ok := raw["NetworkSettings"]["IPAddress"]; !ok {
		t.Errorf("inspect for API 1.50: NetworkSettings lacks IPAddress: %v", raw["NetworkSettings"])
	}
}

// TestContainerAttachUpgrade: attach takes over the connection with
// dockerd's 101 answer and content type.
func TestContainerAttachUpgrade(t *testing.T) {
	ts := containerServer(t, &fakeContainers{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST /v1.50/containers/c1/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Content-Type") != multiplexedStream || resp.Header.Get("Upgrade") != "tcp" {
		t.Errorf("attach: got %d %v", resp.StatusCode, resp.Header)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "\x01\x00\x00\x00\x00\x00\x00\x03hi\n" {
		t.Errorf("attach stream: got %q", rest)
	}
}
