package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// TestAcquirePerAccountRole collects from two accounts by assuming a
// responder role in each (moto keeps each account's resources apart and
// attributes an assumed role's keys to its account): the trail of one is
// found and collected, the other has none and falls back to its event
// history, and each identity used is in the chain of custody.
func TestAcquirePerAccountRole(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	const a1, a2 = "111111111111", "222222222222"
	// seed a trail in account a1, as a1
	base := awstest.Config(srv.URL)
	out, err := sts.NewFromConfig(base).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + a1 + ":role/seed"), RoleSessionName: aws.String("seed")})
	if err != nil {
		t.Fatal(err)
	}
	in1 := base.Copy()
	in1.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	if _, err := s3.NewFromConfig(in1, awstest.PathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("a1-trail")}); err != nil {
		t.Fatal(err)
	}
	ct := ctapi.NewFromConfig(in1)
	if _, err := ct.CreateTrail(ctx, &ctapi.CreateTrailInput{Name: aws.String("a1-trail"), S3BucketName: aws.String("a1-trail"), IsMultiRegionTrail: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &ctapi.StartLoggingInput{Name: aws.String("a1-trail")}); err != nil {
		t.Fatal(err)
	}
	motoEnv(t, srv.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	since := time.Now().UTC().Add(-48 * time.Hour).Format("2006-01-02") // within the event history's 90 days
	stdout, stderr, code := harrier(t, "acquire", "--case", caseDir, "--since", since, "--regions", "us-east-1",
		"--accounts", a1+","+a2, "--role-name", "HarrierResponder", "--sources", "cloudtrail,digests,lookup")
	if code != ExitOK && code != ExitPartial {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"== Account " + a1 + " (as arn:aws:sts::" + a1 + ":assumed-role/HarrierResponder/harrier-acquire)",
		"trail arn:aws:cloudtrail:us-east-1:" + a1 + ":trail/a1-trail",
		"== Account " + a2 + " (as arn:aws:sts::" + a2 + ":assumed-role/HarrierResponder/harrier-acquire)",
		"No trail found",
		a2 + " us-east-1",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(caseDir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"caller-identity-" + a1 + ".json", "caller-identity-" + a2 + ".json", `"role_arn":"arn:aws:iam::` + a1 + `:role/HarrierResponder"`, "/coverage.json"} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("manifest lacks %s", want)
		}
	}
	// the role is never assumed without the accounts to assume it in
	if _, stderr, code := harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-13", "--role-name", "HarrierResponder"); code != ExitUsage {
		t.Errorf("--role-name without --accounts: exit %d %s", code, stderr)
	}
}
