package detect

import (
	"context"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// TestHuntSurvivesABrokenRule: a rule whose SQL DuckDB refuses is reported
// with its file and line and left out, as is a correlation over it; every
// other rule of its batch still runs.
func TestHuntSurvivesABrokenRule(t *testing.T) {
	c, err := sigma.Parse("r.yml", []byte(`title: good
id: good
name: good
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: bad
id: bad
name: bad
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: also good
id: good2
logsource: {product: aws, service: cloudtrail}
detection: {sel: {userAgent|contains: boto3}, condition: sel}
---
title: over bad
id: corr
correlation: {type: event_count, rules: [bad], timespan: 1h, condition: {gte: 1}}
generate: true
`), sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Build(c, func(string) string { return "test" })
	if err != nil {
		t.Fatal(err)
	}
	// a predicate the parser would refuse, planted to make DuckDB fail
	rs.Find("bad").Expr = &sigma.Match{Field: "eventName", Op: sigma.OpRegex, Regex: "(", Line: 5}
	var recs [][]byte
	for _, s := range diffEvents {
		recs = append(recs, []byte(s))
	}
	st := loadStore(t, recs)
	run, err := Hunt(context.Background(), st, rs)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	got := map[string]int64{}
	for _, h := range run.Hits {
		got[h.RuleID] += h.Count
	}
	if got["good"] != 2 || got["good2"] != 1 || got["bad"] != 0 || got["corr"] != 0 {
		t.Errorf("findings by rule %v", got)
	}
	if len(run.Problems) != 2 || !strings.Contains(run.Problems[0].Error(), "r.yml:7: rule bad did not run") ||
		!strings.Contains(run.Problems[1].Error(), "correlates bad, which did not run") {
		t.Errorf("problems %v", run.Problems)
	}
}

func TestBuildLenient(t *testing.T) {
	c, err := sigma.Parse("r.yml", []byte(`title: a
id: same
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: A}, condition: sel}
---
title: b
id: same
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: B}, condition: sel}
---
title: c
id: c
correlation: {type: event_count, rules: [missing], timespan: 1h, condition: {gte: 1}}
---
title: d
id: d
correlation: {type: event_count, rules: [c], timespan: 1h, condition: {gte: 1}}
---
title: f
logsource: {product: aws}
filter: {rules: [nothing], sel: {eventName: A}, condition: not sel}
`), sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, problems := BuildLenient(c, func(string) string { return "test" })
	if len(rs.Rules) != 1 || rs.Rules[0].Title != "a" {
		t.Errorf("kept %d rules", len(rs.Rules))
	}
	want := []string{"also used by r.yml:1", `refers to rule "missing"`, `refers to rule "c"`, "applies to no loaded rule"}
	if len(problems) != len(want) {
		t.Fatalf("problems %v", problems)
	}
	for i, w := range want {
		if !strings.Contains(problems[i].Error(), w) {
			t.Errorf("problem %d %q lacks %q", i, problems[i], w)
		}
	}
	if _, err := Build(c, func(string) string { return "test" }); err == nil {
		t.Error("Build accepted what BuildLenient had to leave out")
	}
}
