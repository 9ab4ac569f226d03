package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/berth-dev/berth/cli/format"
)

// Getter fetches one object for inspect: its typed value (what
// templates see first) and the daemon's raw JSON.
type Getter func(ref string) (typed any, raw []byte, err error)

// Inspect prints the objects refs name: without a format, one indented
// JSON array of the daemon's documents; with one, the template executed
// for each object, on the typed value or, where that fails (a field the
// client's types lack), on the raw JSON. Objects that cannot be fetched
// are reported after the others, and make the command fail.
func Inspect(out io.Writer, refs []string, tmplText string, get Getter) error {
	var errs []string
	var raws []json.RawMessage
	if tmplText == "json" {
		tmplText = ""
	}
	var tmplErr error
	tmpl, err := format.Parse(tmplText)
	if tmplText != "" && err != nil {
		return StatusError{Status: "Template parsing error: " + err.Error(), Code: 64}
	}
	for _, ref := range refs {
		typed, raw, err := get(ref)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if tmplText == "" {
			raws = append(raws, raw)
			continue
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, typed); err != nil {
			b.Reset()
			var m any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if derr := dec.Decode(&m); derr != nil || tmpl.Execute(&b, m) != nil {
				tmplErr = err
				break
			}
		}
		fmt.Fprintln(out, b.String())
	}
	if tmplText == "" {
		if raws == nil {
			raws = []json.RawMessage{}
		}
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(raws); err != nil {
			return err
		}
	}
	if tmplErr != nil {
		return fmt.Errorf("template: %w", tmplErr)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}
