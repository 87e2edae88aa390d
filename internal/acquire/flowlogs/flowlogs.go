// Package flowlogs acquires VPC Flow Logs, read-only: in each account and
// region, which flow logs exist (DescribeFlowLogs, stored as evidence) and
// what they delivered in the window. Files delivered to S3 are listed by
// the flow-log key layout (default and Hive-compatible, daily or hourly),
// pruned to the window's days, downloaded in parallel and stored byte for
// byte with their S3 provenance; a re-run skips what the case holds.
// Flow logs delivered to CloudWatch Logs are collected through cwlogs;
// those delivered to Kinesis Data Firehose are reported, since nothing
// is left to read from here. A region without flow logs is reported as
// such: "no network evidence exists here" is a finding.
package flowlogs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/acquire/cwlogs"
	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// EC2API is the one EC2 call this package makes, with the SDK's signature
// (a *ec2.Client of the region satisfies it).
type EC2API interface {
	DescribeFlowLogs(ctx context.Context, params *ec2.DescribeFlowLogsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
}

// S3API is the read-only S3 calls made on a flow log's bucket, with the
// SDK's signatures (a *s3.Client of the bucket's region satisfies it).
type S3API interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Clients are the clients Collect uses for one account and region.
type Clients struct {
	EC2 EC2API
	// Logs reads flow logs delivered to CloudWatch Logs; nil: they are
	// reported, not collected.
	Logs cwlogs.API
	// S3 returns a client that can read bucket: a flow log may deliver to a
	// bucket of another region (or account), whose client the caller knows
	// how to make. An error is recorded as a problem for that bucket.
	S3 func(ctx context.Context, bucket string) (S3API, error)
}

// DefaultConcurrency is how many files Collect downloads at once unless
// told otherwise.
const DefaultConcurrency = 8

// Grace extends the days whose files are collected past Until: a file is
// filed under the day (and hour) it was delivered, up to ten minutes or
// more after its records, so the window's last records sit in the next
// day's folder.
const Grace = 24 * time.Hour

// Content names of the files Collect stores, as the case's manifest
// records them.
const (
	ContentLog     = "vpc-flow-log"         // a gzipped text file (.log.gz)
	ContentParquet = "vpc-flow-log-parquet" // an Apache Parquet file (.log.parquet)
)

// DescribeName is the file, in the region's folder, holding what
// DescribeFlowLogs answered.
const DescribeName = "describe-flow-logs.json"

// ErrOptions reports options Collect cannot run with.
var ErrOptions = errors.New("flow logs options")

// Options says what to collect.
type Options struct {
	Account     string    // the account of the clients: part of the S3 layout and of the evidence paths
	Region      string    // the region of the clients
	Since       time.Time // the first day taken is the one holding Since
	Until       time.Time // exclusive; files are taken a day further (Grace)
	Concurrency int       // downloads at once; DefaultConcurrency when 0
	// LogsLimiter paces the CloudWatch Logs requests; share one per
	// account and region with other cwlogs collections. nil: cwlogs'
	// DefaultRate.
	LogsLimiter *cwlogs.Limiter
	// Now is the clock of request times; time.Now when nil.
	Now func() time.Time
}

func (o Options) check() error {
	switch {
	case o.Account == "" || o.Region == "":
		return fmt.Errorf("%w: account and region are required", ErrOptions)
	case o.Since.IsZero() || !o.Until.After(o.Since):
		return fmt.Errorf("%w: the window %s to %s is empty", ErrOptions, o.Since.UTC().Format(time.RFC3339), o.Until.UTC().Format(time.RFC3339))
	case o.Concurrency < 0:
		return fmt.Errorf("%w: concurrency %d", ErrOptions, o.Concurrency)
	}
	return nil
}

// Failure is one file that could not be acquired.
type Failure struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Denied bool   `json:"denied"` // AccessDenied: often kms:Decrypt on an SSE-KMS bucket
	Error  string `json:"error"`
}

// Result is what Collect did in one account and region.
type Result struct {
	FlowLogs   int                `json:"flow_logs"`  // found by DescribeFlowLogs
	ListCalls  int                `json:"list_calls"` // S3 ListObjectsV2 calls
	Listed     int                `json:"listed"`     // files found in the window
	ListedSize int64              `json:"listed_bytes"`
	Downloaded int                `json:"downloaded"` // stored now
	Skipped    int                `json:"skipped"`    // already in the case with the same ETag and size
	Bytes      int64              `json:"bytes"`      // downloaded
	FirstDay   time.Time          `json:"first_day,omitzero"`
	LastDay    time.Time          `json:"last_day,omitzero"`
	Failed     []Failure          `json:"failed,omitempty"` // sorted by bucket and key
	Problems   []evidence.Problem `json:"problems,omitempty"`
	// Logs is what cwlogs did for the flow logs delivered to CloudWatch
	// Logs; its coverage rows are also in Coverage.
	Logs     cwlogs.Result       `json:"logs"`
	Coverage []evidence.Coverage `json:"coverage"` // the "flowlogs" row, then the groups' "cloudwatch" rows
}
