package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scopeEvents is a small compromise: alice's key assumes Admin, which
// creates a key for a new user; bob's own session of Admin is benign.
var scopeEvents = []string{
	`{"eventVersion":"1.08","eventID":"s1","eventTime":"2026-03-14T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","recipientAccountId":"111111111111","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111","accessKeyId":"AKIALEAKED","userName":"alice"},"requestParameters":{"roleArn":"arn:aws:iam::111111111111:role/Admin","roleSessionName":"x"},"responseElements":{"credentials":{"accessKeyId":"ASIAADMIN"}}}`,
	`{"eventVersion":"1.08","eventID":"s2","eventTime":"2026-03-14T10:01:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","recipientAccountId":"111111111111","readOnly":false,"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/Admin/x","accountId":"111111111111","accessKeyId":"ASIAADMIN"},"requestParameters":{"userName":"svc"},"responseElements":{"accessKey":{"accessKeyId":"AKIANEWKEY","userName":"svc"}}}`,
	`{"eventVersion":"1.08","eventID":"s3","eventTime":"2026-03-14T10:02:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","recipientAccountId":"111111111111","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/svc","accountId":"111111111111","accessKeyId":"AKIANEWKEY","userName":"svc"}}`,
	`{"eventVersion":"1.08","eventID":"s4","eventTime":"2026-03-14T10:03:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.9","recipientAccountId":"111111111111","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/Admin/bob","accountId":"111111111111","accessKeyId":"ASIABOB","userAgent":"<script>alert(1)</script>"}}`,
}

func scopeCaseDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "events.jsonl")
	os.WriteFile(src, []byte(strings.Join(scopeEvents, "\n")+"\n"), 0o644)
	caseDir := filepath.Join(dir, "case")
	if _, errOut, code := harrier(t, "ingest", "--case", caseDir, src); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	return caseDir
}

func TestScopeCommand(t *testing.T) {
	caseDir := scopeCaseDir(t)
	out, errOut, code := harrier(t, "scope", "--case", caseDir, "--key", "AKIALEAKED", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	keys := rep["access_key_ids"].([]any)
	if len(keys) != 3 || strings.Contains(out, "ASIABOB") {
		t.Errorf("keys %v (bob's session of the same role must stay out)", keys)
	}
	if rep["event_count"].(float64) != 3 || rep["first_seen"] != "2026-03-14T10:00:00Z" || rep["last_seen"] != "2026-03-14T10:02:00Z" {
		t.Errorf("count %v first %v last %v", rep["event_count"], rep["first_seen"], rep["last_seen"])
	}
	// text, and both graph formats
	svg := filepath.Join(t.TempDir(), "scope.svg")
	dot := filepath.Join(t.TempDir(), "scope.dot")
	out, _, code = harrier(t, "scope", "--case", caseDir, "--key", "AKIALEAKED", "--graph", svg)
	if code != 0 || !strings.Contains(out, "CreateAccessKey by ASIAADMIN") || !strings.Contains(out, "drawn in "+svg) {
		t.Errorf("text scope: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(svg)
	if err != nil || xml.Unmarshal(b, new(struct{})) != nil || !strings.Contains(string(b), "AKIANEWKEY") {
		t.Errorf("svg: %v", err)
	}
	if _, _, code = harrier(t, "scope", "--case", caseDir, "--key", "AKIALEAKED", "--graph", dot); code != 0 {
		t.Errorf("dot exit %d", code)
	}
	if b, _ := os.ReadFile(dot); !strings.HasPrefix(string(b), "digraph") || !strings.Contains(string(b), "CreateAccessKey") {
		t.Errorf("dot:\n%s", b)
	}
	// timeline --scope lists exactly the scoped events
	out, _, code = harrier(t, "timeline", "--case", caseDir, "--scope", "key:AKIALEAKED", "--format", "jsonl")
	if code != 0 || strings.Count(out, "\n") != 3 || strings.Contains(out, `"s4"`) {
		t.Errorf("timeline --scope: exit %d\n%s", code, out)
	}
	out, _, _ = harrier(t, "timeline", "--case", caseDir, "--scope", "key:AKIALEAKED", "--since", "2026-03-14T10:01:00Z", "--format", "jsonl")
	if strings.Count(out, "\n") != 0 {
		t.Errorf("with --since after the AssumeRole nothing follows the key:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scope", "--case", caseDir}, ExitUsage, "one indicator"},
		{[]string{"scope", "--case", caseDir, "--key", "AKIAEXAMPLEKEY00", "--ip", "1.2.3.4"}, ExitUsage, "one indicator"},
		{[]string{"scope", "--case", caseDir, "--ip", "nope"}, ExitUsage, "not an IP"},
		{[]string{"scope", "--case", caseDir, "--key", "AKIAEXAMPLEKEY00", "--graph", "x.png"}, ExitUsage, ".svg or a .dot"},
		{[]string{"scope", "--case", caseDir, "--ip", "192.0.2.99"}, ExitError, "matches no event"},
		{[]string{"scope", "--case", caseDir, "--key", "AKIANOPE"}, ExitError, "matches no event"},
		{[]string{"timeline", "--case", caseDir, "--scope", "token:x"}, ExitUsage, "key, principal or ip"},
	} {
		out, errOut, code := harrier(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}

// TestScopeGolden scopes the simulated attack's leaked key from the day of
// the attack and compares the credential chain and inventory with a golden
// file. Run with -update after a deliberate change.
func TestScopeGolden(t *testing.T) {
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
	q, _, _ := harrier(t, "query", "--case", caseDir, "--format", "csv", "SELECT access_key_id FROM events WHERE user_agent LIKE '%kali%' AND access_key_id LIKE 'AKIA%' GROUP BY 1 ORDER BY min(event_time) LIMIT 1")
	key := strings.TrimSpace(strings.Split(strings.TrimSpace(q), "\n")[1])
	out, errOut, code := harrier(t, "scope", "--case", caseDir, "--key", key, "--since", "2026-03-14", "--format", "json")
	if code != 0 {
		t.Fatalf("scope exit %d: %s", code, errOut)
	}
	var rep struct {
		Credentials []struct {
			AccessKeyID     string `json:"access_key_id"`
			Kind, Principal string
			ObtainedBy      *struct{ From, How, Time string } `json:"obtained_by"`
			Events          int64
		}
		SourceIPs []struct {
			IP     string
			Events int64
		} `json:"source_ips"`
		ResourcesChanged []struct{ Kind, Action, Name, Time string } `json:"resources_changed"`
		DataAccess       []struct {
			Service, Container       string
			Objects, Requests, Bytes int64
		} `json:"data_access"`
		EventCount      int64  `json:"event_count"`
		WriteEventCount int64  `json:"write_event_count"`
		FirstSeen       string `json:"first_seen"`
		LastSeen        string `json:"last_seen"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	golden(t, "scope.golden.json", string(b)+"\n")
}
