package detect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/rules"
	"github.com/harrier-ir/harrier/internal/sigma"
)

// sigmaHQ is SigmaHQ's AWS rules, kept verbatim beside the project.
func sigmaHQ(t *testing.T) string {
	t.Helper()
	d, err := rules.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "sigma-aws")
}

func sigmaHQFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"rules-cloud-aws-cloudtrail", "placeholder"} {
		m, err := filepath.Glob(filepath.Join(sigmaHQ(t), dir, "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 58 {
		t.Fatalf("found %d SigmaHQ rules under %s; expected the 57 CloudTrail rules and the placeholder rule", len(files), sigmaHQ(t))
	}
	return files
}

func sigmaHQOptions(t *testing.T) sigma.Options {
	t.Helper()
	data, err := os.ReadFile("testdata/sigmahq/placeholders.yml")
	if err != nil {
		t.Fatal(err)
	}
	ph, err := sigma.ParsePlaceholders("placeholders.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	return sigma.Options{Placeholders: ph}
}

// TestSigmaHQ proves that every SigmaHQ AWS CloudTrail rule loads unmodified
// and runs: each fires on its true-positive events and stays quiet on its
// near misses, in the reference matcher and in the compiled SQL alike, and
// across all the test events the two agree on every rule.
func TestSigmaHQ(t *testing.T) {
	opts := sigmaHQOptions(t)
	all := &sigma.Collection{}
	var records [][]byte
	type expect struct{ tp, tn []string }
	want := map[string]expect{} // rule id -> event ids
	for _, f := range sigmaHQFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := sigma.Parse(f, data, opts)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(c.Rules) != 1 {
			t.Errorf("%s: %d rules", f, len(c.Rules))
			continue
		}
		all.Add(c)
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		var e expect
		for _, kind := range []string{"tp", "tn"} {
			recs := readJSONL(t, filepath.Join("testdata/sigmahq", name, kind+".jsonl"))
			if len(recs) == 0 {
				t.Errorf("%s: no %s events", name, kind)
			}
			for _, ev := range prepare(t, recs) {
				if kind == "tp" {
					e.tp = append(e.tp, ev.ID())
				} else {
					e.tn = append(e.tn, ev.ID())
				}
			}
			records = append(records, recs...)
		}
		want[c.Rules[0].ID] = e
	}
	rs, err := Build(all, func(string) string { return "sigmahq" })
	if err != nil {
		t.Fatal(err)
	}
	events := prepare(t, records)
	st := loadStore(t, records)
	run, err := Hunt(context.Background(), st, rs)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	stats := run.Stats
	got := map[string][]string{}
	for _, h := range run.Hits {
		ids, err := run.EventIDs(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		got[h.RuleID] = append(got[h.RuleID], ids...)
	}
	for _, r := range rs.Rules {
		ref := refMatches(t, events, r.Expr)
		sqlIDs := append([]string{}, got[r.ID]...)
		sort.Strings(sqlIDs)
		if len(sqlIDs) == 0 {
			sqlIDs = []string{}
		}
		if !reflect.DeepEqual(sqlIDs, ref) {
			t.Errorf("%s: SQL found %v, the reference matcher %v", filepath.Base(r.File), sqlIDs, ref)
		}
		e := want[r.ID]
		set := map[string]bool{}
		for _, id := range ref {
			set[id] = true
		}
		for _, id := range e.tp {
			if !set[id] {
				t.Errorf("%s: true positive %s does not fire", filepath.Base(r.File), id)
			}
		}
		for _, id := range e.tn {
			if set[id] {
				t.Errorf("%s: near miss %s fires", filepath.Base(r.File), id)
			}
		}
	}
	t.Logf("%d rules, %d events, %d passes, %d skipped for absent event names", stats.Rules, stats.Events, stats.Passes, stats.Skipped)
}

// TestSigmaHQUnsupported: the old-syntax rules SigmaHQ keeps apart fail to
// load with an error that names the file and line and says why.
func TestSigmaHQUnsupported(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sigmaHQ(t), "unsupported", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no unsupported rules found")
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		_, err := sigma.Parse(f, data, sigma.Options{})
		if err == nil {
			t.Errorf("%s loaded; it uses Sigma v1 aggregation syntax", f)
			continue
		}
		if !errors.Is(err, sigma.ErrUnsupported) || !strings.HasPrefix(err.Error(), f+":") {
			t.Errorf("%s: error %q should be ErrUnsupported and start with the file and line", f, err)
		}
	}
}
