package snapshot

import (
	"reflect"
	"testing"
)

func TestKindText(t *testing.T) {
	for _, k := range []Kind{KindUnknown, KindView, KindActive, KindCommitted, Kind(200)} {
		b, _ := k.MarshalText()
		var got Kind
		if err := got.UnmarshalText(b); err != nil {
			t.Fatal(err)
		}
		want := k
		if k > KindCommitted {
			want = KindUnknown
		}
		if got != want {
			t.Errorf("round trip of %d (%s): got %v, want %v", k, b, got, want)
		}
	}
}

func TestNewOptions(t *testing.T) {
	o := NewOptions(WithLabels(map[string]string{"a": "1", "b": "1"}), WithLabels(map[string]string{"b": "2"}))
	if want := map[string]string{"a": "1", "b": "2"}; !reflect.DeepEqual(o.Labels, want) || o.HasParent {
		t.Errorf("got %+v, want labels %v and no parent", o, want)
	}
	if o := NewOptions(WithParent("")); !o.HasParent || o.Parent != "" {
		t.Errorf("WithParent(\"\"): got %+v, want HasParent with empty parent", o)
	}
}
