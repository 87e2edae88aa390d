package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/scope"
)

// TestMarkerNote: the volume chart says which findings it marks and how
// many it leaves off, never just a count that is not the findings'.
func TestMarkerNote(t *testing.T) {
	cases := []struct {
		name                            string
		findings, marked, minor, noTime int
		many                            bool
		want                            string
	}{
		{"none", 0, 0, 0, 0, false, "no findings to mark"},
		{"all", 8, 8, 0, 0, false, "triangles mark where each finding began (8 of 8 findings marked)"},
		{"many, minor left off", 59, 32, 27, 0, true, "triangles mark where each medium, high and critical finding began (32 of 59 findings marked; 27 low and informational ones are not, as there are more than 50 findings)"},
		{"some without time", 5, 4, 0, 1, false, "triangles mark where each finding began (4 of 5 findings marked; 1 have no time and are not)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := markerNote(c.findings, c.marked, c.minor, c.noTime, c.many); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestReportWording checks the sentences a reader sees about the markers
// and about how a scoped credential was chosen.
func TestReportWording(t *testing.T) {
	st := huntedCase(t, 2)
	for _, c := range []struct {
		name string
		opts Options
		want []string
	}{
		{"from findings", Options{Generated: t0}, []string{
			"triangles mark where each finding began (3 of 3 findings marked)",
			`<p class="muted">Taken as compromised: behind the critical finding &#34;Key 1 misused&#34;; scoped from`}},
		{"named", Options{Generated: t0, Seeds: []scope.Seed{{Kind: "key", Value: seedKey(2)}}}, []string{
			`<p class="muted">Named by the investigator; scoped from the start of the case.</p>`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(context.Background(), &out, st, c.opts); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("the report does not say %s", w)
				}
			}
			if strings.Contains(out.String(), "Chosen named") {
				t.Error(`the report says "Chosen named"`)
			}
		})
	}
}
