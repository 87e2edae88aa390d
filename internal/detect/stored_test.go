package detect

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/sigma"
)

func TestFindingsReadBack(t *testing.T) {
	ctx := context.Background()
	var records [][]byte
	for i := 0; i < 5; i++ {
		records = append(records, []byte(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"e%d","eventTime":"2026-03-0%dT10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE"},"recipientAccountId":"111122223333"}`, i, 5-i)))
	}
	st := loadStore(t, records)
	if _, err := Findings(ctx, st, 0); !errors.Is(err, ErrNoHunt) {
		t.Fatalf("Findings before a hunt = %v, want ErrNoHunt", err)
	}
	rs, err := Build(&sigma.Collection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := Hunt(ctx, st, rs)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	low := FromFinding(Finding{RuleID: "low-rule", Title: "Low", Severity: Low, Principal: "p", EventIDs: []string{"e1"}, FirstSeen: t0, LastSeen: t0, Count: 1})
	high := FromFinding(Finding{RuleID: "high-rule", Title: "High", Severity: High, Techniques: []string{"T1098"}, Tactics: []string{"persistence"},
		Principal: "arn:aws:iam::111122223333:user/dev", AccessKeyIDs: []string{"AKIAEXAMPLE"}, SourceIPs: []string{"203.0.113.9"},
		Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, FirstSeen: t0, LastSeen: t0.Add(4 * 24 * time.Hour), Count: 5})
	high.AllIDs = []string{"e0", "e1", "e2", "e3", "e4"}
	if _, err := run.Save(ctx, HuntInfo{Started: t0, Finished: t0}, []Hit{low, high}); err != nil {
		t.Fatal(err)
	}
	got, err := Findings(ctx, st, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RuleID != "high-rule" || got[1].RuleID != "low-rule" {
		t.Fatalf("Findings order = %+v", got)
	}
	h := got[0]
	// events in time order: e4 is the earliest (2026-03-01)
	if fmt.Sprint(h.EventIDs) != "[e4 e3]" || h.Count != 5 || h.Techniques[0] != "T1098" || h.AccessKeyIDs[0] != "AKIAEXAMPLE" ||
		!h.LastSeen.Equal(t0.Add(4*24*time.Hour)) || h.RuleSource != "analytics" {
		t.Fatalf("high finding read back as %+v", h)
	}
	all, err := FindingEvents(ctx, st, h.ID)
	if err != nil || fmt.Sprint(all) != "[e4 e3 e2 e1 e0]" {
		t.Fatalf("FindingEvents = %v, %v", all, err)
	}
	none, err := Findings(ctx, st, 0)
	if err != nil || len(none[0].EventIDs) != 0 {
		t.Fatalf("Findings(0) = %+v, %v", none, err)
	}
}
