package mount

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Under lists the mount points of this process's mount namespace that are
// dir or lie below it, in the order the kernel lists them (parents first).
// Daemons use it to find leftovers at start; tests use it to prove that
// nothing was left mounted.
func Under(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list mounts under %s: %w", dir, err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mp, ok := mountPoint(sc.Text())
		if ok && (mp == dir || strings.HasPrefix(mp, dir+"/") || dir == "/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("list mounts under %s: %w", dir, err)
	}
	return out, nil
}

// mountPoint returns the fifth field of a mountinfo line, unescaped (the
// kernel writes space, tab, newline and backslash as \ooo octal).
func mountPoint(line string) (string, bool) {
	fields := strings.Fields(line)
	if len(fields) < 5 {
		return "", false
	}
	return unescapeOctal(fields[4]), true
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
