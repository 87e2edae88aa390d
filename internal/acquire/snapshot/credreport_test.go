package snapshot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// reportFake answers the credential report calls: GetCredentialReport
// says "in progress" until its pending answers are used up. The other
// IAM calls are not made by credentialReport.
type reportFake struct {
	IAMAPI
	pending []string // error codes to answer first, in turn
	gets    int
}

func (f *reportFake) GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeStarted}, nil
}

func (f *reportFake) GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	f.gets++
	if len(f.pending) > 0 {
		code := f.pending[0]
		f.pending = f.pending[1:]
		return nil, &smithy.GenericAPIError{Code: code, Message: "not yet"}
	}
	return &iam.GetCredentialReportOutput{Content: []byte("user,arn\nalice,arn:aws:iam::1:user/alice\n"),
		GeneratedTime: aws.Time(testTime), ReportFormat: types.ReportFormatTypeTextCsv}, nil
}

func TestCredentialReportPolling(t *testing.T) {
	tests := []struct {
		name       string
		pending    []string
		wait       time.Duration
		wantSleeps []time.Duration
		wantReport bool
		wantProb   string // in the problem's error
	}{
		{"ready at once", nil, time.Minute, nil, true, ""},
		{"in progress then ready", []string{"ReportNotPresent", "ReportInProgress", "ReportInProgress"}, time.Minute,
			[]time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, true, ""},
		{"never ready", []string{"ReportInProgress", "ReportInProgress", "ReportInProgress", "ReportInProgress", "ReportInProgress"}, 10 * time.Second,
			[]time.Duration{2 * time.Second, 4 * time.Second}, false, "not ready after 10s"},
		{"expired is a problem", []string{"ReportExpired"}, time.Minute, nil, false, "ReportExpired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := testTime
			var sleeps []time.Duration
			opts := testOptions()
			opts.ReportWait = tt.wait
			opts.Clock = func() time.Time { return now }
			opts.Sleep = func(_ context.Context, d time.Duration) error {
				sleeps = append(sleeps, d)
				now = now.Add(d)
				return nil
			}
			tc := newTestCase(t)
			r := newRecorder(opts, tc.sink, "iam", "")
			if err := credentialReport(t.Context(), &reportFake{pending: tt.pending}, r, opts.dir("iam")); err != nil {
				t.Fatal(err)
			}
			if len(sleeps) != len(tt.wantSleeps) {
				t.Fatalf("slept %v, want %v", sleeps, tt.wantSleeps)
			}
			for i := range sleeps {
				if sleeps[i] != tt.wantSleeps[i] {
					t.Fatalf("slept %v, want %v", sleeps, tt.wantSleeps)
				}
			}
			got := tc.files(snapPath("iam", "credential-report.csv"))
			if (len(got) == 1) != tt.wantReport {
				t.Fatalf("report stored: %v, want %v", got, tt.wantReport)
			}
			if tt.wantReport {
				if s := string(tc.read(t, snapPath("iam", "credential-report.csv"))); !strings.Contains(s, "alice,") {
					t.Fatalf("report = %q", s)
				}
			}
			row := r.coverage("iam", "global", "yes", 0, "")
			if tt.wantProb == "" && len(row.Problems) != 0 || tt.wantProb != "" &&
				(len(row.Problems) != 1 || !strings.Contains(row.Problems[0].Error, tt.wantProb)) {
				t.Fatalf("problems = %+v, want one with %q", row.Problems, tt.wantProb)
			}
		})
	}
}

func TestCredentialReportSleepCancelled(t *testing.T) {
	opts := testOptions()
	opts.Sleep = func(ctx context.Context, _ time.Duration) error { return context.Canceled }
	tc := newTestCase(t)
	r := newRecorder(opts, tc.sink, "iam", "")
	err := credentialReport(t.Context(), &reportFake{pending: []string{"ReportInProgress"}}, r, opts.dir("iam"))
	if err == nil {
		t.Fatal("a cancelled wait did not end the run")
	}
}
