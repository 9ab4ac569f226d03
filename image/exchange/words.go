package exchange

import (
	"fmt"
	"strings"
)

// splitWords splits an instruction's arguments into words the way a
// Dockerfile does: unquoted blanks separate words, '…' is literal, "…"
// groups and expands, a backslash escapes the next character, and $VAR,
// ${VAR}, ${VAR:-default} and ${VAR:+alternative} expand from env.
func splitWords(s string, env func(string) (string, bool)) ([]string, error) {
	return lexWords(s, env, true)
}

// expandWord processes quotes, escapes and variables in s but keeps its
// blanks: one word.
func expandWord(s string, env func(string) (string, bool)) (string, error) {
	ws, err := lexWords(s, env, false)
	if err != nil || len(ws) == 0 {
		return "", err
	}
	return ws[0], nil
}

func lexWords(s string, env func(string) (string, bool), split bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); {
		ch := s[i]
		if split && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
			i++
			continue
		}
		inWord = true
		switch ch {
		case '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
				i += 2
			} else {
				cur.WriteByte('\\')
				i++
			}
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '"':
			n, err := doubleQuoted(&cur, s[i:], env)
			if err != nil {
				return nil, err
			}
			i += n
		case '$':
			v, n, err := expandVar(s[i:], env)
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			i += n
		default:
			cur.WriteByte(ch)
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// doubleQuoted writes the content of the "…" that s starts with and
// returns how many bytes it took. Inside, a backslash escapes only ", \
// and $.
func doubleQuoted(cur *strings.Builder, s string, env func(string) (string, bool)) (int, error) {
	for i := 1; i < len(s); {
		switch ch := s[i]; {
		case ch == '"':
			return i + 1, nil
		case ch == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$", s[i+1]) >= 0:
			cur.WriteByte(s[i+1])
			i += 2
		case ch == '$':
			v, n, err := expandVar(s[i:], env)
			if err != nil {
				return 0, err
			}
			cur.WriteString(v)
			i += n
		default:
			cur.WriteByte(ch)
			i++
		}
	}
	return 0, fmt.Errorf("unterminated double quote in %q", s)
}

// expandVar expands the variable reference s starts with ($NAME, ${NAME},
// ${NAME:-word}, ${NAME:+word}) and returns how many bytes it took. A $
// followed by no name is a literal $.
func expandVar(s string, env func(string) (string, bool)) (string, int, error) {
	if len(s) > 1 && s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, fmt.Errorf("missing '}' in %q", s)
		}
		inner := s[2:end]
		n := nameLen(inner)
		if n == 0 {
			return "", 0, fmt.Errorf("bad substitution ${%s}", inner)
		}
		val, set := env(inner[:n])
		switch op := inner[n:]; {
		case op == "":
			return val, end + 1, nil
		case strings.HasPrefix(op, ":-"):
			if set && val != "" {
				return val, end + 1, nil
			}
			w, err := expandWord(op[2:], env)
			return w, end + 1, err
		case strings.HasPrefix(op, ":+"):
			if !set || val == "" {
				return "", end + 1, nil
			}
			w, err := expandWord(op[2:], env)
			return w, end + 1, err
		default:
			return "", 0, fmt.Errorf("bad substitution ${%s}: only ${VAR}, ${VAR:-word} and ${VAR:+word}", inner)
		}
	}
	n := nameLen(s[1:])
	if n == 0 {
		return "$", 1, nil
	}
	val, _ := env(s[1 : 1+n])
	return val, n + 1, nil
}

// nameLen is the length of the variable name s starts with.
func nameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return i
		}
	}
	return len(s)
}
