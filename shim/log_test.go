package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogStreams(t *testing.T) {
	e := newEnv(t, "sh", "-c", `echo out1; echo err1 >&2; echo "quote\" <tab>	é"; printf partial`)
	before := time.Now()
	st := e.run()
	after := time.Now()
	if st.Code != 0 {
		t.Fatalf("exit code: got %d, want 0", st.Code)
	}
	var got []string
	for _, r := range readLog(t, e.opts.LogPath) {
		got = append(got, r.Stream+":"+r.Log)
		if r.Time.Before(before) || r.Time.After(after) {
			t.Errorf("record %q: time %v not within the run (%v … %v)", r.Log, r.Time, before, after)
		}
	}
	// Order holds within a stream; between two pipes it is not defined.
	var out, errs []string
	for _, g := range got {
		if strings.HasPrefix(g, "stdout:") {
			out = append(out, g)
		} else {
			errs = append(errs, g)
		}
	}
	wantOut := []string{"stdout:out1\n", "stdout:quote\" <tab>\té\n", "stdout:partial"}
	if strings.Join(out, "|") != strings.Join(wantOut, "|") {
		t.Errorf("stdout records: got %q, want %q", out, wantOut)
	}
	if len(errs) != 1 || errs[0] != "stderr:err1\n" {
		t.Errorf("stderr records: got %q, want [\"stderr:err1\\n\"]", errs)
	}
}

// A line longer than 16 KiB becomes 16 KiB records without "\n" and the
// rest with it, as Docker writes partial messages.
func TestLogLongLine(t *testing.T) {
	e := newEnv(t, "sh", "-c", `head -c 40000 /dev/zero | tr '\0' a; echo`)
	e.run()
	recs := readLog(t, e.opts.LogPath)
	var lens []int
	for _, r := range recs {
		lens = append(lens, len(r.Log))
		if strings.Trim(r.Log, "a\n") != "" {
			t.Fatalf("record holds %q, want only a's", r.Log[:20])
		}
	}
	want := []int{16384, 16384, 40000 - 2*16384 + 1}
	if fmt.Sprint(lens) != fmt.Sprint(want) {
		t.Fatalf("record lengths: got %v, want %v", lens, want)
	}
	if strings.HasSuffix(recs[0].Log, "\n") || !strings.HasSuffix(recs[2].Log, "\n") {
		t.Errorf("partial records end in newline or the last does not")
	}
}

func TestLogRotation(t *testing.T) {
	const maxSize = 2000
	e := newEnv(t, "seq", "1", "3000")
	e.opts.LogMaxSize, e.opts.LogMaxFiles = maxSize, 3
	e.run()
	if _, err := os.Stat(e.opts.LogPath + ".3"); err == nil {
		t.Errorf("%s.3 exists, want at most 3 files", e.opts.LogPath)
	}
	var lines []string
	for _, p := range []string{e.opts.LogPath + ".2", e.opts.LogPath + ".1", e.opts.LogPath} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// A file rotates once it has reached the size: it ends at most one
		// record past it.
		if fi.Size() > maxSize+100 {
			t.Errorf("%s: size %d, want at most %d", p, fi.Size(), maxSize+100)
		}
		for _, r := range readLog(t, p) {
			lines = append(lines, strings.TrimSuffix(r.Log, "\n"))
		}
	}
	if len(lines) == 0 || lines[len(lines)-1] != "3000" {
		t.Fatalf("last line: got %q, want 3000", lines[len(lines)-1:])
	}
	first, _ := strconv.Atoi(lines[0])
	for i, l := range lines {
		if l != strconv.Itoa(first+i) {
			t.Fatalf("line %d of the rotated files: got %q, want %d (files not contiguous)", i, l, first+i)
		}
	}
}

// A restarted container appends to its log.
func TestLogAppends(t *testing.T) {
	e := newEnv(t, "echo", "one")
	e.run()
	e.bundle.Spec.Process.Args = []string{"echo", "two"}
	e.run()
	recs := readLog(t, e.opts.LogPath)
	if len(recs) != 2 || recs[0].Log != "one\n" || recs[1].Log != "two\n" {
		t.Fatalf("records: got %+v, want one then two", recs)
	}
}

// The log encodes every byte as Go's encoding/json would (Docker's json-file
// driver is Go): control characters, HTML characters, U+2028, invalid UTF-8.
func TestLogEncoding(t *testing.T) {
	payload := "\x01\x08\x0c\x1b[31m<a&b>\"\\\u2028\u2029\xff\xc0\x80\xe2\x80x\xed\xa0\x80 é 😀\x7f\t\r\n"
	e := newEnv(t, "cat", "/payload")
	if err := os.WriteFile(e.bundle.Rootfs+"/payload", []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	e.run()
	data, err := os.ReadFile(e.opts.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(payload)
	got, _, ok := strings.Cut(strings.TrimPrefix(string(data), `{"log":`), `,"stream":`)
	if !ok || got != string(want) {
		t.Fatalf("encoded log: got %s, want %s", got, want)
	}
}
