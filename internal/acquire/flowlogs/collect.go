package flowlogs

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/harrier-ir/harrier/internal/acquire/cwlogs"
	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// Collect acquires the flow logs of one account and region: it stores
// what DescribeFlowLogs answered (every page, in one document, at
// aws/ACCOUNT/REGION/flowlogs/describe-flow-logs.json), then for each
// destination: the S3 files of the window's days (and Grace after), at
// s3/BUCKET/KEY with their S3 provenance, skipping those the sink holds
// with the same ETag and size; the CloudWatch Logs groups' events through
// cwlogs; Firehose streams named in the coverage row's Detail.
//
// Refusals and failures are recorded (Problems, Failed) and the rest goes
// on; a DescribeFlowLogs refused leaves the region's row "unknown". It
// returns an error for bad options, a sink that cannot store, or the end
// of ctx, with what was done so far. A file cut short by ctx is not
// stored, so the next run fetches it whole.
func Collect(ctx context.Context, c Clients, opts Options, sink cwlogs.Sink) (Result, error) {
	if err := opts.check(); err != nil {
		return Result{}, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &run{c: c, opts: opts, sink: sink}
	exists, detail, err := r.collect(ctx)
	res := r.result()
	row := evidence.Coverage{Source: "flowlogs", Account: opts.Account, Region: opts.Region, Exists: exists,
		Items: res.FlowLogs, Files: res.Listed, Bytes: res.ListedSize, Detail: detail, Problems: res.Problems}
	if !res.FirstDay.IsZero() {
		row.From, row.To = res.FirstDay, res.LastDay.AddDate(0, 0, 1)
	}
	res.Coverage = append([]evidence.Coverage{row}, res.Logs.Coverage...)
	if err != nil {
		return res, fmt.Errorf("flow logs of %s/%s: %w", opts.Account, opts.Region, err)
	}
	return res, nil
}

// run is one Collect's state, shared by its downloads.
type run struct {
	c    Clients
	opts Options
	sink cwlogs.Sink

	mu  sync.Mutex
	res Result
}

// collect does the work and returns the coverage row's Exists and Detail.
func (r *run) collect(ctx context.Context) (exists, detail string, err error) {
	fls, err := r.describe(ctx)
	if err != nil {
		if !evidence.Answered(err) {
			return "unknown", "", err
		}
		r.problem(evidence.NewProblem("ec2", "DescribeFlowLogs", r.opts.Account, r.opts.Region, "", err))
		return "unknown", "DescribeFlowLogs failed: whether flow logs exist here is not known", nil
	}
	r.res.FlowLogs = len(fls)
	if len(fls) == 0 {
		return "no", "no flow logs: no network evidence exists in this region", nil
	}
	dests, bad := destinations(fls)
	var parts []string
	for _, id := range sortedKeys(bad) {
		r.problem(evidence.NewProblem("ec2", "DescribeFlowLogs", r.opts.Account, r.opts.Region, id, bad[id]))
	}
	var groups []string
	for _, d := range dests {
		what := fmt.Sprintf("%s (%s) -> %s", strings.Join(d.flowLogs, ","), strings.Join(d.resources, ","), d)
		switch d.kind {
		case types.LogDestinationTypeS3:
			if err := r.s3(ctx, d); err != nil {
				return "yes", "", err
			}
		case types.LogDestinationTypeCloudWatchLogs:
			if r.c.Logs == nil {
				what += " (not collected: no CloudWatch Logs client)"
			} else {
				groups = append(groups, d.group)
			}
		default:
			what += " (cannot be collected from here: the stream's consumers hold the records)"
		}
		parts = append(parts, what)
	}
	if len(groups) > 0 {
		lr, err := cwlogs.Collect(ctx, r.c.Logs, groups, cwlogs.Options{Account: r.opts.Account, Region: r.opts.Region,
			Since: r.opts.Since, Until: r.opts.Until, Limiter: r.opts.LogsLimiter, Now: r.opts.Now}, r.sink)
		r.res.Logs = lr
		if err != nil {
			return "yes", "", err
		}
	}
	detail = fmt.Sprintf("%d flow logs: %s", len(fls), strings.Join(parts, "; "))
	return "yes", detail, nil
}

// describe reads every page of DescribeFlowLogs and stores them as one
// answer.
func (r *run) describe(ctx context.Context) ([]types.FlowLog, error) {
	at := r.opts.Now().UTC()
	all := &ec2.DescribeFlowLogsOutput{FlowLogs: []types.FlowLog{}}
	in := &ec2.DescribeFlowLogsInput{MaxResults: aws.Int32(1000)}
	for {
		out, err := r.c.EC2.DescribeFlowLogs(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ec2 DescribeFlowLogs: %w", err)
		}
		all.FlowLogs = append(all.FlowLogs, out.FlowLogs...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.Slice(all.FlowLogs, func(i, j int) bool {
		return aws.ToString(all.FlowLogs[i].FlowLogId) < aws.ToString(all.FlowLogs[j].FlowLogId)
	})
	rel := path.Join("aws", r.opts.Account, r.opts.Region, "flowlogs", DescribeName)
	src := evidence.Source{Service: "ec2", API: "DescribeFlowLogs", Account: r.opts.Account, Region: r.opts.Region, RequestTime: at}
	if err := evidence.PutJSON(r.sink, rel, all, src); err != nil {
		return nil, fmt.Errorf("store %s: %w", rel, err)
	}
	return all.FlowLogs, nil
}

// s3 lists and downloads one S3 destination's files of the window.
func (r *run) s3(ctx context.Context, d *destination) error {
	api, err := r.c.S3(ctx, d.bucket)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.problem(evidence.NewProblem("s3", "client", r.opts.Account, r.opts.Region, "s3://"+d.bucket, err))
		return nil
	}
	n := r.opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	jobs := make(chan object, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for o := range jobs {
				r.fetch(ctx, api, o)
			}
		})
	}
	w := &walker{api: api, bucket: d.bucket,
		list: func() { r.mu.Lock(); r.res.ListCalls++; r.mu.Unlock() },
		failed: func(prefix string, err error) {
			r.problem(evidence.NewProblem("s3", "ListObjectsV2", r.opts.Account, r.opts.Region, "s3://"+d.bucket+"/"+prefix, err))
		}}
	win := window{since: r.opts.Since.UTC(), until: r.opts.Until.UTC().Add(Grace)}
	for _, root := range roots(d.prefix, r.opts.Account, r.opts.Region) {
		err = w.walk(ctx, root, win, func(o object) {
			r.listed(o)
			select {
			case jobs <- o:
			case <-ctx.Done():
			}
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// listed counts a file found in the window.
func (r *run) listed(o object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Listed++
	r.res.ListedSize += o.size
	if r.res.FirstDay.IsZero() || o.day.Before(r.res.FirstDay) {
		r.res.FirstDay = o.day
	}
	if o.day.After(r.res.LastDay) {
		r.res.LastDay = o.day
	}
}

func (r *run) problem(p evidence.Problem) {
	r.mu.Lock()
	r.res.Problems = append(r.res.Problems, p)
	r.mu.Unlock()
}

// result returns the run's figures in a stable order.
func (r *run) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	sort.Slice(res.Failed, func(i, j int) bool {
		return res.Failed[i].Bucket+"/"+res.Failed[i].Key < res.Failed[j].Bucket+"/"+res.Failed[j].Key
	})
	sort.SliceStable(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		return a.API+" "+a.Target < b.API+" "+b.Target
	})
	return res
}

func sortedKeys(m map[string]error) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
