package registry

import "testing"

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"": "docker.io", "docker.io": "docker.io", "https://index.docker.io/v1/": "docker.io", "index.docker.io": "docker.io",
		"127.0.0.1:5000": "127.0.0.1:5000", "http://127.0.0.1:5000/v2/": "127.0.0.1:5000", "reg.example.com": "reg.example.com",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q): got %q, want %q", in, got, want)
		}
	}
}
