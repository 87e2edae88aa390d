package rules

import (
	"errors"
	"os"
	"path/filepath"
)

// SharedDir finds the project's read-only reference material (SigmaHQ's AWS
// rules, Stratus Red Team's techniques), kept beside the repository as
// ../shared: $HARRIER_SHARED, else ../shared from the module root, else
// /work/shared. Tests that prove the engine against that material use it.
func SharedDir() (string, error) {
	var candidates []string
	if d := os.Getenv("HARRIER_SHARED"); d != "" {
		candidates = append(candidates, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(d), "shared"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	candidates = append(candidates, "/work/shared")
	for _, d := range candidates {
		if fi, err := os.Stat(filepath.Join(d, "sigma-aws")); err == nil && fi.IsDir() {
			return d, nil
		}
	}
	return "", errors.New("the shared reference material (../shared with sigma-aws/ and stratus-aws.tsv) is not beside the project; set HARRIER_SHARED")
}
