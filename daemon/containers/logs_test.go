package containers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var logEpoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// logLine is one json-file record, at second n after logEpoch.
func logLine(stream, text string, n int) string {
	return fmt.Sprintf(`{"log":%q,"stream":%q,"time":%q}`+"\n", text, stream, logEpoch.Add(time.Duration(n)*time.Second).Format(time.RFC3339Nano))
}

// rotatedLog writes a log rotated twice: path.2 (oldest), path.1, path.
func rotatedLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c-json.log")
	files := map[string]string{
		path + ".2": logLine("stdout", "a\n", 0) + logLine("stderr", "b\n", 1),
		path + ".1": logLine("stdout", "c\n", 2) + "not json\n" + logLine("stderr", "d\n", 3),
		path:        logLine("stdout", "e\n", 4) + logLine("stdout", "partial", 5) + logLine("stdout", " end\n", 5) + `{"log":"torn`,
		path + ".x": logLine("stdout", "ignored\n", 9),
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestLogReader(t *testing.T) {
	path := rotatedLog(t)
	read := func(o LogsOptions) string {
		l := &LogReader{c: &ctr{id: "c"}, o: o, path: path}
		var b strings.Builder
		err := l.Each(context.Background(), func(e LogEntry) error {
			fmt.Fprintf(&b, "%s:%s|", e.Stream[3:], e.Line)
			return nil
		})
		if err != nil {
			t.Fatalf("Each(%+v): %v", o, err)
		}
		return strings.ReplaceAll(b.String(), "\n", "")
	}
	at := func(n int) time.Time { return logEpoch.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		o    LogsOptions
		want string
	}{
		{LogsOptions{Stdout: true, Stderr: true, Tail: -1}, "out:a|err:b|out:c|err:d|out:e|out:partial|out: end|"},
		{LogsOptions{Stdout: true, Tail: -1}, "out:a|out:c|out:e|out:partial|out: end|"},
		{LogsOptions{Stderr: true, Tail: -1}, "err:b|err:d|"},
		{LogsOptions{Stdout: true, Stderr: true, Tail: 2}, "out:partial|out: end|"},
		{LogsOptions{Stdout: true, Stderr: true, Tail: 0}, ""},
		{LogsOptions{Stdout: true, Stderr: true, Tail: -1, Since: at(3)}, "err:d|out:e|out:partial|out: end|"},
		{LogsOptions{Stdout: true, Stderr: true, Tail: -1, Until: at(1)}, "out:a|err:b|"},
		{LogsOptions{Stdout: true, Stderr: true, Tail: 1, Since: at(1), Until: at(3)}, "err:d|"},
	}
	for _, c := range cases {
		if got := read(c.o); got != c.want {
			t.Errorf("logs %+v: got %q, want %q", c.o, got, c.want)
		}
	}
	if got := rotatedFiles(path); len(got) != 2 || got[0] != path+".2" || got[1] != path+".1" {
		t.Errorf("rotatedFiles: got %q", got)
	}
	// A missing log reads as empty.
	l := &LogReader{c: &ctr{id: "c"}, o: LogsOptions{Stdout: true, Tail: -1}, path: filepath.Join(t.TempDir(), "none.log")}
	if err := l.Each(context.Background(), func(LogEntry) error { t.Error("a record from nowhere"); return nil }); err != nil {
		t.Errorf("missing log: %v", err)
	}
}

// TestLogFollow: a follow reads what is appended, across a rotation, and
// ends with the run.
func TestLogFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	if err := os.WriteFile(path, []byte(logLine("stdout", "first\n", 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRun()
	l := &LogReader{c: &ctr{id: "c"}, o: LogsOptions{Stdout: true, Tail: -1, Follow: true}, path: path, run: r}
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- l.Each(context.Background(), func(e LogEntry) error { got <- string(e.Line); return nil })
	}()
	next := func(want string) {
		t.Helper()
		select {
		case line := <-got:
			if line != want {
				t.Errorf("follow: got %q, want %q", line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("follow: no %q", want)
		}
	}
	next("first\n")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(logLine("stdout", "second\n", 1)[:10])
	time.Sleep(3 * followPoll / 2)
	f.WriteString(logLine("stdout", "second\n", 1)[10:])
	f.Close()
	next("second\n")
	// Rotation: the file is renamed and a new one begins.
	os.Rename(path, path+".1")
	os.WriteFile(path, []byte(logLine("stdout", "third\n", 2)), 0o600)
	next("third\n")
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(logLine("stdout", "last\n", 3))
	f.Close()
	close(r.done)
	next("last\n")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("follow ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end with the run")
	}
}
