package progress

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
)

// pullStream is a pull of two layers as berthd reports it.
const pullStream = `{"status":"Pulling from app","id":"v1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}
{"status":"Downloading","progressDetail":{"current":100,"total":1000},"id":"aaa"}
{"status":"Downloading","progressDetail":{"current":500,"total":1000},"id":"aaa"}
{"status":"Downloading","progressDetail":{"current":10,"total":20},"id":"bbb"}
{"status":"Pull complete","progressDetail":{},"id":"aaa"}
{"status":"Pull complete","progressDetail":{},"id":"bbb"}
{"progressDetail":{},"aux":{"Tag":"v1"}}
{"status":"Digest: sha256:abc"}
{"status":"Status: Downloaded newer image for 127.0.0.1:5000/app:v1"}
`

func TestRenderPlain(t *testing.T) {
	var b strings.Builder
	if err := Render(&b, strings.NewReader(pullStream), Options{}); err != nil {
		t.Fatal(err)
	}
	want := `v1: Pulling from app
aaa: Pulling fs layer
bbb: Pulling fs layer
aaa: Downloading
bbb: Downloading
aaa: Pull complete
bbb: Pull complete
Digest: sha256:abc
Status: Downloaded newer image for 127.0.0.1:5000/app:v1
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// screen replays the escape sequences Render writes on a terminal and
// returns the resulting lines.
func screen(t *testing.T, s string) []string {
	t.Helper()
	var lines []string
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, "")
		}
		l := []rune(lines[row])
		for len(l) < col {
			l = append(l, ' ')
		}
		if col < len(l) {
			l[col] = r
		} else {
			l = append(l, r)
		}
		lines[row] = string(l)
		col++
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n':
			row++
			col = 0
		case '\r':
			col = 0
		case 0x1b:
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9') {
				j++
			}
			n := 0
			for _, d := range s[i+2 : j] {
				n = n*10 + int(d-'0')
			}
			switch s[j] {
			case 'A':
				row -= n
			case 'B':
				row += n
			case 'K':
				if row < len(lines) {
					lines[row] = ""
				}
			default:
				t.Fatalf("unexpected escape %q", s[i:j+1])
			}
			if row < 0 {
				t.Fatalf("cursor above the first line")
			}
			i = j
		default:
			put(rune(c))
		}
	}
	return lines
}

func TestRenderTerminal(t *testing.T) {
	var b strings.Builder
	in := strings.SplitAfter(pullStream, "\n")
	// Stop in the middle, and look at the screen.
	if err := Render(&b, strings.NewReader(strings.Join(in[:6], "")), Options{Terminal: true, Width: 120}); err != nil {
		t.Fatal(err)
	}
	got := screen(t, b.String())
	want := []string{
		"v1: Pulling from app",
		"aaa: Downloading [=========================>                         ]     500B/1kB",
		"bbb: Downloading [=========================>                         ]      10B/20B",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mid-pull screen: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	b.Reset()
	if err := Render(&b, strings.NewReader(pullStream), Options{Terminal: true, Width: 80}); err != nil {
		t.Fatal(err)
	}
	got = screen(t, b.String())
	want = []string{"v1: Pulling from app", "aaa: Pull complete", "bbb: Pull complete", "Digest: sha256:abc",
		"Status: Downloaded newer image for 127.0.0.1:5000/app:v1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("final screen: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRenderError(t *testing.T) {
	in := `{"status":"Pulling from x","id":"latest"}
{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}
{"status":"never printed"}
`
	var b strings.Builder
	err := Render(&b, strings.NewReader(in), Options{})
	var se *StreamError
	if !errors.As(err, &se) || se.Message != "manifest unknown" {
		t.Errorf("got %v, want the stream's error", err)
	}
	if strings.Contains(b.String(), "never") {
		t.Errorf("rendered past the error: %q", b.String())
	}
	if err := Render(&b, strings.NewReader(`{"status":`), Options{}); err == nil || se == nil {
		t.Errorf("truncated stream: got %v, want an error", err)
	}
	var aux []string
	err = Render(&b, strings.NewReader(`{"status":"ok","aux":{"Tag":"v1","Digest":"sha256:x"}}`), Options{Aux: func(m json.RawMessage) { aux = append(aux, string(m)) }})
	if err != nil || len(aux) != 1 || !strings.Contains(aux[0], "sha256:x") {
		t.Errorf("aux: got %q, %v", aux, err)
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		p     jsonstream.Progress
		width int
		want  string
	}{
		{jsonstream.Progress{}, 120, ""},
		{jsonstream.Progress{Current: 1_200_000, Total: 3_400_000}, 50, "   1.2MB/3.4MB"},
		{jsonstream.Progress{Current: 1_200_000, Total: 3_400_000}, 80, "[========>                 ]    1.2MB/3.4MB"},
		{jsonstream.Progress{Current: 4_000, Total: 3_000}, 80, "[=========================>]"},
		{jsonstream.Progress{Current: 2_500}, 80, "   2.5kB"},
		{jsonstream.Progress{Current: 3, Total: 5, Units: "items"}, 40, " 3 items/5 items"},
		{jsonstream.Progress{Current: -5, Total: 10}, 80, "[>                         ]       0B/10B"},
	} {
		if got := Bar(&tc.p, tc.width); got != tc.want {
			t.Errorf("Bar(%+v, %d): got %q, want %q", tc.p, tc.width, got, tc.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add([]byte(pullStream))
	f.Add([]byte(`{"errorDetail":{"message":"x"}}`))
	f.Add([]byte(`{"stream":"Step 1\n"}{"id":"a","progressDetail":{"current":-1,"total":-9}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out strings.Builder
		Render(&out, strings.NewReader(string(b)), Options{Terminal: true, Width: 200})
		Render(&out, strings.NewReader(string(b)), Options{})
	})
}
