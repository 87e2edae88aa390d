package findings

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// fakeGuardDuty answers the GuardDuty operations moto 5.2.1 lacks,
// ListFindings and GetFindings, as GuardDuty's REST-JSON protocol does
// (POST /detector/{id}/findings and /detector/{id}/findings/get, camelCase
// members), over findings it holds; it records what it was asked.
type fakeGuardDuty struct {
	t        *testing.T
	findings map[string]map[string]any // by id
	order    []string                  // ids in listing order

	calls     distinct // requests answered, a retried one once
	mu        sync.Mutex
	criteria  []map[string]any // each ListFindings' findingCriteria.criterion
	pageSizes []int            // maxResults asked
	batches   [][]string       // each GetFindings' ids
	throttle  int              // ListFindings calls still to refuse with 429
	throttled int
}

var detectorPath = regexp.MustCompile(`^/detector/([^/]+)/findings(/get)?$`)

func newFakeGuardDuty(t *testing.T, current, archived int) *fakeGuardDuty {
	f := &fakeGuardDuty{t: t, findings: map[string]map[string]any{}}
	add := func(n int, arch bool) {
		for i := range n {
			id := fmt.Sprintf("%s%03d", map[bool]string{false: "c", true: "a"}[arch], i)
			sev := 2.0
			if !arch && i%10 == 0 {
				sev = 8.0
			}
			created := since.Add(time.Duration(i) * time.Hour)
			f.findings[id] = map[string]any{
				"accountId": account, "arn": "arn:aws:guardduty:us-east-1:" + account + ":detector/d/finding/" + id,
				"id": id, "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
				"severity": sev, "confidence": 5.0, "createdAt": created.Format("2006-01-02T15:04:05.000Z"),
				"updatedAt": created.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"), "region": "us-east-1",
				"partition": "aws", "schemaVersion": "2.0", "title": "Credentials used from outside AWS",
				"resource": map[string]any{"resourceType": "AccessKey"},
				"service": map[string]any{"archived": arch, "count": 1, "detectorId": "d", "serviceName": "guardduty",
					"eventFirstSeen": created.Format("2006-01-02T15:04:05.000Z"),
					"eventLastSeen":  created.Add(30 * time.Minute).Format("2006-01-02T15:04:05.000Z")},
			}
			f.order = append(f.order, id)
		}
	}
	add(current, false)
	add(archived, true)
	return f
}

// answer takes ListFindings and GetFindings; the rest goes to moto.
func (f *fakeGuardDuty) answer(w http.ResponseWriter, r *http.Request, _ string) bool {
	m := detectorPath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodPost {
		return false
	}
	if m[2] == "/get" {
		var in struct {
			FindingIds []string `json:"findingIds"`
		}
		if f.calls.add(readBody(f.t, r, &in)) {
			f.mu.Lock()
			f.batches = append(f.batches, in.FindingIds)
			f.mu.Unlock()
		}
		out := []map[string]any{}
		for _, id := range in.FindingIds {
			if x, ok := f.findings[id]; ok {
				out = append(out, x)
			}
		}
		writeJSON(w, map[string]any{"findings": out})
		return true
	}
	var in struct {
		FindingCriteria struct {
			Criterion map[string]any `json:"criterion"`
		} `json:"findingCriteria"`
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	key := readBody(f.t, r, &in)
	f.mu.Lock()
	if f.throttle > 0 {
		f.throttle--
		f.throttled++
		f.mu.Unlock()
		restError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
		return true
	}
	if f.calls.add(key) {
		f.criteria = append(f.criteria, in.FindingCriteria.Criterion)
		f.pageSizes = append(f.pageSizes, in.MaxResults)
	}
	f.mu.Unlock()
	wantArchived := fmt.Sprint(in.FindingCriteria.Criterion["service.archived"])
	var ids []string
	for _, id := range f.order {
		if fmt.Sprintf("map[equals:[%v]]", f.findings[id]["service"].(map[string]any)["archived"]) == wantArchived {
			ids = append(ids, id)
		}
	}
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+in.MaxResults, len(ids))
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	writeJSON(w, map[string]any{"findingIds": ids[start:end], "nextToken": next})
	return true
}

func TestGuardDuty(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	det, err := guardduty.NewFromConfig(motoConfig(srv, "us-east-1")).CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
	if err != nil {
		t.Fatalf("CreateDetector: %v", err)
	}
	id := aws.ToString(det.DetectorId)

	fake := newFakeGuardDuty(t, 120, 3)
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if regionOf(r) == "ap-southeast-2" {
			restError(w, http.StatusForbidden, "AccessDeniedException",
				"User: arn:aws:iam::123456789012:user/ir is not authorized to perform: guardduty:ListDetectors")
			return true
		}
		return fake.answer(w, r, op)
	})
	sink := newMemSink()
	rows := collect(t, SourceGuardDuty, retrying(awstest.Config(front.URL), 3), sink, testOptions("us-east-1", "eu-west-1", "ap-southeast-2"))

	if got := []string{rows[0].Region, rows[1].Region, rows[2].Region}; strings.Join(got, " ") != "ap-southeast-2 eu-west-1 us-east-1" {
		t.Fatalf("rows not sorted by region: %v", got)
	}
	t.Run("denied region", func(t *testing.T) {
		r := rowOf(t, rows, "ap-southeast-2")
		if r.Exists != "unknown" || len(r.Problems) != 1 || !r.Problems[0].Denied || r.Problems[0].API != "ListDetectors" ||
			r.Problems[0].Region != "ap-southeast-2" || r.Problems[0].Service != "guardduty" {
			t.Errorf("row = %+v", r)
		}
	})
	t.Run("no detector", func(t *testing.T) {
		r := rowOf(t, rows, "eu-west-1")
		if r.Exists != "no" || r.Detail != "GuardDuty has no detector in this region" || r.Items != 0 || r.Files != 1 {
			t.Errorf("row = %+v", r)
		}
	})
	t.Run("collected", func(t *testing.T) {
		r := rowOf(t, rows, "us-east-1")
		if r.Exists != "yes" || r.Items != 123 || len(r.Problems) != 0 {
			t.Errorf("row = %+v", r)
		}
		if want := "1 detector, 123 findings (3 archived), 12 high or critical"; r.Detail != want {
			t.Errorf("detail %q, want %q", r.Detail, want)
		}
		// 1 list-detectors, 1 detector, 3+1 list pages, 3+1 get batches
		if r.Files != 10 || r.Bytes <= 0 {
			t.Errorf("files %d bytes %d", r.Files, r.Bytes)
		}
		if !r.From.Equal(since) || !r.To.Equal(since.Add(120*time.Hour)) {
			t.Errorf("span %s .. %s", r.From, r.To)
		}
	})
	t.Run("window and archived sent", func(t *testing.T) {
		if len(fake.criteria) != 4 {
			t.Fatalf("%d ListFindings calls, want 4: %v", len(fake.criteria), fake.criteria)
		}
		seen := map[string]bool{}
		for i, c := range fake.criteria {
			u := fmt.Sprint(c["updatedAt"])
			want := fmt.Sprintf("map[greaterThanOrEqual:%d lessThanOrEqual:%d]", since.UnixMilli(), until.UnixMilli())
			if u != want {
				t.Errorf("call %d updatedAt %s, want %s", i, u, want)
			}
			seen[fmt.Sprint(c["service.archived"])] = true
			if fake.pageSizes[i] != 50 {
				t.Errorf("maxResults %d", fake.pageSizes[i])
			}
		}
		if !seen["map[equals:[false]]"] || !seen["map[equals:[true]]"] {
			t.Errorf("archived criteria asked: %v", seen)
		}
	})
	t.Run("batches of 50", func(t *testing.T) {
		got := map[string]int{}
		var sizes []int
		for _, b := range fake.batches {
			sizes = append(sizes, len(b))
			for _, id := range b {
				got[id]++
			}
		}
		if fmt.Sprint(sizes) != "[50 50 20 3]" || len(got) != 123 {
			t.Errorf("batch sizes %v, %d distinct ids", sizes, len(got))
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("%s asked %d times", id, n)
			}
		}
	})
	t.Run("stored", func(t *testing.T) {
		base := "aws/123456789012/us-east-1/guardduty/20260302T090000Z/"
		doc, src := sink.doc(t, base+"detector-"+id+".json")
		if doc["Status"] != "ENABLED" || src.API != "GetDetector" || src.Params["detector_id"] != id || !src.RequestTime.Equal(clockAt) {
			t.Errorf("GetDetector stored %v with %+v", doc, src)
		}
		doc, src = sink.doc(t, base+"detector-"+id+"/list-findings-current-0002.json")
		if n := len(doc["FindingIds"].([]any)); n != 50 || src.Page != 2 || src.Params["since"] != "2026-02-01T00:00:00Z" ||
			src.Params["until"] != "2026-03-01T00:00:00Z" || !strings.Contains(src.Params["filter"], `"service.archived"`) {
			t.Errorf("list page 2: %d ids, source %+v", n, src)
		}
		doc, src = sink.doc(t, base+"detector-"+id+"/findings-archived-0001.json")
		fs := doc["Findings"].([]any)
		first := fs[0].(map[string]any)
		if len(fs) != 3 || first["Id"] != "a000" || first["Service"].(map[string]any)["Archived"] != true ||
			src.Service != "guardduty" || src.API != "GetFindings" || src.Account != account || src.Region != "us-east-1" {
			t.Errorf("archived findings stored %d, first %v, source %+v", len(fs), first, src)
		}
		if _, ok := doc["ResultMetadata"]; ok {
			t.Error("ResultMetadata stored")
		}
		sink.doc(t, "aws/123456789012/eu-west-1/guardduty/20260302T090000Z/list-detectors-0001.json")
	})
}

func TestGuardDutyThrottled(t *testing.T) {
	srv := awstest.Moto(t)
	if _, err := guardduty.NewFromConfig(motoConfig(srv, "us-east-1")).CreateDetector(context.Background(),
		&guardduty.CreateDetectorInput{Enable: aws.Bool(true)}); err != nil {
		t.Fatalf("CreateDetector: %v", err)
	}
	fake := newFakeGuardDuty(t, 5, 0)
	fake.throttle = 3
	front := awstest.Front(t, srv.URL, fake.answer)
	rows := collect(t, SourceGuardDuty, retrying(awstest.Config(front.URL), 5), newMemSink(), testOptions("us-east-1"))
	r := rowOf(t, rows, "us-east-1")
	if r.Exists != "yes" || r.Items != 5 || len(r.Problems) != 0 || fake.throttled != 3 {
		t.Fatalf("row %+v, %d throttled", r, fake.throttled)
	}
	if !strings.HasSuffix(r.Detail, "3 throttled requests retried or failed") {
		t.Errorf("detail %q does not count the throttles", r.Detail)
	}
}

// TestGuardDutySuspendedDetector: a suspended detector still has its
// findings collected, and the row says it was not watching.
func TestGuardDutySuspendedDetector(t *testing.T) {
	srv := awstest.Moto(t)
	det, err := guardduty.NewFromConfig(motoConfig(srv, "us-east-1")).CreateDetector(context.Background(),
		&guardduty.CreateDetectorInput{Enable: aws.Bool(false)})
	if err != nil {
		t.Fatalf("CreateDetector: %v", err)
	}
	front := awstest.Front(t, srv.URL, newFakeGuardDuty(t, 2, 1).answer)
	r := rowOf(t, collect(t, SourceGuardDuty, retrying(awstest.Config(front.URL), 3), newMemSink(), testOptions("us-east-1")), "us-east-1")
	want := fmt.Sprintf("1 detector (%s %s), 3 findings (1 archived), 1 high or critical", aws.ToString(det.DetectorId), types.DetectorStatusDisabled)
	if r.Exists != "yes" || r.Detail != want {
		t.Errorf("row %+v, want detail %q", r, want)
	}
}
