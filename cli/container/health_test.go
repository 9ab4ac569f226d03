package container

import (
	"reflect"
	"testing"
)

func TestHealthOnFailureFlag(t *testing.T) {
	for _, tc := range []struct {
		value, label string
		labels       []string
		want         map[string]string
	}{
		{value: "", labels: []string{"a=b"}, want: map[string]string{"a": "b"}},
		{value: "restart", want: map[string]string{labelHealthOnFailure: "restart"}},
		{value: "kill", labels: []string{"a=b"}, want: map[string]string{"a": "b", labelHealthOnFailure: "kill"}},
		{value: "none", labels: []string{labelHealthOnFailure + "=stop"}, want: map[string]string{labelHealthOnFailure: "none"}},
	} {
		o := createFlags{healthOnFailure: tc.value, labels: tc.labels}
		cfg, err := o.parse("busybox", nil, nil, func(string) bool { return false })
		if err != nil {
			t.Errorf("--health-on-failure=%q: %v", tc.value, err)
			continue
		}
		got := cfg.Config.Labels
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("--health-on-failure=%q labels: got %v, want %v", tc.value, got, tc.want)
		}
	}
	for _, bad := range []string{"reboot", "Restart", " stop"} {
		o := createFlags{healthOnFailure: bad}
		if _, err := o.parse("busybox", nil, nil, func(string) bool { return false }); err == nil {
			t.Errorf("--health-on-failure=%q: got no error", bad)
		}
	}
}
