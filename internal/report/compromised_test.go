package report

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSeedsCappedAfterDuplicates: seven keys behind high findings, the
// second reached by the first's scope. The cap of five applies to the
// credentials actually scoped, so the sixth key, independent of the
// others, is scoped, and the note says which were skipped and why.
func TestSeedsCappedAfterDuplicates(t *testing.T) {
	st := huntedCase(t, 7)
	var out bytes.Buffer
	if err := Write(context.Background(), &out, st, Options{Generated: t0}); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	var scoped []string
	for _, m := range regexp.MustCompile(`<h3>key <code>(AKIA\w+)</code></h3>`).FindAllStringSubmatch(html, -1) {
		scoped = append(scoped, m[1])
	}
	want := []string{seedKey(1), seedKey(3), seedKey(4), seedKey(5), seedKey(6)}
	if !slices.Equal(scoped, want) {
		t.Errorf("scoped %v, want %v", scoped, want)
	}
	for _, say := range []string{
		"5 of the 7 credentials they name are scoped below.",
		"Already reached by an earlier scope, so not scoped again: " + seedKey(2) + ".",
		"Not scoped, as the report scopes at most 5: " + seedKey(7),
	} {
		if !strings.Contains(html, say) {
			t.Errorf("the scope note does not say %q", say)
		}
	}
}
