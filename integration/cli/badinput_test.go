package cli_test

import (
	"strings"
	"testing"
)

// TestBadInput: docker's words and exit statuses for what users get
// wrong.
func TestBadInput(t *testing.T) {
	d := newDaemon(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"frobnicate"}, 1, "berth: 'frobnicate' is not a berth command.\nSee 'berth --help'"},
		{[]string{"image", "frobnicate"}, 1, "berth: 'image frobnicate' is not a berth command."},
		{[]string{"images", "--bogus"}, 125, "unknown flag: --bogus\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information"},
		{[]string{"--bogus"}, 125, "unknown flag: --bogus"},
		{[]string{"rmi"}, 1, "berth: 'berth rmi' requires at least 1 argument.\n\nUsage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\nSee 'berth rmi --help'."},
		{[]string{"tag", "a"}, 1, "'berth tag' requires 2 arguments."},
		{[]string{"pull"}, 1, "'berth pull' requires 1 argument."},
		{[]string{"rmi", "nosuch:image"}, 1, "Error response from daemon: No such image: nosuch:image"},
		{[]string{"tag", "nosuch:image", "x:y"}, 1, "Error response from daemon: No such image: nosuch:image"},
		{[]string{"history", "nosuch"}, 1, "Error response from daemon: No such image: nosuch"},
		{[]string{"pull", "Busybox"}, 1, "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{[]string{"pull", "127.0.0.1:1/nothing:v1"}, 1, "Error response from daemon"},
		{[]string{"pull", "-a", "x:v1"}, 1, "tag can't be used with --all-tags/-a"},
		{[]string{"images", "--filter", "colour=blue"}, 1, "Error response from daemon: invalid filter 'colour'"},
		{[]string{"images", "--filter", "novalue"}, 1, "bad format of filter (expected name=value)"},
		{[]string{"images", "--format", "{{.ID"}, 1, "template parsing error"},
		{[]string{"-l", "loud", "images"}, 1, "Unable to parse logging level: loud"},
		{[]string{"inspect", "--type", "volume", "x"}, 1, `"volume" is not a valid value for --type`},
		{[]string{"load", "-i", "/nonexistent.tar"}, 1, "no such file or directory"},
	} {
		r := d.Berth(tc.args...)
		if r.Code != tc.code || !strings.Contains(r.Stderr, tc.stderr) {
			t.Errorf("berth %s: got %s\nwant exit %d and stderr with %q", strings.Join(tc.args, " "), r, tc.code, tc.stderr)
		}
	}
	// Help is not an error.
	for _, args := range [][]string{{}, {"--help"}, {"image"}, {"images", "--help"}, {"help", "pull"}} {
		if r := d.Berth(args...); r.Code != 0 || !strings.Contains(r.Stdout, "Usage:") {
			t.Errorf("berth %s: got %s, want usage and exit 0", strings.Join(args, " "), r)
		}
	}
	if out := d.OK("completion", "bash"); !strings.Contains(out, "bash completion") {
		t.Errorf("berth completion bash: got %.200q", out)
	}
}
