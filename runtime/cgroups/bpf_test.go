package cgroups

import (
	"testing"
	"unsafe"
)

// The attribute structs must match the kernel's union bpf_attr layout.
func TestBPFAttrLayout(t *testing.T) {
	var l progLoadAttr
	var q progQueryAttr
	var a progAttachAttr
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"load.insns", unsafe.Offsetof(l.insns), 8},
		{"load.license", unsafe.Offsetof(l.license), 16},
		{"load.logLevel", unsafe.Offsetof(l.logLevel), 24},
		{"load.logBuf", unsafe.Offsetof(l.logBuf), 32},
		{"load.kernVersion", unsafe.Offsetof(l.kernVersion), 40},
		{"load.progName", unsafe.Offsetof(l.progName), 48},
		{"load size", unsafe.Sizeof(l), 64},
		{"query.progIDs", unsafe.Offsetof(q.progIDs), 16},
		{"query.progCnt", unsafe.Offsetof(q.progCnt), 24},
		{"query size", unsafe.Sizeof(q), 32},
		{"attach.attachFlags", unsafe.Offsetof(a.attachFlags), 12},
		{"attach size", unsafe.Sizeof(a), 20},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
