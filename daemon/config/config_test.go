package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/spf13/pflag"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name, json string
		check      func(*Config) bool
		err        string
	}{
		{"empty", "", func(c *Config) bool { return reflect.DeepEqual(c, Default()) }, ""},
		{"keys", `{"data-root":"/d","hosts":["unix:///s"],"debug":true,"registry-mirrors":["https://m"],"insecure-registries":["10.0.0.0/8"],"live-restore":false,"default-ulimits":{"nofile":{"Name":"nofile","Hard":20,"Soft":10}},"log-opts":{"max-size":"1m"}}`,
			func(c *Config) bool {
				return c.DataRoot == "/d" && c.Hosts[0] == "unix:///s" && c.Debug && c.RegistryMirrors[0] == "https://m" &&
					c.InsecureRegistries[0] == "10.0.0.0/8" && !c.LiveRestore && c.DefaultUlimits["nofile"].Soft == 10 &&
					c.LogOpts["max-size"] == "1m" && c.ExecRoot == DefaultExecRoot
			}, ""},
		{"absent keys keep defaults", `{"debug":true}`, func(c *Config) bool { return c.LiveRestore && c.DataRoot == DefaultDataRoot }, ""},
		{"unknown key", `{"data-root":"/d","colour":"blue","size":1}`, nil, "don't match any configuration option: colour, size"},
		{"wrong type", `{"debug":"yes"}`, nil, "cannot unmarshal"},
		{"not an object", `[1,2]`, nil, "cannot unmarshal"},
		{"malformed", `{"debug":`, nil, "unexpected end"},
	}
	for _, c := range cases {
		cfg := Default()
		err := Decode(cfg, []byte(c.json))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%s: got %v, want an invalid-argument error with %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !c.check(cfg) {
			t.Errorf("%s: got %+v, %v", c.name, cfg, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := Load(Default(), filepath.Join(dir, "absent.json"), true); err != nil {
		t.Errorf("optional missing file: got %v, want nil", err)
	}
	if err := Load(Default(), filepath.Join(dir, "absent.json"), false); err == nil {
		t.Error("required missing file: got nil, want an error")
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, make([]byte, maxFileSize+10), 0o644)
	if err := Load(Default(), big, false); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: got %v", err)
	}
}

// TestFlagsOverrideFile: a flag given on the command line wins over the
// file; one not given leaves the file's value.
func TestFlagsOverrideFile(t *testing.T) {
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	f := NewFlags(fs)
	err := fs.Parse([]string{"--data-root", "/flag", "-H", "unix:///a.sock", "-H", "tcp://127.0.0.1:2376", "--live-restore=false",
		"--default-ulimit", "nofile=100:200", "--log-opt", "max-file=5", "--add-runtime", "crun=/usr/bin/crun", "--insecure-registry", "r:5000", "--init-path", "/flag/init"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	if err := Decode(cfg, []byte(`{"data-root":"/file","exec-root":"/fileexec","debug":true,"insecure-registries":["x"],"init":true,"init-path":"/file/init"}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]any{
		"data-root":           {cfg.DataRoot, "/flag"},
		"exec-root":           {cfg.ExecRoot, "/fileexec"},
		"debug":               {cfg.Debug, true},
		"hosts":               {strings.Join(cfg.Hosts, ","), "unix:///a.sock,tcp://127.0.0.1:2376"},
		"live-restore":        {cfg.LiveRestore, false},
		"default-ulimits":     {[2]int64{cfg.DefaultUlimits["nofile"].Soft, cfg.DefaultUlimits["nofile"].Hard}, [2]int64{100, 200}},
		"log-opts":            {cfg.LogOpts["max-file"], "5"},
		"runtimes":            {cfg.Runtimes["crun"].Path, "/usr/bin/crun"},
		"insecure-registries": {strings.Join(cfg.InsecureRegistries, ","), "r:5000"},
		"init":                {cfg.Init, true},
		"init-path":           {cfg.InitPath, "/flag/init"},
	}
	for k, v := range checks {
		if !reflect.DeepEqual(v[0], v[1]) {
			t.Errorf("%s: got %v, want %v", k, v[0], v[1])
		}
	}
	if f.ConfigFileGiven() {
		t.Error("ConfigFileGiven without --config-file: got true")
	}
}

func TestParseHost(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"", "unix:///run/berth/berth.sock", ""},
		{"unix://", "unix:///run/berth/berth.sock", ""},
		{"unix:///tmp/x/../b.sock", "unix:///tmp/b.sock", ""},
		{"/tmp/b.sock", "unix:///tmp/b.sock", ""},
		{"tcp://127.0.0.1:2376", "tcp://127.0.0.1:2376", ""},
		{"tcp://0.0.0.0", "tcp://0.0.0.0:2376", ""},
		{"tcp://[::1]:99", "tcp://[::1]:99", ""},
		{"unix://relative.sock", "", "absolute"},
		{"tcp://host:99999", "", "invalid port"},
		{"tcp://host:2376/path", "", "want tcp://"},
		{"fd://", "", "only unix:// and tcp://"},
		{"ssh://x", "", "only unix:// and tcp://"},
	}
	for _, c := range cases {
		h, err := ParseHost(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseHost(%q): got %v, %v, want error %q", c.in, h, err, c.err)
			}
			continue
		}
		if err != nil || h.String() != c.want {
			t.Errorf("ParseHost(%q): got %q, %v, want %q", c.in, h, err, c.want)
		}
	}
}

func TestParseUlimit(t *testing.T) {
	cases := []struct {
		in         string
		soft, hard int64
		err        string
	}{
		{"nofile=1024", 1024, 1024, ""},
		{"nofile=1024:2048", 1024, 2048, ""},
		{"core=unlimited", -1, -1, ""},
		{"memlock=-1:-1", -1, -1, ""},
		{"nofile=2048:1024", 0, 0, "above the hard limit"},
		{"nofile", 0, 0, "NAME=SOFT"},
		{"=5", 0, 0, "NAME=SOFT"},
		{"bogus=5", 0, 0, "unknown resource"},
		{"nofile=x", 0, 0, "invalid limit"},
		{"nofile=-5", 0, 0, "invalid limit"},
	}
	for _, c := range cases {
		u, err := ParseUlimit(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseUlimit(%q): got %v, %v, want error %q", c.in, u, err, c.err)
			}
			continue
		}
		if err != nil || u.Soft != c.soft || u.Hard != c.hard {
			t.Errorf("ParseUlimit(%q): got %+v, %v, want %d:%d", c.in, u, err, c.soft, c.hard)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		err  string
	}{
		{"defaults", func(*Config) {}, ""},
		{"tcp without tls", func(c *Config) { c.Hosts = []string{"tcp://0.0.0.0:2375"} }, "without --tlsverify"},
		{"tls without verify", func(c *Config) { c.Hosts = []string{"tcp://0.0.0.0:2376"}; c.TLS = true }, "without --tlsverify"},
		{"tlsverify without files", func(c *Config) { c.Hosts = []string{"tcp://0.0.0.0:2376"}; c.TLSVerify = true; c.TLSCert = "c" }, "needs --tls"},
		{"tlsverify", func(c *Config) {
			c.Hosts = []string{"tcp://0.0.0.0:2376"}
			c.TLSVerify, c.TLSCACert, c.TLSCert, c.TLSKey = true, "ca", "c", "k"
		}, ""},
		{"relative data root", func(c *Config) { c.DataRoot = "data" }, "absolute"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log-level"},
		{"storage driver", func(c *Config) { c.StorageDriver = "btrfs" }, "storage-driver"},
		{"default runtime unknown", func(c *Config) { c.DefaultRuntime = "crun" }, "not configured"},
		{"runtime without path", func(c *Config) { c.Runtimes = map[string]Runtime{"x": {}} }, "no path"},
		{"ulimit in file", func(c *Config) { c.DefaultUlimits = map[string]*Ulimit{"nofile": {Soft: 9, Hard: 1}} }, "above the hard limit"},
	}
	for _, c := range cases {
		cfg := Default()
		c.mod(cfg)
		err := cfg.Validate()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.err)
		}
	}
	cfg := Default()
	cfg.Debug, cfg.StorageDriver = true, "overlay2"
	if err := cfg.Validate(); err != nil || cfg.LogLevel != "debug" || cfg.Snapshotter() != "overlayfs" {
		t.Errorf("debug and overlay2: got level %q, snapshotter %q, %v", cfg.LogLevel, cfg.Snapshotter(), err)
	}
}

func TestEngineIDLasts(t *testing.T) {
	dir := t.TempDir()
	a, err := EngineID(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EngineID(dir)
	if err != nil || a != b || len(a) != 36 {
		t.Errorf("EngineID: got %q then %q (%v), want the same UUID twice", a, b, err)
	}
}

// FuzzDecode: any daemon.json decodes or is refused, never panics, and a
// decoded one validates or is refused.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"data-root":"/var/lib/berth","hosts":["unix:///run/berth/berth.sock"],"default-ulimits":{"nofile":{"Name":"nofile","Hard":1,"Soft":1}}}`))
	f.Add([]byte(`{"runtimes":{"crun":{"path":"crun","runtimeArgs":["--debug"]}},"default-runtime":"crun"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		if err := Decode(cfg, data); err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("Decode error is not invalid-argument: %v", err)
			}
			return
		}
		_ = cfg.Validate()
	})
}

// FuzzParseHost and FuzzParseUlimit: flag values never panic.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"unix:///run/berth/berth.sock", "tcp://[::1]:2376", "tcp://h", "/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := ParseHost(s); err == nil && h.Proto != "unix" && h.Proto != "tcp" {
			t.Fatalf("ParseHost(%q) = %+v", s, h)
		}
	})
}

func FuzzParseUlimit(f *testing.F) {
	for _, s := range []string{"nofile=1:2", "core=unlimited", "nproc=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := ParseUlimit(s); err == nil && u.Hard != -1 && u.Soft > u.Hard {
			t.Fatalf("ParseUlimit(%q) = %+v: soft above hard", s, u)
		}
	})
}
