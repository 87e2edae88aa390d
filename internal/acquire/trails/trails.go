// Package trails acquires CloudTrail trails: their configuration
// (DescribeTrails in every region, GetTrailStatus, GetEventSelectors) and
// the log and digest files they delivered to S3, read-only. Files are
// listed by CloudTrail's S3 key layout, pruned by account, region and day
// so that a week of one account is a few dozen List calls however large the
// bucket, downloaded in parallel, and stored whole through a Sink with their
// provenance; a re-run skips what the case already holds.
package trails

import (
	"context"
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// CloudTrailAPI is the read-only CloudTrail calls Discover makes, with the
// SDK's signatures (a *cloudtrail.Client for one region satisfies it).
type CloudTrailAPI interface {
	DescribeTrails(ctx context.Context, params *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, params *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, params *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// S3API is the read-only S3 calls Collect makes, with the SDK's signatures
// (a *s3.Client in the bucket's region satisfies it).
type S3API interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	// ListObjectVersions is called only with Options.Versions.
	ListObjectVersions(ctx context.Context, params *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// Problem is a call that AWS refused or failed, recorded rather than fatal
// so that one denied region or prefix does not cost the rest: the coverage
// report says what could not be read and why.
type Problem struct {
	Service string `json:"service"`          // "cloudtrail", "s3"
	API     string `json:"api"`              // the operation
	Region  string `json:"region,omitempty"` // the region called, when it matters
	Target  string `json:"target,omitempty"` // a trail ARN, s3://bucket/prefix
	Denied  bool   `json:"denied"`           // AccessDenied (or another 403): a permission is missing
	Error   string `json:"error"`
	Err     error  `json:"-"`
}

func newProblem(service, api, region, target string, err error) Problem {
	return Problem{Service: service, API: api, Region: region, Target: target, Denied: IsDenied(err), Error: err.Error(), Err: err}
}

// IsDenied reports whether err is AWS refusing the call for want of
// permission (evidence.IsDenied).
func IsDenied(err error) bool { return evidence.IsDenied(err) }

// answered reports whether err came from the service (an error response),
// rather than from the network or the caller's context. Those are recorded
// as problems; the others end the run.
func answered(err error) bool {
	var ae smithy.APIError
	var re *awshttp.ResponseError
	return errors.As(err, &ae) || errors.As(err, &re)
}
