package findings

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// asffSamples reads the ASFF findings of the Security Hub User Guide
// (testdata/SOURCE.txt) as the SDK's type.
func asffSamples(t *testing.T) []types.AwsSecurityFinding {
	t.Helper()
	f, err := os.Open("testdata/securityhub_asff_examples.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []types.AwsSecurityFinding
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			JSON types.AwsSecurityFinding `json:"json"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("sample: %v", err)
		}
		out = append(out, line.JSON)
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		t.Fatalf("samples: %d, %v", len(out), err)
	}
	return out
}

// seedSecurityHub enables Security Hub in region and imports n findings
// made from the samples, each with its own id and times inside the
// window: finding i was first seen i hours after since, updated an hour
// later. Every 5th is archived.
func seedSecurityHub(t *testing.T, srv *awstest.Server, region string, n int) {
	t.Helper()
	ctx := context.Background()
	api := securityhub.NewFromConfig(motoConfig(srv, region))
	if _, err := api.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatalf("EnableSecurityHub: %v", err)
	}
	samples := asffSamples(t)
	var batch []types.AwsSecurityFinding
	for i := range n {
		f := samples[i%len(samples)]
		f.Id = aws.String(fmt.Sprintf("%s/harrier-%03d", aws.ToString(f.Id), i))
		first := since.Add(time.Duration(i) * time.Hour).Format(securityHubTime)
		last := since.Add(time.Duration(i+1) * time.Hour).Format(securityHubTime)
		f.FirstObservedAt, f.CreatedAt, f.LastObservedAt, f.UpdatedAt = aws.String(first), aws.String(first), aws.String(last), aws.String(last)
		f.RecordState = types.RecordStateActive
		if i%5 == 0 {
			f.RecordState = types.RecordStateArchived
		}
		batch = append(batch, f)
		if len(batch) == 100 || i == n-1 {
			out, err := api.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
			if err != nil || aws.ToInt32(out.FailedCount) != 0 {
				t.Fatalf("BatchImportFindings: %v %+v", err, out)
			}
			batch = nil
		}
	}
}

func TestSecurityHub(t *testing.T) {
	srv := awstest.Moto(t)
	seedSecurityHub(t, srv, "us-east-1", 130)
	seedSecurityHub(t, srv, "us-west-2", 3)

	var (
		mu      sync.Mutex
		calls   distinct // requests seen, a retried one once
		filters []map[string]any
		pages   []int
	)
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, _ string) bool {
		if r.URL.Path != "/findings" || r.Method != http.MethodPost {
			return false
		}
		if regionOf(r) == "us-west-2" {
			restError(w, http.StatusForbidden, "AccessDeniedException",
				"User: arn:aws:iam::123456789012:user/ir is not authorized to perform: securityhub:GetFindings")
			return true
		}
		var in struct {
			Filters    map[string]any `json:"Filters"`
			MaxResults int            `json:"MaxResults"`
		}
		if calls.add(readBody(t, r, &in)) {
			mu.Lock()
			filters = append(filters, in.Filters)
			pages = append(pages, in.MaxResults)
			mu.Unlock()
		}
		return false // moto answers, paginated
	})
	sink := newMemSink()
	rows := collect(t, SourceSecurityHub, retrying(awstest.Config(front.URL), 3), sink, testOptions("us-east-1", "eu-west-1", "us-west-2"))

	tests := []struct {
		name, region, exists string
		items                int
		detail               string // a part of it
		problem              string // the API of the one problem, if any
	}{
		{"collected over two pages", "us-east-1", "yes", 130, "130 findings (26 archived)", ""},
		{"not subscribed", "eu-west-1", "no", 0, securityHubAbsent, ""},
		{"findings denied", "us-west-2", "yes", 0, "findings not read", "GetFindings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rowOf(t, rows, tt.region)
			if r.Exists != tt.exists || r.Items != tt.items || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("row %+v", r)
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
		if len(filters) != 2 {
			t.Fatalf("%d GetFindings calls reached moto, want 2", len(filters))
		}
		for i, f := range filters {
			want := "[map[End:2026-03-01T00:00:00.000Z Start:2026-02-01T00:00:00.000Z]]"
			if got := fmt.Sprint(f["UpdatedAt"]); got != want || pages[i] != 100 {
				t.Errorf("call %d: UpdatedAt %s, MaxResults %d", i, got, pages[i])
			}
		}
	})
	t.Run("stored", func(t *testing.T) {
		r := rowOf(t, rows, "us-east-1")
		if r.Files != 3 || !r.From.Equal(since) || !r.To.Equal(since.Add(130*time.Hour)) {
			t.Errorf("files %d span %s .. %s", r.Files, r.From, r.To)
		}
		base := "aws/123456789012/us-east-1/securityhub/20260302T090000Z/"
		doc, src := sink.doc(t, base+"findings-0002.json")
		if n := len(doc["Findings"].([]any)); n != 30 || src.Page != 2 || src.API != "GetFindings" || !strings.Contains(src.Params["filter"], "2026-02-01T00:00:00.000Z") {
			t.Errorf("page 2: %d findings, source %+v", n, src)
		}
		f := doc["Findings"].([]any)[0].(map[string]any)
		if f["SchemaVersion"] != "2018-10-08" || f["ProductArn"] == nil || f["Severity"].(map[string]any)["Label"] == nil {
			t.Errorf("finding not stored as ASFF: %v", f)
		}
		hub, _ := sink.doc(t, base+"describe-hub.json")
		if !strings.HasSuffix(fmt.Sprint(hub["HubArn"]), ":hub/default") {
			t.Errorf("describe-hub %v", hub)
		}
	})
}
