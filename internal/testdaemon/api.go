package testdaemon

import (
	"io"
	"net/http"
	"testing"
)

// API sends a raw request to berthd (header: name, value pairs) and
// returns the status, headers and body; a request that gets no answer
// fails the test.
func (d *Daemon) API(t testing.TB, method, path string, body io.Reader, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://berthd"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
