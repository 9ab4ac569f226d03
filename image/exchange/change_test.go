package exchange

import (
	"errors"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	set := func(ks ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, k := range ks {
			m[k] = struct{}{}
		}
		return m
	}
	tests := []struct {
		name    string
		changes []string
		want    ocispec.ImageConfig
	}{
		{"cmd exec form", []string{`CMD ["/bin/sh", "-c", "echo hi"]`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{"cmd shell form", []string{`CMD echo "$HOME" && ls`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", `echo "$HOME" && ls`}}},
		{"cmd broken array is shell form", []string{`cmd ["a",`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", `["a",`}}},
		{"entrypoint empty array", []string{`ENTRYPOINT []`}, ocispec.ImageConfig{Entrypoint: []string{}}},
		{"entrypoint tabs", []string{"ENTRYPOINT\t[\"/init\"]"}, ocispec.ImageConfig{Entrypoint: []string{"/init"}}},
		{"env pairs and quotes", []string{`ENV A=1 B="two words" C='$A' D=\$A E=x\ y`}, ocispec.ImageConfig{Env: []string{"A=1", "B=two words", "C=$A", "D=$A", "E=x y"}}},
		{"env expands earlier lines", []string{`ENV PATH=/bin`, `ENV PATH=$PATH:/sbin HOME=${HOME:-/root} X=${PATH:+set}`}, ocispec.ImageConfig{Env: []string{"PATH=/bin:/sbin", "HOME=/root", "X=set"}}},
		{"env old form", []string{`ENV GREETING hello   big world`}, ocispec.ImageConfig{Env: []string{"GREETING=hello   big world"}}},
		{"env replaces", []string{`ENV A=1`, `ENV A=2`}, ocispec.ImageConfig{Env: []string{"A=2"}}},
		{"label", []string{`LABEL org.example.a="x y" b=c`, `LABEL b d`}, ocispec.ImageConfig{Labels: map[string]string{"org.example.a": "x y", "b": "d"}}},
		{"expose", []string{`EXPOSE 80 53/UDP 8000-8002/tcp`}, ocispec.ImageConfig{ExposedPorts: set("80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp")}},
		{"volume forms", []string{`VOLUME ["/data", "/logs"]`, `VOLUME /cache /tmp/x`}, ocispec.ImageConfig{Volumes: set("/data", "/logs", "/cache", "/tmp/x")}},
		{"workdir relative", []string{`WORKDIR /app`, `WORKDIR src/../lib`, `ENV D=deep`, `WORKDIR $D dir`}, ocispec.ImageConfig{WorkingDir: "/app/lib/deep dir", Env: []string{"D=deep"}}},
		{"workdir from nothing", []string{`WORKDIR app`}, ocispec.ImageConfig{WorkingDir: "/app"}},
		{"user", []string{`USER 1000:1000`}, ocispec.ImageConfig{User: "1000:1000"}},
		{"stopsignal", []string{`STOPSIGNAL SIGRTMIN+3`}, ocispec.ImageConfig{StopSignal: "SIGRTMIN+3"}},
		{"stopsignal number", []string{`stopsignal 9`}, ocispec.ImageConfig{StopSignal: "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ocispec.ImageConfig
			if err := ApplyChanges(&got, tt.changes); err != nil {
				t.Fatalf("ApplyChanges: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestApplyChangesErrors(t *testing.T) {
	tests := []struct {
		change string
		class  error
	}{
		{"", errdefs.ErrInvalidArgument},
		{"RUN rm -rf /", errdefs.ErrInvalidArgument},
		{"FROM busybox", errdefs.ErrInvalidArgument},
		{"ONBUILD RUN x", errdefs.ErrNotImplemented},
		{"CMD", errdefs.ErrInvalidArgument},
		{"ENV", errdefs.ErrInvalidArgument},
		{"ENV A", errdefs.ErrInvalidArgument},
		{"ENV =x", errdefs.ErrInvalidArgument},
		{"ENV A=1 B", errdefs.ErrInvalidArgument},
		{`ENV A="open`, errdefs.ErrInvalidArgument},
		{`ENV A='open`, errdefs.ErrInvalidArgument},
		{`ENV A=${B`, errdefs.ErrInvalidArgument},
		{`ENV A=${B/x/y}`, errdefs.ErrInvalidArgument},
		{`ENV A=${}`, errdefs.ErrInvalidArgument},
		{"EXPOSE", errdefs.ErrInvalidArgument},
		{"EXPOSE 0", errdefs.ErrInvalidArgument},
		{"EXPOSE 65536", errdefs.ErrInvalidArgument},
		{"EXPOSE 80/icmp", errdefs.ErrInvalidArgument},
		{"EXPOSE 90-80", errdefs.ErrInvalidArgument},
		{"EXPOSE http", errdefs.ErrInvalidArgument},
		{"USER a b", errdefs.ErrInvalidArgument},
		{"USER", errdefs.ErrInvalidArgument},
		{"WORKDIR", errdefs.ErrInvalidArgument},
		{"STOPSIGNAL SIGNOPE", errdefs.ErrInvalidArgument},
		{"STOPSIGNAL 65", errdefs.ErrInvalidArgument},
		{`VOLUME [""]`, errdefs.ErrInvalidArgument},
		{"VOLUME", errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.change, func(t *testing.T) {
			var c ocispec.ImageConfig
			err := ApplyChanges(&c, []string{tt.change})
			if !errors.Is(err, tt.class) {
				t.Errorf("got error %v, want class %v", err, tt.class)
			}
		})
	}
}
