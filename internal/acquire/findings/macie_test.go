package findings

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/macie2"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// fakeMacieFindings answers the Macie operations moto 5.2.1 lacks,
// ListFindings (POST /findings) and GetFindings (POST /findings/describe),
// as Macie's REST-JSON protocol does; times are ISO 8601 on the wire.
type fakeMacieFindings struct {
	t                 *testing.T
	current, archived int

	mu       sync.Mutex
	criteria []map[string]any
	batches  []int
	calls    distinct // requests answered, a retried one once
}

func (f *fakeMacieFindings) finding(id string) map[string]any {
	i, _ := strconv.Atoi(id[1:])
	created := since.Add(time.Duration(i) * time.Hour)
	sev := map[string]any{"description": "Low", "score": 1}
	if i%3 == 0 {
		sev = map[string]any{"description": "High", "score": 3}
	}
	return map[string]any{
		"id": id, "accountId": account, "archived": id[0] == 'a', "category": "CLASSIFICATION", "count": 1,
		"createdAt": created.Format(time.RFC3339), "updatedAt": created.Add(2 * time.Hour).Format(time.RFC3339),
		"partition": "aws", "region": "us-east-1", "schemaVersion": "1.0", "sample": false,
		"severity": sev, "title": "The S3 object contains credentials data.", "type": "SensitiveData:S3Object/Credentials",
		"resourcesAffected": map[string]any{"s3Bucket": map[string]any{"name": "exfil-bucket"}, "s3Object": map[string]any{"key": "keys.txt"}},
	}
}

func (f *fakeMacieFindings) answer(w http.ResponseWriter, r *http.Request, _ string) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case "/findings/describe":
		var in struct {
			FindingIds []string `json:"findingIds"`
		}
		if f.calls.add(readBody(f.t, r, &in)) {
			f.mu.Lock()
			f.batches = append(f.batches, len(in.FindingIds))
			f.mu.Unlock()
		}
		out := []map[string]any{}
		for _, id := range in.FindingIds {
			out = append(out, f.finding(id))
		}
		writeJSON(w, map[string]any{"findings": out})
		return true
	case "/findings":
		var in struct {
			FindingCriteria struct {
				Criterion map[string]any `json:"criterion"`
			} `json:"findingCriteria"`
			MaxResults int    `json:"maxResults"`
			NextToken  string `json:"nextToken"`
		}
		if f.calls.add(readBody(f.t, r, &in)) {
			f.mu.Lock()
			f.criteria = append(f.criteria, in.FindingCriteria.Criterion)
			f.mu.Unlock()
		}
		prefix, n := "c", f.current
		if fmt.Sprint(in.FindingCriteria.Criterion["archived"]) == "map[eq:[true]]" {
			prefix, n = "a", f.archived
		}
		start, _ := strconv.Atoi(in.NextToken)
		end := min(start+in.MaxResults, n)
		ids := []string{}
		for i := start; i < end; i++ {
			ids = append(ids, fmt.Sprintf("%s%03d", prefix, i))
		}
		next := ""
		if end < n {
			next = strconv.Itoa(end)
		}
		writeJSON(w, map[string]any{"findingIds": ids, "nextToken": next})
		return true
	}
	return false
}

func TestMacie(t *testing.T) {
	srv := awstest.Moto(t)
	// moto starts Macie enabled in every region; disabled in eu-west-1,
	// its GetMacieSession answers ResourceNotFoundException
	if _, err := macie2.NewFromConfig(motoConfig(srv, "eu-west-1")).DisableMacie(context.Background(), &macie2.DisableMacieInput{}); err != nil {
		t.Fatalf("DisableMacie: %v", err)
	}
	fake := &fakeMacieFindings{t: t, current: 70, archived: 2}
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		switch regionOf(r) {
		case "ap-southeast-2": // Macie never enabled: what AWS answers
			restError(w, http.StatusForbidden, "AccessDeniedException", "Macie is not enabled.")
			return true
		case "us-west-2": // a real denial
			restError(w, http.StatusForbidden, "AccessDeniedException",
				"User: arn:aws:iam::123456789012:user/ir is not authorized to perform: macie2:"+map[string]string{
					"/macie": "GetMacieSession", "/findings": "ListFindings"}[r.URL.Path])
			return true
		}
		return fake.answer(w, r, op)
	})
	sink := newMemSink()
	rows := collect(t, SourceMacie, retrying(awstest.Config(front.URL), 3), sink, testOptions("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"))

	tests := []struct {
		name, region, exists string
		items                int
		detail               string
		problems             []string // the APIs denied
	}{
		{"collected", "us-east-1", "yes", 72, "Macie enabled, 72 findings (2 archived), 25 high or critical", nil},
		{"not enabled, said by 404", "eu-west-1", "no", 0, macieAbsent, nil},
		{"not enabled, said by AccessDenied", "ap-southeast-2", "no", 0, macieAbsent, nil},
		{"denied", "us-west-2", "unknown", 0, "findings not read", []string{"GetMacieSession", "ListFindings", "ListFindings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rowOf(t, rows, tt.region)
			if r.Exists != tt.exists || r.Items != tt.items || r.Detail != tt.detail {
				t.Errorf("row %+v\nwant detail %q", r, tt.detail)
			}
			var apis []string
			for _, p := range r.Problems {
				if !p.Denied {
					t.Errorf("problem not denied: %+v", p)
				}
				apis = append(apis, p.API)
			}
			if fmt.Sprint(apis) != fmt.Sprint(tt.problems) && len(apis)+len(tt.problems) > 0 {
				t.Errorf("problems on %v, want %v", apis, tt.problems)
			}
		})
	}
	t.Run("window and archived sent", func(t *testing.T) {
		// current: 2 pages of 50; archived: 1
		if len(fake.criteria) != 3 {
			t.Fatalf("%d ListFindings answered, want 3: %v", len(fake.criteria), fake.criteria)
		}
		want := fmt.Sprintf("map[gte:%d lte:%d]", since.UnixMilli(), until.UnixMilli())
		for i, c := range fake.criteria {
			if got := fmt.Sprint(c["updatedAt"]); got != want {
				t.Errorf("call %d updatedAt %s, want %s", i, got, want)
			}
		}
		if fmt.Sprint(fake.batches) != "[50 20 2]" {
			t.Errorf("GetFindings batches %v", fake.batches)
		}
	})
	t.Run("stored", func(t *testing.T) {
		r := rowOf(t, rows, "us-east-1")
		// session, 2+1 list pages, 2+1 get batches
		if r.Files != 7 || !r.From.Equal(since) || !r.To.Equal(since.Add(71*time.Hour)) {
			t.Errorf("files %d span %s .. %s", r.Files, r.From, r.To)
		}
		base := "aws/123456789012/us-east-1/macie2/20260302T090000Z/"
		doc, src := sink.doc(t, base+"findings-archived-0001.json")
		fs := doc["Findings"].([]any)
		if len(fs) != 2 || fs[0].(map[string]any)["Archived"] != true || src.API != "GetFindings" || src.Params["archived"] != "true" {
			t.Errorf("archived findings %v, source %+v", fs, src)
		}
		doc, src = sink.doc(t, base+"list-findings-current-0002.json")
		if n := len(doc["FindingIds"].([]any)); n != 20 || src.Page != 2 || src.Params["since"] != "2026-02-01T00:00:00Z" {
			t.Errorf("list page 2: %d ids, source %+v", n, src)
		}
		sess, _ := sink.doc(t, base+"session.json")
		if sess["Status"] != "ENABLED" {
			t.Errorf("session %v", sess)
		}
	})
}
