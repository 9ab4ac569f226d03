package command

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// logger writes errors and warnings to stderr and, with --log, to the log
// file in runc's formats: containerd and conmon read the last "msg" of a
// JSON log to report why a command failed.
type logger struct {
	stderr io.Writer
	file   *os.File
	json   bool
}

func (l *logger) open(path, format string) error {
	switch format {
	case "text", "":
	case "json":
		l.json = true
	default:
		return fmt.Errorf("--log-format %q: must be text or json", format)
	}
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC, 0o644)
	if err != nil {
		return fmt.Errorf("open log %s: %w", path, err)
	}
	l.file = f
	return nil
}

func (l *logger) close() {
	if l.file != nil {
		l.file.Close()
	}
}

func (l *logger) write(level, msg string) {
	if l.file == nil {
		return
	}
	now := time.Now()
	if l.json {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now.Format(time.RFC3339Nano)})
		l.file.Write(append(line, '\n'))
		return
	}
	fmt.Fprintf(l.file, "time=%q level=%s msg=%q\n", now.Format(time.RFC3339Nano), level, msg)
}

// errorf reports a failure: one line on stderr, and in the log.
func (l *logger) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(l.stderr, "berth-runtime: %s\n", msg)
	l.write("error", msg)
}

// warnf reports what was skipped; to the log when there is one, else stderr.
func (l *logger) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.file != nil {
		l.write("warning", msg)
		return
	}
	fmt.Fprintf(l.stderr, "berth-runtime: warning: %s\n", msg)
}
