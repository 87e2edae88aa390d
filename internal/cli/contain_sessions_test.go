package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoleSessionsFromEvents: the sessions a revocation cuts off are the
// role's successful AssumeRole* calls, with the IPs that issued and used
// them; a temporary key leads back to its role.
func TestRoleSessionsFromEvents(t *testing.T) {
	dir := t.TempDir()
	assume := func(id, ts, role, session, key, ip, errCode string) string {
		s := `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"` + ts + `","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1",` +
			`"sourceIPAddress":"` + ip + `","recipientAccountId":"111111111111","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accessKeyId":"AKIAAAAAAAAAAAAAAAA1"},`
		if errCode != "" {
			return s + `"errorCode":"` + errCode + `"}`
		}
		return s + `"responseElements":{"credentials":{"accessKeyId":"` + key + `"},"assumedRoleUser":{"arn":"arn:aws:sts::111111111111:assumed-role/` + role + `/` + session + `"}}}`
	}
	use := `{"eventVersion":"1.08","eventID":"u1","eventTime":"2026-03-10T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"203.0.113.50","recipientAccountId":"111111111111","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/Admin/x",` +
		`"accessKeyId":"ASIAXXXXXXXXXXXXXXX1","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111111111111:role/Admin"}}}}`
	lines := []string{
		assume("s1", "2026-03-10T10:00:00Z", "Admin", "x", "ASIAXXXXXXXXXXXXXXX1", "198.51.100.7", ""),
		assume("s2", "2026-03-10T09:00:00Z", "Admin", "y", "ASIAYYYYYYYYYYYYYYY1", "198.51.100.8", ""),
		assume("s3", "2026-03-10T09:30:00Z", "Other", "z", "ASIAZZZZZZZZZZZZZZZ1", "198.51.100.9", ""),
		assume("s4", "2026-03-10T09:40:00Z", "Admin", "", "", "198.51.100.10", "AccessDenied"),
		use,
	}
	src := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(dir, "case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, src); code != 0 {
		t.Fatalf("ingest exit %d\n%s%s", code, out, errOut)
	}
	got, err := roleSessions(context.Background(), caseDir, "Admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasSuffix(got[0].ARN, "/Admin/y") || got[1].AccessKeyID != "ASIAXXXXXXXXXXXXXXX1" ||
		strings.Join(got[1].SourceIPs, ",") != "198.51.100.7,203.0.113.50" || strings.Join(got[0].SourceIPs, ",") != "198.51.100.8" {
		t.Errorf("sessions: %+v", got)
	}
	roles, err := keyRoles(context.Background(), caseDir, "ASIAXXXXXXXXXXXXXXX1")
	if err != nil || strings.Join(roles, ",") != "arn:aws:iam::111111111111:role/Admin" {
		t.Errorf("roles: %v %v", roles, err)
	}
	got, err = keySessions(context.Background(), caseDir, []string{"AKIAAAAAAAAAAAAAAAA1", "AKIANOTINTHECASE0001"})
	if err != nil || len(got) != 3 || !strings.HasSuffix(got[0].ARN, "/Admin/y") || got[1].AccessKeyID != "ASIAZZZZZZZZZZZZZZZ1" ||
		got[0].Event != "AssumeRole by AKIAAAAAAAAAAAAAAAA1" || strings.Join(got[2].SourceIPs, ",") != "198.51.100.7" {
		t.Errorf("the key's sessions: %+v %v", got, err)
	}
	if roles, err := keyRoles(context.Background(), caseDir, "ASIAYYYYYYYYYYYYYYY1"); err != nil || strings.Join(roles, ",") != "arn:aws:iam::111111111111:role/Admin" {
		t.Errorf("roles from the AssumeRole response: %v %v", roles, err)
	}
}
