package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// ContentCredentialReport is the content type of IAM's credential report
// as the case keeps it: the CSV IAM generated, byte for byte.
const ContentCredentialReport = "iam-credential-report"

// Credential report polling: the first wait, and the longest.
const (
	reportFirstDelay = 2 * time.Second
	reportMaxDelay   = 15 * time.Second
)

// credentialReport asks IAM to generate the credential report (a read
// action: it changes nothing), then polls GetCredentialReport until it is
// ready or opts.ReportWait has passed, and stores its CSV and, beside it,
// the answer's metadata. When generating is refused a report generated in
// the last four hours may still be there, so it is asked for once.
func credentialReport(ctx context.Context, api IAMAPI, r *recorder, dir string) error {
	wait := r.opts.ReportWait
	if wait <= 0 {
		wait = DefaultReportWait
	}
	start := r.opts.now()
	gen, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	generated := err == nil
	if err != nil {
		if err := r.fail("GenerateCredentialReport", "", err); err != nil {
			return err
		}
	} else {
		r.ok()
		if err := r.put(path.Join(dir, "GenerateCredentialReport.json"), evidence.Source{API: "GenerateCredentialReport", RequestTime: start}, gen); err != nil {
			return err
		}
	}
	delay := reportFirstDelay
	for {
		at := r.opts.now()
		out, err := api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if err == nil {
			r.ok()
			if err := r.putRaw(path.Join(dir, "credential-report.csv"), ContentCredentialReport, evidence.Source{API: "GetCredentialReport", RequestTime: at}, out.Content); err != nil {
				return err
			}
			meta := *out
			meta.Content = nil
			return r.put(path.Join(dir, "GetCredentialReport.json"), evidence.Source{API: "GetCredentialReport", RequestTime: at}, &meta)
		}
		if !generated || !reportPending(err) {
			return r.fail("GetCredentialReport", "", err)
		}
		if r.opts.now().Add(delay).Sub(start) > wait {
			return r.fail("GetCredentialReport", "", fmt.Errorf("credential report not ready after %v: %w", wait, err))
		}
		if err := r.opts.sleep(ctx, delay); err != nil {
			return fmt.Errorf("iam GetCredentialReport: %w", err)
		}
		delay = min(2*delay, reportMaxDelay)
	}
}

// reportPending reports whether err says the report is being generated:
// ReportInProgress, or ReportNotPresent just after asking for it (IAM
// may not show the new report at once).
func reportPending(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ReportInProgress", "ReportNotPresent":
		return true
	}
	return false
}
