package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/harrier-ir/harrier/internal/acquire/trails"
	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

func TestNotCovering(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	logging := &trails.Status{IsLogging: true, StartLoggingTime: since.Add(-time.Hour)}
	mgmt := []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeAll}}
	readOnly := []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeReadOnly}}
	advReadOnly := []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{
		{Field: aws.String("eventCategory"), Equals: []string{"Management"}}, {Field: aws.String("readOnly"), Equals: []string{"true"}}}}}
	tr := func(sel []cttypes.EventSelector, adv []cttypes.AdvancedEventSelector) trails.Trail {
		return trails.Trail{ARN: "arn:aws:cloudtrail:us-east-1:1:trail/t", Bucket: "b", Status: logging, EventSelectors: sel, AdvancedEventSelectors: adv}
	}
	whole := acquireResult{collected: []collected{{trail: trails.Trail{Bucket: "b"}}}}
	denied := acquireResult{collected: []collected{{trail: trails.Trail{Bucket: "b"}, stats: trails.Stats{Failed: []trails.Failure{{Key: "k", Denied: true}}}}}}
	o := acquireOptions{since: since, logs: true}
	tests := []struct {
		name string
		t    trails.Trail
		o    acquireOptions
		res  acquireResult
		want string
	}{
		{"covers", tr(mgmt, nil), o, whole, ""},
		{"read-only selectors hide writes", tr(readOnly, nil), o, whole, "only read-only"},
		{"advanced read-only selectors", tr(nil, advReadOnly), o, whole, "only read-only"},
		{"a file could not be read", tr(mgmt, nil), o, denied, "could not be collected whole"},
		{"bucket not collected", tr(mgmt, nil), o, acquireResult{}, "was not collected"},
		{"logs not asked for", tr(mgmt, nil), acquireOptions{since: since}, whole, "--sources without cloudtrail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notCovering(tt.t, tt.o, &tt.res)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("notCovering = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAcquireReportsWhatItCouldNotRead: a log file refused, one archived
// in Glacier, and regions the account has not enabled are each said in
// the output and kept in the case's coverage, as the report reads it.
func TestAcquireReportsWhatItCouldNotRead(t *testing.T) {
	srv := awstest.Moto(t)
	seedTrail(t, srv.URL)
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		switch {
		case op == "DescribeRegions":
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><regionInfo>`+
				`<item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>`+
				`<item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>`+
				`</regionInfo></DescribeRegionsResponse>`)
			return true
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "abc0.json.gz"):
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
			return true
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "abc1.json.gz"):
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>GLACIER</StorageClass><RequestId>2</RequestId></Error>`)
			return true
		}
		return false
	})
	motoEnv(t, front.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	out, errOut, code := harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-13", "--until", "2026-03-15", "--sources", "cloudtrail,digests")
	if code != ExitPartial {
		t.Errorf("exit %d, want %d", code, ExitPartial)
	}
	for _, want := range []string{"regions not enabled in 123456789012 (nothing can run there, so nothing was asked): af-south-1",
		"DENIED  AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/13/", "ARCHIVED  1 files are in Glacier"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
		}
	}
	if strings.Contains(errOut, "af-south-1") {
		t.Errorf("a region not enabled was asked:\n%s", errOut)
	}
	c, err := casefile.Open(caseDir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := caseCoverage(c)
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, r := range rows {
		if r.Source == "cloudtrail" && r.Region == "us-east-1" {
			detail = fmt.Sprintf("%s %d problems", r.Detail, len(r.Problems))
		}
	}
	if !strings.Contains(detail, "2 files NOT acquired") || !strings.Contains(detail, "2 problems") {
		t.Errorf("the case's coverage hides the failures: %q", detail)
	}
}

// TestPathStyleFromProfileServices: an S3 endpoint set only in a profile's
// services section (no AWS_ENDPOINT_URL) still switches S3 to path-style.
func TestPathStyleFromProfileServices(t *testing.T) {
	motoEnv(t, "http://127.0.0.1:1")
	os.Unsetenv("AWS_ENDPOINT_URL")
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte("[profile lab]\nregion = us-east-1\nservices = lab-services\n\n[services lab-services]\ns3 =\n  endpoint_url = http://127.0.0.1:5999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", conf)
	cfg, err := awsConfig(context.Background(), acquireOptions{profile: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil {
		t.Fatalf("no global endpoint was set, got %s", *cfg.BaseEndpoint)
	}
	if !pathStyle(cfg) {
		t.Error("an S3 endpoint from the profile's services section does not switch to path-style")
	}
}

// TestAcquireEventHistoryByDay: the event history is collected a day per
// window, each with its completion marker, so a run interrupted part way
// resumes at the day it was on instead of asking the whole history again.
func TestAcquireEventHistoryByDay(t *testing.T) {
	srv := awstest.Moto(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls, stopAt := 0, 3
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op != "LookupEvents" {
			return false
		}
		mu.Lock()
		calls++
		n, stop := calls, stopAt
		mu.Unlock()
		if n == stop {
			cancel()
			<-r.Context().Done()
			return true
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprint(w, `{"Events":[]}`)
		return true
	})
	motoEnv(t, front.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	since := time.Now().UTC().Add(-5 * 24 * time.Hour).Format("2006-01-02")
	args := []string{"acquire", "--case", caseDir, "--since", since, "--regions", "us-east-1", "--sources", "lookup"}
	var out, errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := e.run(ctx, args); code != ExitError {
		t.Fatalf("interrupted run: exit %d\n%s%s", code, out.String(), errb.String())
	}
	mu.Lock()
	first := calls
	calls, stopAt = 0, -1
	mu.Unlock()
	stdout, stderr, code := harrier(t, args...)
	if code != ExitOK {
		t.Fatalf("resumed run: exit %d\n%s%s", code, stdout, stderr)
	}
	c, err := casefile.Open(caseDir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	markers := 0
	for _, en := range c.Latest() {
		if strings.HasSuffix(en.Path, "/complete.json") {
			markers++
		}
	}
	// five days and today's part: six windows, two done before the
	// interruption, the rest now, none asked twice
	if markers < 6 || first != 3 || calls != markers-2 {
		t.Errorf("%d windows complete; %d requests before the interruption, %d after", markers, first, calls)
	}
}
