package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/acquire/cwlogs"
	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/acquire/findings"
	"github.com/harrier-ir/harrier/internal/acquire/flowlogs"
	"github.com/harrier-ir/harrier/internal/acquire/snapshot"
)

// apiSources lists the per-account API sources acquire collects, in the
// order they run, with the IAM actions each needs.
func apiSources() []apiSource {
	out := []apiSource{
		{name: "flowlogs", help: "VPC Flow Logs: DescribeFlowLogs, their files from S3 or CloudWatch Logs", run: runFlowLogs,
			actions: []string{"ec2:DescribeFlowLogs", "ec2:DescribeRegions", "logs:DescribeLogGroups", "logs:FilterLogEvents"}},
		{name: "cloudwatch", help: "the CloudWatch Logs groups named by --log-groups (FilterLogEvents, paced)", run: runLogGroups,
			actions: []string{"logs:DescribeLogGroups", "logs:FilterLogEvents"}},
	}
	for _, c := range snapshot.Collectors {
		col := c
		out = append(out, apiSource{name: col.Name, help: col.Name + " configuration snapshot", actions: col.Actions,
			run: func(ctx context.Context, s sourceRun) ([]evidence.Coverage, error) {
				cfg := s.t.cfg
				clients := snapshot.NewClients(cfg, func(so *s3.Options) { so.UsePathStyle = pathStyle(cfg) })
				return col.Run(ctx, clients, snapshot.Options{Account: s.t.account, Stamp: s.stamp, Regions: s.t.regions}, countPuts(s.sink, s.items))
			}})
	}
	for _, c := range findings.Collectors() {
		col := c
		out = append(out, apiSource{name: col.Name, help: col.Name + " findings updated in the window", actions: col.Actions,
			run: func(ctx context.Context, s sourceRun) ([]evidence.Coverage, error) {
				// findings updated from --since up to now, not to --until: a
				// finding about the window is updated again each time its
				// activity recurs, and when someone archives it
				return col.Collect(ctx, countPuts(s.sink, s.items), findings.Options{Account: s.t.account, Stamp: s.stamp, Since: s.o.since, Until: time.Now().UTC(),
					Regions: s.t.regions}, s.t.cfg)
			}})
	}
	return out
}

// countPuts counts the files a source stores, for its progress line.
func countPuts(sink evidence.Sink, n interface{ Add(int64) int64 }) evidence.Sink {
	return countingSink{Sink: sink, n: n}
}

type countingSink struct {
	evidence.Sink
	n interface{ Add(int64) int64 }
}

func (c countingSink) Put(rel, content string, data []byte, src evidence.Source) error {
	err := c.Sink.Put(rel, content, data, src)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// logsLimiters share one FilterLogEvents pace per account and region
// between flow logs and named log groups: the quota is theirs together.
var logsLimiters sync.Map // "account/region" → *cwlogs.Limiter

func logsLimiter(account, region string) *cwlogs.Limiter {
	l, _ := logsLimiters.LoadOrStore(account+"/"+region, cwlogs.NewLimiter(cwlogs.DefaultRate))
	return l.(*cwlogs.Limiter)
}

// runFlowLogs collects each region's flow logs and the files they
// delivered.
func runFlowLogs(ctx context.Context, s sourceRun) ([]evidence.Coverage, error) {
	var rows []evidence.Coverage
	sink := cwlogs.CaseSink(s.c)
	for _, region := range s.t.regions {
		r := region
		cfg := s.t.cfg
		clients := flowlogs.Clients{
			EC2:  ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = r }),
			Logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = r }),
			S3: func(ctx context.Context, bucket string) (flowlogs.S3API, error) {
				return s3.NewFromConfig(cfg, func(so *s3.Options) {
					so.UsePathStyle = pathStyle(cfg)
					so.Region = bucketRegionOf(ctx, cfg, bucket, r)
				}), nil
			},
		}
		res, err := flowlogs.Collect(ctx, clients, flowlogs.Options{Account: s.t.account, Region: r, Since: s.o.since, Until: s.o.until,
			Concurrency: s.o.concurrency, LogsLimiter: logsLimiter(s.t.account, r)}, sink)
		rows = append(rows, res.Coverage...)
		s.items.Add(int64(res.Downloaded))
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// runLogGroups collects the log groups --log-groups names: REGION:NAME, or
// NAME in the configuration's region.
func runLogGroups(ctx context.Context, s sourceRun) ([]evidence.Coverage, error) {
	if len(s.o.logGroups) == 0 {
		return []evidence.Coverage{{Source: "cloudwatch", Account: s.t.account, Region: "-", Exists: "unknown",
			Detail: "no log group named: give --log-groups to collect CloudWatch Logs groups (application, VPC, Lambda logs)"}}, nil
	}
	byRegion := map[string][]string{}
	for _, g := range s.o.logGroups {
		region, name := s.t.cfg.Region, g
		if r, n, ok := strings.Cut(g, ":"); ok {
			region, name = r, n
		}
		byRegion[region] = append(byRegion[region], name)
	}
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	var rows []evidence.Coverage
	sink := cwlogs.CaseSink(s.c)
	for _, r := range regions {
		region := r
		api := cloudwatchlogs.NewFromConfig(s.t.cfg, func(o *cloudwatchlogs.Options) { o.Region = region })
		res, err := cwlogs.Collect(ctx, api, byRegion[region], cwlogs.Options{Account: s.t.account, Region: region, Since: s.o.since, Until: s.o.until,
			Limiter: logsLimiter(s.t.account, region)}, sink)
		rows = append(rows, res.Coverage...)
		for _, g := range res.Groups {
			s.items.Add(int64(g.Events))
		}
		if err != nil {
			return rows, fmt.Errorf("cloudwatch logs in %s: %w", region, err)
		}
	}
	return rows, nil
}

// bucketRegionOf asks S3 where a bucket lives; fallback when it cannot tell.
func bucketRegionOf(ctx context.Context, cfg aws.Config, bucket, fallback string) string {
	client := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = pathStyle(cfg) })
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil && aws.ToString(out.BucketRegion) != "" {
		return aws.ToString(out.BucketRegion)
	}
	// S3 names the bucket's region even when it refuses (301, 403)
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return r
		}
	}
	return fallback
}
