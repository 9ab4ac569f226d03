package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode"
)

// Funcs are docker's template functions, available in every --format.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"json":     toJSON,
		"split":    strings.Split,
		"join":     strings.Join,
		"title":    title,
		"lower":    strings.ToLower,
		"upper":    strings.ToUpper,
		"pad":      pad,
		"truncate": truncate,
		"println":  println,
	}
}

// Parse parses a --format template with Funcs. Literal "\t" and "\n"
// escapes in the text become a tab and a newline, so that a shell user
// can write "table {{.ID}}\t{{.Size}}".
func Parse(format string) (*template.Template, error) {
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	return template.New("").Funcs(Funcs()).Parse(format)
}

// toJSON is the json function: v as one line of JSON, without the HTML
// escaping encoding/json does by default.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// title upper-cases the first letter of each word.
func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) || prev == '-' || prev == '_' {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// pad surrounds s with the given numbers of spaces.
func pad(s string, before, after int) string {
	return strings.Repeat(" ", max(before, 0)) + s + strings.Repeat(" ", max(after, 0))
}

// truncate keeps the first n runes of s.
func truncate(s string, n int) string {
	r := []rune(s)
	if n < 0 || len(r) <= n {
		return s
	}
	return string(r[:n])
}

func println(args ...any) string { return fmt.Sprintln(args...) }
