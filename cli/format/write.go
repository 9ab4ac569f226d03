package format

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"text/template"
)

// Table is how a command lists its rows: the default format and the
// header of each field a template may name.
type Table struct {
	// Default is the format of a plain listing, usually "table ...".
	Default string
	// Headers maps field names ("Repository") to column headers
	// ("REPOSITORY").
	Headers map[string]string
}

// TableFlagHelp is the --format help of a listing that Table.Write
// prints, naming the formats Write knows.
const TableFlagHelp = "Format output using a custom template:\n" +
	"'table':            Print output in table format with column headers (default)\n" +
	"'table TEMPLATE':   Print output in table format using the given Go template\n" +
	"'json':             Print in JSON format\n" +
	"'TEMPLATE':         Print output using the given Go template"

// IsTable reports whether format prints a table with headers.
func IsTable(format string) bool {
	return format == "table" || strings.HasPrefix(format, "table ")
}

// Write prints rows in format: "" is t.Default; "table" is the default
// table and "table TEMPLATE" a table of the template's columns, with a
// header row; "json" is one JSON object per row; anything else is a Go
// template executed once per row, each followed by a newline.
func (t Table) Write(w io.Writer, format string, rows []any) error {
	switch format {
	case "":
		format = t.Default
	case "table":
		if IsTable(t.Default) {
			format = t.Default
		}
	case "json":
		format = "{{json .}}"
	}
	table := IsTable(format)
	if table {
		format = strings.TrimSpace(strings.TrimPrefix(format, "table"))
	}
	tmpl, err := Parse(format)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		headers := map[string]string{}
		for k, v := range t.Headers {
			headers[k] = v
		}
		var b strings.Builder
		if err := tmpl.Option("missingkey=zero").Execute(&b, headers); err == nil {
			fmt.Fprintln(out, strings.TrimRight(b.String(), "\n"))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		if err := tmpl.Option("missingkey=error").Execute(&b, row); err != nil {
			return fmt.Errorf("template: %w", err)
		}
		fmt.Fprintln(out, strings.TrimRight(b.String(), "\n"))
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// Template executes one template over one value (inspect -f), with a
// newline after it.
func Template(w io.Writer, tmpl *template.Template, v any) error {
	var b strings.Builder
	if err := tmpl.Execute(&b, v); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}

// Fields returns the values of v's exported methods that take no
// arguments and return one value: the fields of a row, for its JSON.
func Fields(v any) map[string]any {
	out := map[string]any{}
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 || m.Name == "String" {
			continue
		}
		out[m.Name] = rv.Method(i).Call(nil)[0].Interface()
	}
	return out
}

// MarshalFields is the JSON of a row: its Fields, keys sorted.
func MarshalFields(v any) ([]byte, error) {
	return json.Marshal(Fields(v))
}
