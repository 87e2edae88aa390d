// Package rules is Harrier's built-in rule pack: Sigma rules for AWS
// CloudTrail, mapped to MITRE ATT&CK, each with true-positive and
// near-miss test events under testdata/<rule file name>/. The pack is
// embedded in the binary; `harrier rules list` shows it.
package rules

import (
	"embed"
	"errors"
	"io/fs"
	"path"
	"sort"

	"github.com/harrier-ir/harrier/internal/sigma"
)

//go:embed pack/*.yml
var pack embed.FS

// Source labels the built-in rules wherever findings name their origin.
const Source = "builtin"

// Files lists the pack's rule files (pack/<name>.yml), sorted.
func Files() []string {
	names, _ := fs.Glob(pack, "pack/*.yml")
	sort.Strings(names)
	return names
}

// Read returns one rule file's text.
func Read(name string) ([]byte, error) { return pack.ReadFile(name) }

// Load parses the whole pack.
func Load() (*sigma.Collection, error) {
	out := &sigma.Collection{}
	var errs []error
	for _, name := range Files() {
		data, err := pack.ReadFile(name)
		if err != nil {
			return nil, err
		}
		c, err := sigma.Parse(path.Join("builtin", name), data, sigma.Options{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Add(c)
	}
	return out, errors.Join(errs...)
}
