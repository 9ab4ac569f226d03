package shim

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestDecodeExit(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     ExitStatus
		bad      bool
	}{
		{"exited", `{"id":"c1","pid":42,"exit_code":3,"signal":0,"oom_killed":false,"exited_at":"2024-05-01T10:00:00.123456789Z"}`,
			ExitStatus{ID: "c1", Pid: 42, Code: 3, ExitedAt: at}, false},
		{"killed", `{"id":"c1","pid":42,"exit_code":137,"signal":9,"oom_killed":true,"exited_at":"2024-05-01T10:00:00.123456789Z"}`,
			ExitStatus{ID: "c1", Pid: 42, Code: 137, Signal: 9, OOMKilled: true, ExitedAt: at}, false},
		{"empty", ``, ExitStatus{}, true},
		{"truncated", `{"id":"c1","pid":42,"exit_co`, ExitStatus{}, true},
		{"no id", `{"pid":42,"exit_code":0,"signal":0,"exited_at":"2024-05-01T10:00:00Z"}`, ExitStatus{}, true},
		{"no time", `{"id":"c","pid":42,"exit_code":0}`, ExitStatus{}, true},
		{"code too big", `{"id":"c","exit_code":256,"exited_at":"2024-05-01T10:00:00Z"}`, ExitStatus{}, true},
		{"negative signal", `{"id":"c","exit_code":1,"signal":-1,"exited_at":"2024-05-01T10:00:00Z"}`, ExitStatus{}, true},
		{"wrong type", `{"id":7}`, ExitStatus{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeExit([]byte(tc.in))
			if tc.bad {
				if !errors.Is(err, errdefs.ErrDataLoss) {
					t.Fatalf("got %+v, %v, want a data-loss error", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeInfo(t *testing.T) {
	in, err := decodeInfo([]byte(`{"id":"c","pid":5,"start_time":77,"init_pid":6,"terminal":true,"stdin":false}`))
	want := info{ID: "c", Pid: 5, StartTime: 77, InitPid: 6, Terminal: true}
	if err != nil || in != want {
		t.Fatalf("got %+v, %v, want %+v", in, err, want)
	}
	for _, bad := range []string{``, `{}`, `{"id":"c","pid":0,"init_pid":6}`, `[`, `{"id":"c","pid":5}`} {
		if _, err := decodeInfo([]byte(bad)); !errors.Is(err, errdefs.ErrDataLoss) {
			t.Errorf("decodeInfo(%q): got %v, want a data-loss error", bad, err)
		}
	}
}

func TestDemux(t *testing.T) {
	frame := func(stream byte, s string) string {
		n := len(s)
		return string([]byte{stream, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + s
	}
	for _, tc := range []struct {
		name, in, out, err, wantErr string
	}{
		{"empty", "", "", "", ""},
		{"both", frame(1, "a\n") + frame(2, "b\n") + frame(1, "c"), "a\nc", "b\n", ""},
		{"empty frame", frame(1, ""), "", "", ""},
		{"short header", "\x01\x00\x00", "", "", "read stream header"},
		{"short payload", frame(1, "abc")[:10], "", "", "read 2 of 3 bytes"},
		{"bad stream", frame(3, "x"), "", "", "unknown stream 3"},
		{"stdin stream", frame(0, "x"), "", "", "unknown stream 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := Demux(strings.NewReader(tc.in), &out, &errs)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && (out.String() != tc.out || errs.String() != tc.err) {
				t.Fatalf("got stdout %q stderr %q, want %q and %q", out.String(), errs.String(), tc.out, tc.err)
			}
		})
	}
}

func FuzzDecodeExit(f *testing.F) {
	f.Add([]byte(`{"id":"c1","pid":42,"exit_code":137,"signal":9,"oom_killed":true,"exited_at":"2024-05-01T10:00:00.1Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeExit(data)
		if err == nil && (st.ID == "" || st.Code < 0 || st.Code > 255) {
			t.Fatalf("accepted %q as %+v", data, st)
		}
		decodeInfo(data)
	})
}

func FuzzDemux(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x02a\n\x02\x00\x00\x00\x00\x00\x00\x01b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errs bytes.Buffer
		if err := Demux(bytes.NewReader(data), &out, &errs); err == nil && out.Len()+errs.Len() > len(data) {
			t.Fatalf("demuxed %d bytes out of %d", out.Len()+errs.Len(), len(data))
		}
	})
}

func TestDecodeExecExit(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	got, err := decodeExecExit([]byte(`{"pid":9,"exit_code":137,"signal":9,"exited_at":"2024-05-01T10:00:00Z"}`))
	if want := (ExecExit{Pid: 9, Code: 137, Signal: 9, ExitedAt: at}); err != nil || got != want {
		t.Fatalf("got %+v, %v, want %+v", got, err, want)
	}
	for _, bad := range []string{``, `{}`, `[`, `{"pid":9,"exit_code":300,"exited_at":"2024-05-01T10:00:00Z"}`,
		`{"pid":0,"exit_code":1,"exited_at":"2024-05-01T10:00:00Z"}`, `{"pid":9,"exit_code":1}`} {
		if _, err := decodeExecExit([]byte(bad)); !errors.Is(err, errdefs.ErrDataLoss) {
			t.Errorf("decodeExecExit(%q): got %v, want a data-loss error", bad, err)
		}
	}
}

func TestExecRelay(t *testing.T) {
	for _, tc := range []struct {
		name, in, stdout, stderr string
		code                     int
		bad                      error
	}{
		{"output and exit", "\x01\x00\x00\x00\x00\x00\x00\x02a\n\x02\x00\x00\x00\x00\x00\x00\x01b\x03\x00\x00\x00\x00\x00\x00\x0242", "a\n", "b", 42, nil},
		{"no exit", "\x01\x00\x00\x00\x00\x00\x00\x01a", "a", "", 0, errdefs.ErrUnknown},
		{"cut frame", "\x01\x00\x00\x00\x00\x00\x00\x09a", "a", "", 0, errdefs.ErrUnknown},
		{"bad stream", "\x07\x00\x00\x00\x00\x00\x00\x00", "", "", 0, errdefs.ErrDataLoss},
		{"bad code", "\x03\x00\x00\x00\x00\x00\x00\x03999", "", "", 0, errdefs.ErrDataLoss},
		{"huge exit frame", "\x03\x00\x00\x00\x7f\x00\x00\x00", "", "", 0, errdefs.ErrDataLoss},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			x := &ExecConn{r: bufio.NewReader(strings.NewReader(tc.in))}
			code, err := x.Relay(&out, &errs)
			if out.String() != tc.stdout || errs.String() != tc.stderr || code != tc.code || (tc.bad == nil) != (err == nil) || (tc.bad != nil && !errors.Is(err, tc.bad)) {
				t.Errorf("got %d, %v, stdout %q, stderr %q; want %d, %v, %q, %q", code, err, out.String(), errs.String(), tc.code, tc.bad, tc.stdout, tc.stderr)
			}
		})
	}
}

func FuzzExecRelay(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x02a\n\x03\x00\x00\x00\x00\x00\x00\x010"))
	f.Add([]byte(`{"pid":9,"exit_code":137,"signal":9,"exited_at":"2024-05-01T10:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errs bytes.Buffer
		x := &ExecConn{r: bufio.NewReader(bytes.NewReader(data))}
		code, err := x.Relay(&out, &errs)
		if err == nil && (code < 0 || code > 255) {
			t.Fatalf("exit code %d from %q", code, data)
		}
		if out.Len()+errs.Len() > len(data) {
			t.Fatalf("relayed %d bytes out of %d", out.Len()+errs.Len(), len(data))
		}
		if x, err := decodeExecExit(data); err == nil && (x.Pid <= 0 || x.Code > 255) {
			t.Fatalf("accepted %q as %+v", data, x)
		}
	})
}
