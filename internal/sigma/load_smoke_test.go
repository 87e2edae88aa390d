package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadSigmaHQ(t *testing.T) {
	for _, dir := range []string{"../../../shared/sigma-aws/rules-cloud-aws-cloudtrail", "../../../shared/sigma-aws/unsupported", "../../../shared/sigma-aws/placeholder"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			c, err := Parse(filepath.Base(f), data, Options{})
			if err != nil {
				t.Logf("%v", err)
				continue
			}
			for _, r := range c.Rules {
				t.Logf("%s: %s", filepath.Base(f), String(r.Detection.Condition))
			}
		}
	}
}
