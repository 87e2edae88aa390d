package findings

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// fakeInspectorFindings answers ListFindings (POST /findings/list) as
// Inspector's REST-JSON protocol does, over n findings: moto 5.2.1 answers
// it with no findings and no pages. Times are epoch seconds on the wire.
type fakeInspectorFindings struct {
	t        *testing.T
	n        int
	mu       sync.Mutex
	criteria []map[string]any
	calls    distinct // requests answered, a retried one once
	throttle int      // calls still to refuse with ThrottlingException
}

func (f *fakeInspectorFindings) answer(w http.ResponseWriter, r *http.Request, _ string) bool {
	if r.URL.Path != "/findings/list" || r.Method != http.MethodPost {
		return false
	}
	var in struct {
		FilterCriteria map[string]any `json:"filterCriteria"`
		MaxResults     int            `json:"maxResults"`
		NextToken      string         `json:"nextToken"`
	}
	key := readBody(f.t, r, &in)
	f.mu.Lock()
	if f.throttle > 0 {
		f.throttle--
		f.mu.Unlock()
		restError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
		return true
	}
	if f.calls.add(key) {
		f.criteria = append(f.criteria, in.FilterCriteria)
	}
	f.mu.Unlock()
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+in.MaxResults, f.n)
	var out []map[string]any
	for i := start; i < end; i++ {
		sev, status := "MEDIUM", "ACTIVE"
		if i%4 == 0 {
			sev = "CRITICAL"
		}
		if i%10 == 9 {
			status = "CLOSED"
		}
		first := since.Add(time.Duration(i) * time.Hour)
		out = append(out, map[string]any{
			"awsAccountId": account, "findingArn": fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/f%03d", regionOf(r), account, i),
			"description": "CVE-2026-0001 - openssl", "firstObservedAt": first.Unix(), "lastObservedAt": first.Add(time.Hour).Unix(),
			"updatedAt": first.Add(time.Hour).Unix(), "remediation": map[string]any{"recommendation": map[string]any{"text": "Update openssl"}},
			"resources": []any{map[string]any{"id": "i-0123456789abcdef0", "type": "AWS_EC2_INSTANCE", "region": regionOf(r), "partition": "aws"}},
			"severity":  sev, "status": status, "type": "PACKAGE_VULNERABILITY", "title": "CVE-2026-0001 - openssl",
		})
	}
	next := ""
	if end < f.n {
		next = strconv.Itoa(end)
	}
	writeJSON(w, map[string]any{"findings": out, "nextToken": next})
	return true
}

func TestInspector(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		api := inspector2.NewFromConfig(motoConfig(srv, region))
		if _, err := api.Enable(ctx, &inspector2.EnableInput{AccountIds: []string{account},
			ResourceTypes: []types.ResourceScanType{types.ResourceScanTypeEc2, types.ResourceScanTypeEcr}}); err != nil {
			t.Fatalf("Enable %s: %v", region, err)
		}
	}
	// disabled again in eu-west-1: BatchGetAccountStatus says DISABLED
	if _, err := inspector2.NewFromConfig(motoConfig(srv, "eu-west-1")).Disable(ctx, &inspector2.DisableInput{AccountIds: []string{account},
		ResourceTypes: []types.ResourceScanType{types.ResourceScanTypeEc2, types.ResourceScanTypeEcr}}); err != nil {
		t.Fatalf("Disable: %v", err)
	}

	fake := &fakeInspectorFindings{t: t, n: 230, throttle: 2}
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if regionOf(r) == "ap-southeast-2" && r.URL.Path == "/findings/list" {
			restError(w, http.StatusForbidden, "AccessDeniedException",
				"User: arn:aws:iam::123456789012:user/ir is not authorized to perform: inspector2:ListFindings")
			return true
		}
		return fake.answer(w, r, op)
	})
	sink := newMemSink()
	rows := collect(t, SourceInspector, retrying(awstest.Config(front.URL), 4), sink, testOptions("us-east-1", "eu-west-1", "ap-southeast-2"))

	tests := []struct {
		name, region, exists string
		items                int
		detail               string
		problem              string
	}{
		{"collected over three pages, throttled twice", "us-east-1", "yes", 230,
			"Inspector enabled for EC2, ECR, 230 findings (23 closed or suppressed), 58 high or critical, 2 throttled requests retried or failed", ""},
		{"disabled", "eu-west-1", "no", 0, "Inspector is not enabled in this region", ""},
		{"findings denied", "ap-southeast-2", "yes", 0, "Inspector enabled for EC2, ECR, findings not read", "ListFindings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rowOf(t, rows, tt.region)
			if r.Exists != tt.exists || r.Items != tt.items || r.Detail != tt.detail {
				t.Errorf("row %+v\nwant detail %q", r, tt.detail)
			}
			switch {
			case tt.problem == "" && len(r.Problems) != 0:
				t.Errorf("problems %+v", r.Problems)
			case tt.problem != "" && (len(r.Problems) != 1 || r.Problems[0].API != tt.problem || !r.Problems[0].Denied):
				t.Errorf("problems %+v, want %s denied", r.Problems, tt.problem)
			}
		})
	}
	t.Run("window sent", func(t *testing.T) {
		if len(fake.criteria) != 3 {
			t.Fatalf("%d ListFindings answered, want 3", len(fake.criteria))
		}
		want := fmt.Sprintf("[map[endInclusive:%d startInclusive:%d]]", until.Unix(), since.Unix())
		for i, c := range fake.criteria {
			if got := fmt.Sprint(c["updatedAt"]); got != want {
				t.Errorf("call %d updatedAt %s, want %s", i, got, want)
			}
		}
	})
	t.Run("stored", func(t *testing.T) {
		r := rowOf(t, rows, "us-east-1")
		if r.Files != 4 || !r.From.Equal(since) || !r.To.Equal(since.Add(230*time.Hour)) {
			t.Errorf("files %d span %s .. %s", r.Files, r.From, r.To)
		}
		base := "aws/123456789012/us-east-1/inspector2/20260302T090000Z/"
		doc, src := sink.doc(t, base+"findings-0003.json")
		fs := doc["Findings"].([]any)
		f := fs[0].(map[string]any)
		if len(fs) != 30 || src.Page != 3 || f["FindingArn"] != "arn:aws:inspector2:us-east-1:123456789012:finding/f200" ||
			f["FirstObservedAt"] != since.Add(200*time.Hour).Format(time.RFC3339) {
			t.Errorf("page 3: %d findings, first %v, source %+v", len(fs), f, src)
		}
		st, src := sink.doc(t, base+"account-status.json")
		if !strings.Contains(fmt.Sprint(st["Accounts"]), "ENABLED") || src.Params["account_ids"] != account {
			t.Errorf("account status %v, source %+v", st, src)
		}
	})
}
