package stream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDemux(t *testing.T) {
	var in bytes.Buffer
	Mux(&in, Stdout, []byte("out1\n"))
	Mux(&in, Stderr, []byte("err1\n"))
	Mux(&in, Stdout, bytes.Repeat([]byte("x"), 100_000))
	Mux(&in, Stdin, []byte("in\n"))
	Mux(&in, Stdout, nil)
	var out, errb bytes.Buffer
	n, err := Demux(&out, &errb, iotest.OneByteReader(bytes.NewReader(in.Bytes())))
	if err != nil || n != 5+5+100_000+3 {
		t.Fatalf("Demux: got %d, %v", n, err)
	}
	if want := "out1\n" + strings.Repeat("x", 100_000) + "in\n"; out.String() != want {
		t.Errorf("stdout: got %d bytes, want %d", out.Len(), len(want))
	}
	if errb.String() != "err1\n" {
		t.Errorf("stderr: got %q, want err1", errb.String())
	}
}

func TestDemuxBad(t *testing.T) {
	var sys bytes.Buffer
	Mux(&sys, Stdout, []byte("before"))
	Mux(&sys, System, []byte("container gone"))
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte{1, 0, 0}, "truncated frame header"},
		{[]byte{1, 0, 0, 0, 0, 0, 0, 9, 'a'}, "truncated frame"},
		{[]byte{7, 0, 0, 0, 0, 0, 0, 1, 'a'}, "unknown stream 7"},
		{[]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "too large"},
		{sys.Bytes(), "container gone"},
		{[]byte{3, 0, 0, 0, 0, 0, 0, 5, 'x'}, "truncated error frame"},
	} {
		_, err := Demux(io.Discard, io.Discard, bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Demux(%v): got %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzDemux(f *testing.F) {
	var b bytes.Buffer
	Mux(&b, Stdout, []byte("hello"))
	Mux(&b, Stderr, []byte("world"))
	f.Add(b.Bytes())
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'})
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, errb bytes.Buffer
		n, _ := Demux(&out, &errb, bytes.NewReader(in))
		if n != int64(out.Len()+errb.Len()) || n > int64(len(in)) {
			t.Fatalf("Demux counted %d bytes, wrote %d+%d of %d", n, out.Len(), errb.Len(), len(in))
		}
	})
}

func TestParseKeys(t *testing.T) {
	for in, want := range map[string][]byte{
		"ctrl-p,ctrl-q": {16, 17}, "ctrl-a": {1}, "a,b": {'a', 'b'}, "ctrl-@,ctrl-[,ctrl-_": {0, 27, 31}, "CTRL-Z": {26},
	} {
		got, err := ParseKeys(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseKeys(%q): got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ctrl-", "ctrl-1", "ab", "ctrl-p,", "alt-x"} {
		if got, err := ParseKeys(in); err == nil || !strings.Contains(err.Error(), "Invalid detach keys") {
			t.Errorf("ParseKeys(%q): got %v, %v, want an error", in, got, err)
		}
	}
}

func TestEscapeReader(t *testing.T) {
	keys := []byte{16, 17}
	for _, tc := range []struct {
		in, want string
		detached bool
	}{
		{"hello", "hello", false},
		{"ab\x10\x11cd", "ab", true},
		{"a\x10b\x10\x11", "a\x10b", true},
		{"\x10\x10\x11", "\x10", true},
		{"x\x10", "x", false}, // a prefix at EOF is dropped with the session
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			var out bytes.Buffer
			_, err := io.Copy(&out, EscapeReader(r, keys))
			if out.String() != tc.want || errors.Is(err, ErrDetached) != tc.detached {
				t.Errorf("EscapeReader(%q, one byte %v): got %q, %v, want %q, detached %v", tc.in, oneByte, out.String(), err, tc.want, tc.detached)
			}
		}
	}
	// Small reads still get everything when a held prefix is released.
	r := EscapeReader(strings.NewReader("\x10abc"), keys)
	var got []byte
	p := make([]byte, 1)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != "\x10abc" {
		t.Errorf("EscapeReader with 1-byte reads: got %q", got)
	}
}
