package integrity

import "testing"

func TestPairBySignature(t *testing.T) {
	a := &digestItem{path: "evidence/b/d.json.gz", meta: map[string]string{MetaSignature: "aa11"}}
	b := &digestItem{path: "evidence/b/d.json.gz.harrier-0123456789ab", meta: map[string]string{MetaSignature: "BB22"}}
	bare := &digestItem{path: "loose/d.json.gz"}
	tests := []struct {
		name    string
		targets []*digestItem
		sig     string
		want    []*digestItem
	}{
		{"one digest keeps its sidecar", []*digestItem{a}, "ffff", []*digestItem{a}},
		{"the changed copy's sidecar goes to it", []*digestItem{a, b}, "bb22", []*digestItem{b}},
		{"the first copy's sidecar goes to it", []*digestItem{a, b}, "AA11", []*digestItem{a}},
		{"a sidecar matching neither goes to both, to be reported", []*digestItem{a, b}, "cc33", []*digestItem{a, b}},
		{"a sidecar without a signature goes to both", []*digestItem{a, b}, "", []*digestItem{a, b}},
		{"digests without recorded metadata take any", []*digestItem{bare, a}, "bb22", []*digestItem{bare, a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pairBySignature(tt.targets, map[string]string{MetaSignature: tt.sig})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d digests, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("digest %d = %s, want %s", i, got[i].path, tt.want[i].path)
				}
			}
		})
	}
}
