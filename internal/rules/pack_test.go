package rules_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/attack"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/rules"
	"github.com/harrier-ir/harrier/internal/sigma"
	"github.com/harrier-ir/harrier/internal/store"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func slug(file string) string { return strings.TrimSuffix(filepath.Base(file), ".yml") }

func readJSONL(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no events", path)
	}
	return out
}

func prepare(t *testing.T, recs [][]byte) []*detect.Event {
	t.Helper()
	var out []*detect.Event
	for i, r := range recs {
		e, err := detect.NewEvent(r)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func loadPack(t *testing.T) (*detect.RuleSet, map[string]*detect.Rule) {
	t.Helper()
	c, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Build(c, func(string) string { return rules.Source })
	if err != nil {
		t.Fatal(err)
	}
	// a file's rule is its last document: the correlation when it has one
	primary := map[string]*detect.Rule{}
	for _, r := range rs.Rules {
		primary[slug(r.File)] = r
	}
	return rs, primary
}

// TestPack checks every rule of the pack: its metadata, its ATT&CK tags, and
// that it fires on each of its true-positive files and on none of its
// near misses.
func TestPack(t *testing.T) {
	rs, primary := loadPack(t)
	if len(rules.Files()) < 100 {
		t.Errorf("the pack has %d rule files; the issue asks for at least 100", len(rules.Files()))
	}
	ids := map[string]bool{}
	for _, r := range rs.Rules {
		if !uuidRe.MatchString(r.ID) {
			t.Errorf("%s: id %q is not a lower-case UUIDv4", r.File, r.ID)
		}
		if ids[r.ID] {
			t.Errorf("%s: id %s repeated", r.File, r.ID)
		}
		ids[r.ID] = true
	}
	for _, file := range rules.Files() {
		name := slug(file)
		r := primary[name]
		if r == nil {
			t.Errorf("%s: no rule", file)
			continue
		}
		t.Run(name, func(t *testing.T) {
			checkMeta(t, r)
			dir := filepath.Join("testdata", name)
			tps, _ := filepath.Glob(filepath.Join(dir, "tp_*.jsonl"))
			tns, _ := filepath.Glob(filepath.Join(dir, "tn_*.jsonl"))
			if len(tps) == 0 || len(tns) == 0 {
				t.Fatalf("%s needs tp_N.jsonl and tn_N.jsonl (has %d and %d)", dir, len(tps), len(tns))
			}
			for _, f := range tps {
				evs := prepare(t, readJSONL(t, f))
				got := fired(rs, r, evs)
				if len(got) == 0 {
					t.Errorf("%s does not fire", f)
				}
			}
			for _, f := range tns {
				if got := fired(rs, r, prepare(t, readJSONL(t, f))); len(got) > 0 {
					t.Errorf("%s fires on %v", f, got)
				}
			}
		})
	}
}

func fired(rs *detect.RuleSet, r *detect.Rule, evs []*detect.Event) []string {
	ref := detect.RefHunt(rs, evs)
	for i, x := range rs.Rules {
		if x == r {
			var out []string
			for _, h := range ref[i] {
				out = append(out, h.EventID)
			}
			return out
		}
	}
	return nil
}

func checkMeta(t *testing.T, r *detect.Rule) {
	t.Helper()
	var m sigma.Meta
	if r.Detection != nil {
		m = r.Detection.Meta
	} else {
		m = r.Correlation.Meta
	}
	for what, v := range map[string]string{"title": m.Title, "description": m.Description, "author": m.Author, "date": m.Date, "level": m.Level, "status": m.Status} {
		if strings.TrimSpace(v) == "" {
			t.Errorf("%s: no %s", r.File, what)
		}
	}
	if len(m.FalsePositives) == 0 {
		t.Errorf("%s: no falsepositives", r.File)
	}
	tactics, techniques, err := attack.ParseTags(m.Tags)
	if err != nil {
		t.Errorf("%s: tags: %v", r.File, err)
	}
	if len(tactics) == 0 || len(techniques) == 0 {
		t.Errorf("%s: needs at least one ATT&CK tactic and technique tag (has %v)", r.File, m.Tags)
	}
	if r.Detection != nil && (m.Logsource.Product != "aws" || m.Logsource.Service != "cloudtrail") {
		t.Errorf("%s: logsource must be product aws, service cloudtrail", r.File)
	}
}

// TestPackSQL runs the whole pack over all its test events in DuckDB and
// demands the compiled SQL find what the reference matcher finds, rule by
// rule.
func TestPackSQL(t *testing.T) {
	rs, _ := loadPack(t)
	files, _ := filepath.Glob("testdata/*/*.jsonl")
	var recs [][]byte
	seen := map[string]string{}
	for _, f := range files {
		for _, r := range readJSONL(t, f) {
			ev, err := cloudtrail.ParseEvent(r)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if prev, ok := seen[ev.EventID]; ok {
				t.Errorf("eventID %s is in %s and %s: test events need their own ids", ev.EventID, prev, f)
				continue
			}
			seen[ev.EventID] = f
			recs = append(recs, r)
		}
	}
	st := loadStore(t, recs)
	run, err := detect.Hunt(context.Background(), st, rs)
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
		for _, id := range ids {
			got[h.RuleID] = append(got[h.RuleID], h.Group+"|"+id)
		}
	}
	ref := detect.RefHunt(rs, prepare(t, recs))
	for i, r := range rs.Rules {
		if !r.Generate {
			continue
		}
		var want []string
		for _, h := range ref[i] {
			want = append(want, h.Group+"|"+h.EventID)
		}
		sort.Strings(want)
		g := got[r.ID]
		sort.Strings(g)
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s (%s): SQL found %d, the reference %d", r.ID, r.File, len(g), len(want))
		}
	}
	t.Logf("%d rules over %d events in %d passes (%d skipped: their events are absent)", stats.Rules, stats.Events, stats.Passes, stats.Skipped)
}

// TestStratus: every AWS technique of Stratus Red Team is detected by the
// rule the expectation files name, on the events that technique produces.
func TestStratus(t *testing.T) {
	rs, primary := loadPack(t)
	shared, err := rules.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(shared, "stratus-aws.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	expect := map[string][]string{}
	exp, _ := filepath.Glob("testdata/stratus/expected-*.tsv")
	for _, f := range exp {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if cols := strings.Split(line, "\t"); len(cols) >= 2 && !strings.HasPrefix(line, "#") && cols[0] != "technique_id" {
				expect[cols[0]] = append(expect[cols[0]], strings.TrimSpace(cols[1]))
			}
		}
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		id := strings.Split(line, "\t")[0]
		n++
		t.Run(id, func(t *testing.T) {
			evs := prepare(t, readJSONL(t, filepath.Join("testdata/stratus", id+".jsonl")))
			if len(expect[id]) == 0 {
				t.Fatalf("no expected rule for %s in testdata/stratus/expected-*.tsv", id)
			}
			for _, s := range expect[id] {
				r := primary[s]
				if r == nil {
					t.Errorf("expected rule %s is not in the pack", s)
					continue
				}
				if len(fired(rs, r, evs)) == 0 {
					t.Errorf("%s does not fire on %s", s, id)
				}
			}
		})
	}
	if n < 44 {
		t.Errorf("read %d Stratus techniques, expected 44", n)
	}
}

func loadStore(t *testing.T, records [][]byte) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.LoadRecords(ctx, "evidence/test.jsonl", records, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}
