package attack

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/coverage.golden.*")

// fixture is a small catalogue whose shape the placement tests can see whole.
const fixture = `# id	name	tactics	scope
T1059	Command and Scripting Interpreter	execution	iaas
T1059.004	Command and Scripting Interpreter: Unix Shell	execution	-
T1078	Valid Accounts	initial-access,persistence,privilege-escalation,defense-evasion	iaas
T1078.004	Valid Accounts: Cloud Accounts	initial-access,persistence,privilege-escalation,defense-evasion	iaas
T1098	Account Manipulation	persistence,privilege-escalation	iaas
T1098.001	Account Manipulation: Additional Cloud Credentials	persistence,privilege-escalation	iaas
T1212	Exploitation for Credential Access	credential-access	aws
T1595	Active Scanning	reconnaissance	-
`

func fixtureCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := parseCatalog(strings.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cells flattens a Coverage to "tactic technique rule,rule" lines and its
// gaps to "tactic technique -", in matrix then id order.
func cells(cov *Coverage) []string {
	var out []string
	for _, col := range cov.Tactics {
		for _, te := range col.Techniques {
			if te.Count != len(te.Rules) {
				out = append(out, "count mismatch "+te.ID)
			}
			out = append(out, col.ShortName+" "+te.ID+" "+strings.Join(te.Rules, ","))
		}
		for _, te := range col.Uncovered {
			out = append(out, col.ShortName+" "+te.ID+" -")
		}
	}
	return out
}

func TestCoveragePlacement(t *testing.T) {
	c := fixtureCatalog(t)
	gapsBut := func(covered ...string) []string {
		all := []string{
			"initial-access T1078 -", "initial-access T1078.004 -",
			"execution T1059 -",
			"persistence T1078 -", "persistence T1078.004 -", "persistence T1098 -", "persistence T1098.001 -",
			"privilege-escalation T1078 -", "privilege-escalation T1078.004 -", "privilege-escalation T1098 -", "privilege-escalation T1098.001 -",
			"defense-evasion T1078 -", "defense-evasion T1078.004 -",
			"credential-access T1212 -",
		}
		return slices.DeleteFunc(all, func(s string) bool {
			return slices.Contains(covered, strings.TrimSuffix(s, " -"))
		})
	}
	tests := []struct {
		name    string
		items   []Item
		want    []string // covered cells
		gaps    []string
		covered int
	}{
		{
			name:  "no rules: every cloud technique is a gap, non-cloud ones are not",
			items: nil,
			gaps:  gapsBut(),
		},
		{
			name:    "tagged with one of the technique's tactics: only there",
			items:   []Item{{ID: "r1", Techniques: []string{"T1078.004"}, Tactics: []string{"initial-access"}}},
			want:    []string{"initial-access T1078.004 r1"},
			gaps:    gapsBut("initial-access T1078.004"),
			covered: 1,
		},
		{
			name:    "tagged with two of them: both",
			items:   []Item{{ID: "r1", Techniques: []string{"T1098.001"}, Tactics: []string{"privilege-escalation", "persistence"}}},
			want:    []string{"persistence T1098.001 r1", "privilege-escalation T1098.001 r1"},
			gaps:    gapsBut("persistence T1098.001", "privilege-escalation T1098.001"),
			covered: 1,
		},
		{
			name:  "tagged with none of them: all of the technique's tactics",
			items: []Item{{ID: "r1", Techniques: []string{"T1078.004"}, Tactics: []string{"execution"}}},
			want: []string{
				"initial-access T1078.004 r1", "persistence T1078.004 r1",
				"privilege-escalation T1078.004 r1", "defense-evasion T1078.004 r1",
			},
			gaps:    gapsBut("initial-access T1078.004", "persistence T1078.004", "privilege-escalation T1078.004", "defense-evasion T1078.004"),
			covered: 1,
		},
		{
			name:    "no tactic tags at all: all of the technique's tactics",
			items:   []Item{{ID: "r1", Techniques: []string{"T1098"}}},
			want:    []string{"persistence T1098 r1", "privilege-escalation T1098 r1"},
			gaps:    gapsBut("persistence T1098", "privilege-escalation T1098"),
			covered: 1,
		},
		{
			name: "each technique placed by the rule's tags on its own",
			items: []Item{{
				ID: "r1", Techniques: []string{"T1059", "T1098.001"},
				Tactics: []string{"execution", "persistence"},
			}},
			want:    []string{"execution T1059 r1", "persistence T1098.001 r1"},
			gaps:    gapsBut("execution T1059", "persistence T1098.001"),
			covered: 2,
		},
		{
			name: "rules sorted and counted once; ids in any case",
			items: []Item{
				{ID: "r2", Techniques: []string{"t1212"}, Tactics: []string{"Credential-Access"}},
				{ID: "r1", Techniques: []string{"T1212", "T1212"}},
				{ID: "r2", Techniques: []string{"T1212"}},
			},
			want:    []string{"credential-access T1212 r1,r2"},
			gaps:    gapsBut("credential-access T1212"),
			covered: 1,
		},
		{
			name: "non-cloud techniques shown but not counted; tactic-only rules cover nothing",
			items: []Item{
				{ID: "r1", Techniques: []string{"T1059.004", "T1595"}},
				{ID: "r2", Tactics: []string{"impact"}},
			},
			want: []string{"reconnaissance T1595 r1", "execution T1059.004 r1"},
			gaps: gapsBut(),
		},
		{
			name:    "a sub-technique does not cover its parent",
			items:   []Item{{ID: "r1", Techniques: []string{"T1098.001"}, Tactics: []string{"persistence"}}},
			want:    []string{"persistence T1098.001 r1"},
			gaps:    gapsBut("persistence T1098.001"),
			covered: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cov, err := c.Coverage(tc.items)
			if err != nil {
				t.Fatal(err)
			}
			var got, gaps []string
			for _, cell := range cells(cov) {
				if strings.HasSuffix(cell, " -") {
					gaps = append(gaps, cell)
				} else {
					got = append(got, cell)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("covered cells\n got %q\nwant %q", got, tc.want)
			}
			if !slices.Equal(gaps, tc.gaps) {
				t.Errorf("gaps\n got %q\nwant %q", gaps, tc.gaps)
			}
			if cov.Covered != tc.covered || cov.Total != 6 {
				t.Errorf("covered %d of %d, want %d of 6", cov.Covered, cov.Total, tc.covered)
			}
			if len(cov.Tactics) != 14 {
				t.Errorf("%d tactic columns, want all 14", len(cov.Tactics))
			}
		})
	}
}

func TestCoverageErrors(t *testing.T) {
	c := fixtureCatalog(t)
	tests := []struct {
		name  string
		items []Item
		is    error
		msg   string
	}{
		{"unknown technique", []Item{{ID: "aws-1", Title: "Root login", Techniques: []string{"T1530"}}}, ErrUnknownTechnique, `rule aws-1 ("Root login")`},
		{"unknown tactic", []Item{{ID: "aws-2", Title: "X", Tactics: []string{"persistance"}}}, ErrUnknownTactic, `"persistance"`},
		{"no id", []Item{{ID: "ok"}, {Title: "Nameless"}}, nil, `rule 2 ("Nameless"): no id`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cov, err := c.Coverage(tc.items)
			if err == nil {
				t.Fatalf("no error; got %+v", cov)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

// The enterprise matrix for a handful of rules, rendered both ways, against
// testdata/coverage.golden.{txt,json}; -update rewrites them.
func TestCoverageGolden(t *testing.T) {
	rules := []struct {
		id, title string
		tags      []string
	}{
		{"aws-cloudtrail-stopped", "CloudTrail logging stopped", []string{"attack.defense-evasion", "attack.t1562.008"}},
		{"aws-iam-access-key-created", "Access key created for another user", []string{"attack.persistence", "attack.privilege-escalation", "attack.t1098.001"}},
		{"aws-console-login-no-mfa", "Console login without MFA", []string{"attack.initial-access", "attack.t1078.004", "detection.threat-hunting"}},
		{"aws-s3-bulk-get", "Bulk S3 object reads", []string{"attack.collection", "attack.t1530"}},
		{"aws-snapshot-shared", "EBS snapshot shared externally", []string{"attack.exfiltration", "attack.t1537", "attack.t1578.001"}},
		{"aws-ssm-send-command", "SSM SendCommand to many instances", []string{"attack.execution", "attack.t1651", "attack.t1059.004"}},
		{"aws-trail-deleted", "CloudTrail trail deleted", []string{"attack.defense-evasion", "attack.t1562.008", "cve.2099-0001"}},
	}
	var items []Item
	for _, r := range rules {
		tactics, techniques, err := ParseTags(r.tags)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, Item{ID: r.id, Title: r.title, Techniques: techniques, Tactics: tactics})
	}
	cov, err := Enterprise().Coverage(items)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := cov.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(cov, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')

	if !strings.HasSuffix(text.String(), "\ncovered 7 of 112 cloud techniques across 7 tactics\n") {
		t.Errorf("closing line wrong:\n%s", text.String())
	}
	for name, got := range map[string][]byte{"coverage.golden.txt": text.Bytes(), "coverage.golden.json": js} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the output (go test -update rewrites it); got:\n%s", path, got)
		}
	}

	// The JSON keys are --format json's interface.
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	col := doc["tactics"].([]any)[6].(map[string]any)
	te := col["techniques"].([]any)[0].(map[string]any)
	gap := col["uncovered"].([]any)[0].(map[string]any)
	got := []string{keys(doc), keys(col), keys(te), keys(gap)}
	want := []string{"covered,tactics,total", "id,name,short_name,techniques,uncovered", "count,id,name,rules", "id,name"}
	if !slices.Equal(got, want) {
		t.Errorf("JSON keys %q, want %q", got, want)
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriteTextError(t *testing.T) {
	cov, err := fixtureCatalog(t).Coverage(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cov.WriteText(&failWriter{n: 3}); err == nil || err.Error() != "disk full" {
		t.Errorf("error %v, want the writer's", err)
	}
}
