package report

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/sigma"
	"github.com/harrier-ir/harrier/internal/store"
)

// huntAt is when the hunted case's attack happens.
var huntAt = time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)

// seedKey is the access key of the hunted case's user n (1-based).
func seedKey(n int) string { return fmt.Sprintf("AKIASEED%012d", n) }

// huntedCase is a hunted case of keys users user1..user<keys>, one
// calling per minute block, each key behind a high finding (the first one
// critical), findings ordered by key. user1's key creates user2's key, so
// a scope of key 1 reaches key 2; the others are independent. Each user
// also makes a dozen reads, and one low finding rides along, so the
// severity counts cover more than what the volume chart marks.
func huntedCase(t *testing.T, keys int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var recs [][]byte
	event := func(id string, at time.Time, user int, name string, req, resp map[string]any) {
		r := map[string]any{
			"eventVersion": "1.08", "eventID": id, "eventType": "AwsApiCall", "eventTime": at.Format(time.RFC3339),
			"eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
			"sourceIPAddress": fmt.Sprintf("198.51.100.%d", user), "userAgent": "aws-cli/2.15.0", "recipientAccountId": "111111111111",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": fmt.Sprintf("arn:aws:iam::111111111111:user/user%d", user),
				"accessKeyId": seedKey(user), "accountId": "111111111111", "userName": fmt.Sprintf("user%d", user)},
			"requestParameters": req, "responseElements": resp, "readOnly": strings.HasPrefix(name, "List"),
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	var hits []detect.Hit
	for u := 1; u <= keys; u++ {
		at := huntAt.Add(time.Duration(u) * 10 * time.Minute)
		id := fmt.Sprintf("k%02d-write", u)
		if u == 1 {
			event(id, at, u, "CreateAccessKey", map[string]any{"userName": "user2"},
				map[string]any{"accessKey": map[string]any{"accessKeyId": seedKey(2), "userName": "user2", "status": "Active"}})
		} else {
			event(id, at, u, "AttachUserPolicy", map[string]any{"userName": fmt.Sprintf("user%d", u), "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, nil)
		}
		ids := []string{id}
		for r := range 12 {
			rid := fmt.Sprintf("k%02d-read%02d", u, r)
			event(rid, at.Add(time.Duration(r+1)*time.Second), u, "ListUsers", nil, nil)
			ids = append(ids, rid)
		}
		sev := detect.High
		if u == 1 {
			sev = detect.Critical
		}
		hits = append(hits, detect.FromFinding(detect.Finding{RuleID: fmt.Sprintf("test-rule-%02d", u), Title: fmt.Sprintf("Key %d misused", u),
			Severity: sev, Techniques: []string{"T1098.001", "T1087.004"}, Tactics: []string{"persistence", "discovery"},
			Principal: fmt.Sprintf("arn:aws:iam::111111111111:user/user%d", u), AccessKeyIDs: []string{seedKey(u)},
			SourceIPs: []string{fmt.Sprintf("198.51.100.%d", u), "2001:db8:85a3::8a2e:370:7334", "203.0.113.200", "192.0.2.250"}, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1"},
			EventIDs: ids, FirstSeen: at, LastSeen: at.Add(12 * time.Second), Count: int64(len(ids))}))
	}
	hits = append(hits, detect.FromFinding(detect.Finding{RuleID: "test-rule-low", Title: "Listing users", Severity: detect.Low,
		Techniques: []string{"T1087.004"}, Tactics: []string{"discovery"}, Principal: "arn:aws:sts::111111111111:assumed-role/github-actions-deploy-production/GitHubActions-0123456789",
		AccessKeyIDs: []string{seedKey(1)}, EventIDs: []string{"k01-read00"}, FirstSeen: huntAt.Add(10*time.Minute + time.Second),
		LastSeen: huntAt.Add(10*time.Minute + time.Second), Count: 1}))
	if err := st.LoadRecords(ctx, "evidence/hunted.jsonl", recs, huntAt); err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Build(&sigma.Collection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := detect.Hunt(ctx, st, rs)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if _, err := run.Save(ctx, detect.HuntInfo{Started: huntAt, Finished: huntAt}, hits); err != nil {
		t.Fatal(err)
	}
	return st
}
