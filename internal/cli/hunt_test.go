package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var findingKeys = []string{"access_key_ids", "accounts", "count", "description", "event_ids", "first_seen", "last_seen",
	"principal", "regions", "rule_id", "severity", "source_ips", "tactics", "techniques", "title"}

func decodeFindings(t *testing.T, out string) []map[string]any {
	t.Helper()
	var list []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		list = append(list, m)
	}
	return list
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const ruleCreateUser = `title: User created (test)
id: 5f0c8a51-0d7e-4c39-9a6a-6d1f3b2f7e01
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventSource: iam.amazonaws.com
        eventName: CreateUser
    condition: selection
tags: [attack.persistence, attack.t1136.003]
falsepositives: [admins]
level: high
`

func TestHuntJSONL(t *testing.T) {
	caseDir := craftedCase(t)
	rulesDir := t.TempDir()
	writeFiles(t, rulesDir, map[string]string{"create_user.yml": ruleCreateUser})
	out, errOut, code := harrier(t, "hunt", "--case", caseDir, "--rules", rulesDir, "--no-analytics", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	list := decodeFindings(t, out)
	if len(list) == 0 {
		t.Fatal("no findings")
	}
	var mine map[string]any
	for _, f := range list {
		keys := make([]string, 0, len(f))
		for k := range f {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !reflect.DeepEqual(keys, findingKeys) {
			t.Errorf("keys %v, want exactly %v", keys, findingKeys)
		}
		if f["rule_id"] == "5f0c8a51-0d7e-4c39-9a6a-6d1f3b2f7e01" {
			mine = f
		}
	}
	if mine == nil {
		t.Fatalf("the --rules rule made no finding: %s", out)
	}
	want := map[string]any{"severity": "high", "principal": "arn:aws:sts::111111111111:assumed-role/Admin/x", "count": 1.0,
		"first_seen": "2026-03-12T10:00:02Z", "techniques": []any{"T1136.003"}, "tactics": []any{"persistence"},
		"access_key_ids": []any{"ASIABBBBBBBBBBBBBBB1"}, "source_ips": []any{"203.0.113.10"}, "event_ids": []any{"b1"},
		"accounts": []any{"111111111111"}, "regions": []any{"us-east-1"}}
	for k, v := range want {
		if !reflect.DeepEqual(mine[k], v) {
			t.Errorf("%s = %v, want %v", k, mine[k], v)
		}
	}
	// most severe first
	rank := map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1, "informational": 0}
	for i := 1; i < len(list); i++ {
		if rank[list[i]["severity"].(string)] > rank[list[i-1]["severity"].(string)] {
			t.Errorf("finding %d is more severe than the one before it", i)
		}
	}
	// stored in the case, with every event behind each finding
	q, _, code := harrier(t, "query", "--case", caseDir, "--format", "json",
		"SELECT count(*) AS n, (SELECT count(*) FROM finding_events) AS ev, (SELECT count(*) FROM hunts) AS hunts FROM findings")
	if code != 0 {
		t.Fatalf("query exit %d", code)
	}
	var rows []map[string]any
	json.Unmarshal([]byte(q), &rows)
	if len(rows) != 1 || int(rows[0]["n"].(float64)) != len(list) || rows[0]["ev"].(float64) < float64(len(list)) || rows[0]["hunts"].(float64) != 1 {
		t.Errorf("case holds %v for %d findings", rows, len(list))
	}
	// a second hunt replaces the findings, and adds a hunt
	harrier(t, "hunt", "--case", caseDir, "--no-analytics", "--format", "jsonl")
	q, _, _ = harrier(t, "query", "--case", caseDir, "--format", "json", "SELECT (SELECT count(*) FROM hunts) AS hunts, (SELECT count(*) FROM findings WHERE rule_id = '5f0c8a51-0d7e-4c39-9a6a-6d1f3b2f7e01') AS mine")
	json.Unmarshal([]byte(q), &rows)
	if rows[0]["hunts"].(float64) != 2 || rows[0]["mine"].(float64) != 0 {
		t.Errorf("after a second hunt without --rules: %v", rows)
	}
}

func TestHuntRuleProblemsAndFilters(t *testing.T) {
	caseDir := craftedCase(t)
	rulesDir := t.TempDir()
	writeFiles(t, rulesDir, map[string]string{
		"create_user.yml": ruleCreateUser,
		"broken.yml":      "title: broken\ndetection:\n    sel:\n        eventName|bogus: x\n    condition: sel\n",
		"old.yml":         "title: old\nlogsource: {product: aws}\ndetection:\n    sel: {eventName: x}\n    condition: sel | count() > 5\n",
		"other.yml":       "title: windows\nid: w\nlogsource: {product: windows}\ndetection: {sel: {Image: x}, condition: sel}\n",
	})
	out, errOut, code := harrier(t, "hunt", "--case", caseDir, "--rules", rulesDir, "--no-builtin", "--no-analytics", "--format", "jsonl")
	if code != ExitPartial {
		t.Errorf("exit %d, want %d (rules that did not load)", code, ExitPartial)
	}
	for _, want := range []string{"broken.yml:4:9: unknown modifier \"bogus\"", "old.yml:5:16:", "Sigma v1 aggregation"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if len(decodeFindings(t, out)) != 1 {
		t.Errorf("want the one good rule's finding, got:\n%s", out)
	}
	// a filter suppresses the known-good admin role
	filterDir := t.TempDir()
	writeFiles(t, filterDir, map[string]string{"admin.yml": `title: our admin role
logsource: {product: aws, service: cloudtrail}
filter:
    rules: [5f0c8a51-0d7e-4c39-9a6a-6d1f3b2f7e01]
    selection:
        userIdentity.sessionContext.sessionIssuer.arn: arn:aws:iam::111111111111:role/Admin
    condition: not selection
`, "create_user.yml": ruleCreateUser})
	out, errOut, code = harrier(t, "hunt", "--case", caseDir, "--rules", filterDir, "--no-builtin", "--no-analytics", "--format", "jsonl")
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("filtered hunt: exit %d, output %q %s", code, out, errOut)
	}
	// bad flags
	if _, _, code := harrier(t, "hunt", "--case", caseDir, "--min-severity", "severe"); code != ExitUsage {
		t.Errorf("--min-severity severe: exit %d", code)
	}
	if _, _, code := harrier(t, "hunt", "--case", caseDir, "--no-builtin"); code != ExitUsage {
		t.Errorf("--no-builtin alone: exit %d", code)
	}
}

func TestHuntTableEscapes(t *testing.T) {
	dir := t.TempDir()
	hostile := ev{id: "h1", name: "CreateUser", source: "iam.amazonaws.com", key: "AKIAHHHHHHHHHHHHHHH1", arn: "arn:aws:iam::111111111111:user/\x1b]0;pwned\x07", ip: "203.0.113.66", account: "111111111111", region: "us-east-1", ua: "<script>", sec: 5}
	src := filepath.Join(dir, "h.jsonl")
	os.WriteFile(src, []byte(hostile.json()+"\n"), 0o644)
	caseDir := filepath.Join(dir, "case")
	harrier(t, "ingest", "--case", caseDir, src)
	rulesDir := t.TempDir()
	writeFiles(t, rulesDir, map[string]string{"create_user.yml": ruleCreateUser})
	out, errOut, code := harrier(t, "hunt", "--case", caseDir, "--rules", rulesDir, "--no-builtin", "--no-analytics")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the terminal:\n%q", out)
	}
	for _, want := range []string{"HIGH", "User created (test)", `\x1b]0;pwned\a`, "203.0.113.66", "T1136.003", "1 findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestRulesCommands(t *testing.T) {
	out, _, code := harrier(t, "rules", "list", "--format", "json")
	if code != 0 {
		t.Fatalf("rules list exit %d", code)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) < 100 {
		t.Fatalf("rules list gave %d rules (%v)", len(list), err)
	}
	id := list[0]["id"].(string)
	out, _, code = harrier(t, "rules", "show", id)
	if code != 0 || !strings.Contains(out, "id: "+id) || !(strings.Contains(out, "compiled to DuckDB SQL") || strings.Contains(out, "correlates")) {
		t.Errorf("rules show %s: exit %d\n%s", id, code, out)
	}
	if _, _, code := harrier(t, "rules", "show", "no-such-rule"); code != ExitUsage {
		t.Errorf("rules show unknown: exit %d", code)
	}
	out, _, code = harrier(t, "rules", "coverage")
	if code != 0 || !strings.Contains(out, "covered") || !strings.Contains(out, "T1098") {
		t.Errorf("rules coverage: exit %d\n%s", code, out)
	}
	// rules test: one rule that passes its tests, then a broken test
	dir := t.TempDir()
	tp := ev{id: "t1", name: "CreateUser", source: "iam.amazonaws.com", arn: "arn:aws:iam::1:user/a", account: "1", region: "us-east-1", sec: 1}.json()
	tn := ev{id: "t2", name: "CreateRole", source: "iam.amazonaws.com", arn: "arn:aws:iam::1:user/a", account: "1", region: "us-east-1", sec: 2}.json()
	writeFiles(t, dir, map[string]string{
		"create_user.yml":                 ruleCreateUser,
		"testdata/create_user/tp_1.jsonl": tp + "\n",
		"testdata/create_user/tn_1.jsonl": tn + "\n",
	})
	out, _, code = harrier(t, "rules", "test", dir)
	if code != 0 || !strings.Contains(out, "1 rule files, 0 failed") {
		t.Errorf("rules test: exit %d\n%s", code, out)
	}
	writeFiles(t, dir, map[string]string{"testdata/create_user/tn_2.jsonl": tp + "\n"})
	out, _, code = harrier(t, "rules", "test", dir)
	if code != ExitError || !strings.Contains(out, "tn_2.jsonl: fires") {
		t.Errorf("rules test with a firing near miss: exit %d\n%s", code, out)
	}
}

// TestHuntGolden hunts a simulated case (rules and analytics) and compares
// the findings with a golden file: severity, rule, principal, count and
// times, one per line. Run with -update after a deliberate change.
func TestHuntGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a week of activity")
	}
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if _, errOut, code := harrier(t, "simulate", "--out", evidence, "--seed", "7"); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	caseDir := filepath.Join(dir, "case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, evidence); code != 0 {
		t.Fatalf("ingest exit %d: %s%s", code, out, errOut)
	}
	out, errOut, code := harrier(t, "hunt", "--case", caseDir, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("hunt exit %d: %s", code, errOut)
	}
	var b strings.Builder
	for _, f := range decodeFindings(t, out) {
		b.WriteString(strings.Join([]string{f["severity"].(string), f["rule_id"].(string), f["title"].(string), f["principal"].(string),
			jsonText(f["count"]), f["first_seen"].(string), f["last_seen"].(string), jsonText(f["techniques"])}, " | "))
		b.WriteString("\n")
	}
	golden(t, "hunt.golden.txt", b.String())
	again, _, _ := harrier(t, "hunt", "--case", caseDir, "--format", "jsonl")
	if again != out {
		t.Error("a second hunt of the same case gave different findings")
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
