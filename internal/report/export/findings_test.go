package export

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
)

func at(h int) time.Time { return time.Date(2026, 3, 14, h, 0, 0, 0, time.UTC) }

// testFindings are findings as detect.Findings returns them: most severe
// first, two of one rule, one with hostile text, one with nothing known.
var testFindings = []detect.Stored{
	{ID: 3, HuntID: 1, RuleSource: "builtin", Finding: detect.Finding{RuleID: "harrier.cloudtrail.stop-logging", Title: "CloudTrail logging stopped",
		Severity: detect.Critical, Techniques: []string{"T1562.008"}, Tactics: []string{"defense-evasion"},
		Principal: "arn:aws:iam::222222222222:user/ci", AccessKeyIDs: []string{"AKIACI"}, SourceIPs: []string{"2001:db8::5"},
		Accounts: []string{"222222222222"}, Regions: []string{"us-west-2"}, EventIDs: []string{"ev-05"},
		FirstSeen: at(9), LastSeen: at(9), Count: 1, Description: "A trail was stopped: the attacker blinds the logs."}},
	{ID: 1, HuntID: 1, RuleSource: "builtin", Finding: detect.Finding{RuleID: "harrier.iam.access-key-created", Title: "Access key created for another user",
		Severity: detect.High, Techniques: []string{"T1098.001"}, Tactics: []string{"persistence", "privilege-escalation"},
		Principal: "arn:aws:iam::111111111111:user/alice", AccessKeyIDs: []string{"AKIAALICE"}, SourceIPs: []string{"=cmd|' /C calc'!A0"},
		Accounts: []string{"111111111111"}, Regions: []string{"us-east-1"}, EventIDs: []string{"ev-02"},
		FirstSeen: at(10), LastSeen: at(11), Count: 2, Description: "Persistence <script>alert(1)</script> \"quoted\""}},
	{ID: 2, HuntID: 1, RuleSource: "builtin", Finding: detect.Finding{RuleID: "harrier.iam.access-key-created", Title: "Access key created for another user",
		Severity: detect.High, Techniques: []string{"T1098.001"}, Tactics: []string{"persistence", "privilege-escalation"},
		Principal: "arn:aws:sts::111111111111:assumed-role/Admin/mallory\u202e", Accounts: []string{"111111111111"},
		FirstSeen: at(12), LastSeen: at(12), Count: 1}},
	{ID: 4, HuntID: 1, RuleSource: "analytics", Finding: detect.Finding{RuleID: "harrier.analytics.new-region", Severity: detect.Informational}},
}

func TestFindingsJSONL(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFindingsJSONL(&buf, testFindings); err != nil {
		t.Fatal(err)
	}
	golden(t, "findings.jsonl", buf.String())
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(testFindings) {
		t.Fatalf("%d lines for %d findings", len(lines), len(testFindings))
	}
	// hunt --format jsonl's keys, plus the case's own
	var want []string
	b, _ := json.Marshal(detect.Finding{})
	var m map[string]any
	json.Unmarshal(b, &m)
	for k := range m {
		want = append(want, k)
	}
	want = append(want, "finding_id", "hunt_id", "rule_source")
	for i, l := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("line %d has %d keys, want %d: %s", i+1, len(got), len(want), l)
		}
		for _, k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("line %d lacks %s", i+1, k)
			}
		}
		if strings.Contains(l, "null") {
			t.Errorf("line %d has a null list: %s", i+1, l)
		}
		var back detect.Stored
		json.Unmarshal([]byte(l), &back)
		if !reflect.DeepEqual(back, cleanStored(testFindings[i])) {
			t.Errorf("line %d decodes to\n%+v\nwant\n%+v", i+1, back, testFindings[i])
		}
	}
}

// TestSARIF checks the log against what the SARIF 2.1.0 schema requires,
// and what code-scanning dashboards read.
func TestSARIF(t *testing.T) {
	cases := []struct {
		name     string
		findings []detect.Stored
		rules    int
	}{
		{"findings", testFindings, 3},
		{"none", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSARIF(&buf, c.findings, Tool{Version: "1.2.3", InformationURI: "https://github.com/harrier-ir/harrier"}); err != nil {
				t.Fatal(err)
			}
			if c.name == "findings" {
				golden(t, "findings.sarif", buf.String())
			}
			var log map[string]any
			if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			checkSARIF(t, log, len(c.findings), c.rules)
		})
	}
}

// checkSARIF asserts the schema's required properties (sarifLog: version,
// runs; run: tool; tool: driver; toolComponent: name; reportingDescriptor:
// id; result: message with text; multiformatMessageString: text) and the
// enumerations harrier uses.
func checkSARIF(t *testing.T, log map[string]any, results, rules int) {
	t.Helper()
	if log["version"] != "2.1.0" || log["$schema"] != SARIFSchema {
		t.Errorf("version %v, $schema %v", log["version"], log["$schema"])
	}
	runs, _ := log["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "harrier" {
		t.Errorf("tool.driver.name %v", driver["name"])
	}
	rs, ok := driver["rules"].([]any)
	if !ok || len(rs) != rules {
		t.Fatalf("%d rules, want %d", len(rs), rules)
	}
	ids := map[string]int{}
	for i, r := range rs {
		r := r.(map[string]any)
		id, _ := r["id"].(string)
		if id == "" {
			t.Errorf("rule %d has no id", i)
		}
		ids[id] = i
		for _, k := range []string{"shortDescription", "help"} {
			if s, _ := r[k].(map[string]any)["text"].(string); s == "" {
				t.Errorf("rule %s: %s.text missing", id, k)
			}
		}
		props := r["properties"].(map[string]any)
		if _, ok := props["tags"].([]any); !ok {
			t.Errorf("rule %s: no tags", id)
		}
		if s, _ := props["security-severity"].(string); s == "" {
			t.Errorf("rule %s: no security-severity", id)
		}
	}
	res, ok := run["results"].([]any)
	if !ok || len(res) != results {
		t.Fatalf("%d results, want %d", len(res), results)
	}
	for i, r := range res {
		r := r.(map[string]any)
		if text, _ := r["message"].(map[string]any)["text"].(string); text == "" {
			t.Errorf("result %d: message.text missing", i)
		}
		switch r["level"] {
		case "none", "note", "warning", "error":
		default:
			t.Errorf("result %d: level %v", i, r["level"])
		}
		id := r["ruleId"].(string)
		if idx, ok := ids[id]; !ok || int(r["ruleIndex"].(float64)) != idx {
			t.Errorf("result %d: ruleId %s, ruleIndex %v", i, id, r["ruleIndex"])
		}
		locs := r["locations"].([]any)
		if len(locs) == 0 || len(locs[0].(map[string]any)["logicalLocations"].([]any)) == 0 {
			t.Errorf("result %d has no logical location", i)
		}
	}
}

func TestSARIFLevels(t *testing.T) {
	cases := []struct {
		sev          detect.Severity
		level, score string
	}{
		{detect.Critical, "error", "9.5"},
		{detect.High, "error", "8.0"},
		{detect.Medium, "warning", "5.5"},
		{detect.Low, "note", "3.0"},
		{detect.Informational, "note", "0.0"},
	}
	for _, c := range cases {
		t.Run(string(c.sev), func(t *testing.T) {
			if l, s := SARIFLevel(c.sev), SecuritySeverity(c.sev); l != c.level || s != c.score {
				t.Errorf("%s: %s %s, want %s %s", c.sev, l, s, c.level, c.score)
			}
		})
	}
	if u := TechniqueURL("T1098.001"); u != "https://attack.mitre.org/techniques/T1098/001/" {
		t.Error(u)
	}
}
