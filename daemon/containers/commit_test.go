package containers

import (
	"errors"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestCommitConfig(t *testing.T) {
	ctr := &container.Config{
		Hostname: "abc", User: "app", Env: []string{"PATH=/bin", "A=ctr"}, Cmd: []string{"sh"},
		Entrypoint: []string{"/init"}, WorkingDir: "/w", Labels: map[string]string{"l": "ctr", "k": "ctr"},
		ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}}, StopSignal: "SIGINT",
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "true"}},
	}
	tests := []struct {
		name    string
		req     *container.Config
		changes []string
		check   func(t *testing.T, got map[string]any)
	}{
		{"the container's config", nil, nil, func(t *testing.T, got map[string]any) {
			want := map[string]any{"User": "app", "Env": []string{"PATH=/bin", "A=ctr"}, "Cmd": []string{"sh"},
				"Entrypoint": []string{"/init"}, "WorkingDir": "/w", "StopSignal": "SIGINT"}
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
		}},
		{"changes win, the rest merges", nil, []string{`CMD ["echo", "hi"]`, "ENV A=change B=new", "LABEL k=change", "EXPOSE 443"}, func(t *testing.T, got map[string]any) {
			if c := got["Cmd"]; !reflect.DeepEqual(c, []string{"echo", "hi"}) {
				t.Errorf("Cmd: got %v", c)
			}
			if e := got["Env"]; !reflect.DeepEqual(e, []string{"A=change", "B=new", "PATH=/bin"}) {
				t.Errorf("Env: got %v, want the changes then the container's other variables", e)
			}
			if l := got["Labels"]; !reflect.DeepEqual(l, map[string]string{"k": "change", "l": "ctr"}) {
				t.Errorf("Labels: got %v", l)
			}
			if p := got["Ports"]; !reflect.DeepEqual(p, []string{"443/tcp", "80/tcp"}) {
				t.Errorf("ExposedPorts: got %v", p)
			}
		}},
		{"an entrypoint in the request drops the container's cmd", &container.Config{Entrypoint: []string{"/other"}}, nil, func(t *testing.T, got map[string]any) {
			if got["Cmd"] != nil || !reflect.DeepEqual(got["Entrypoint"], []string{"/other"}) {
				t.Errorf("got Cmd %v Entrypoint %v, want no Cmd and /other", got["Cmd"], got["Entrypoint"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := commitConfig(tt.req, tt.changes, ctr)
			if err != nil {
				t.Fatal(err)
			}
			var ports []string
			for p := range c.ExposedPorts {
				ports = append(ports, p)
			}
			if len(ports) == 2 && ports[0] > ports[1] {
				ports[0], ports[1] = ports[1], ports[0]
			}
			got := map[string]any{"User": c.User, "Env": c.Env, "WorkingDir": c.WorkingDir, "StopSignal": c.StopSignal,
				"Labels": c.Labels, "Ports": ports}
			if c.Cmd != nil {
				got["Cmd"] = c.Cmd
			}
			if c.Entrypoint != nil {
				got["Entrypoint"] = c.Entrypoint
			}
			if c.Healthcheck == nil || !reflect.DeepEqual(c.Healthcheck.Test, []string{"CMD", "true"}) {
				t.Errorf("Healthcheck: got %+v, want the container's", c.Healthcheck)
			}
			tt.check(t, got)
		})
	}
	if _, err := commitConfig(nil, []string{"FROM busybox"}, ctr); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a change commit does not take: got %v, want ErrInvalidArgument", err)
	}
}
