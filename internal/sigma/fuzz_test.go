package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input may crash the parser; whatever loads has a condition.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("/work/shared/sigma-aws/*/*.yml") // seeds only: the corpus works without them
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(head + "detection:\n    a: [x, y]\n    b|re|i: '.*'\n    condition: 1 of them and not (a or b)\n"))
	f.Add([]byte("title: c\ncorrelation: {type: temporal, rules: [a, b], timespan: 5m, group-by: [x]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yml", data, Options{Placeholders: map[string][]string{"p": {"v"}}})
		if err != nil {
			return
		}
		for _, r := range c.Rules {
			if r.Detection.Condition == nil {
				t.Fatalf("rule %q loaded without a condition", r.Title)
			}
			_ = String(r.Detection.Condition)
		}
	})
}
