package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/acquire/lookup"
	"github.com/harrier-ir/harrier/internal/acquire/trails"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// allRegions are the commercial regions acquire asks when given --regions
// all and EC2's DescribeRegions (which says which regions the account has
// enabled) is refused; the list of aws-sdk-go-v2's partitions.
var allRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// acquirePolicy is the least-privilege, read-only IAM policy acquire needs
// for what it collects: identity and role assumption, CloudTrail, the
// trail buckets (named as placeholders to replace), and every API source's
// read actions.
func acquirePolicy() string {
	type statement struct {
		Sid       string         `json:"Sid"`
		Effect    string         `json:"Effect"`
		Action    []string       `json:"Action"`
		Resource  any            `json:"Resource"`
		Condition map[string]any `json:"Condition,omitempty"`
	}
	sources := map[string]bool{}
	for _, src := range apiSources() {
		for _, a := range src.actions {
			sources[a] = true
		}
	}
	var actions []string
	for a := range sources {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	doc := map[string]any{"Version": "2012-10-17", "Statement": []statement{
		{Sid: "HarrierIdentity", Effect: "Allow", Action: []string{"ec2:DescribeRegions", "sts:GetCallerIdentity"}, Resource: "*"},
		{Sid: "HarrierAssumeResponderRole", Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: "arn:aws:iam::*:role/RESPONDER-ROLE"},
		{Sid: "HarrierCloudTrailConfiguration", Effect: "Allow", Action: []string{"cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors",
			"cloudtrail:GetTrailStatus", "cloudtrail:ListPublicKeys", "cloudtrail:LookupEvents"}, Resource: "*"},
		{Sid: "HarrierTrailLogs", Effect: "Allow", Action: []string{"s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetObject",
			"s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"}, Resource: []string{"arn:aws:s3:::TRAIL-BUCKET", "arn:aws:s3:::TRAIL-BUCKET/*"}},
		{Sid: "HarrierTrailLogsEncrypted", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: "arn:aws:kms:*:*:key/TRAIL-KEY-ID",
			Condition: map[string]any{"StringLike": map[string]any{"kms:ViaService": "s3.*.amazonaws.com"}}},
		{Sid: "HarrierFlowLogFiles", Effect: "Allow", Action: []string{"s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"},
			Resource: []string{"arn:aws:s3:::FLOWLOG-BUCKET", "arn:aws:s3:::FLOWLOG-BUCKET/*"}},
		{Sid: "HarrierOtherSources", Effect: "Allow", Action: actions, Resource: "*"},
	}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b) + "\n"
}

var (
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountID  = regexp.MustCompile(`^[0-9]{12}$`)
)

// setSources checks --sources against the sources there are and sets
// what each part of acquire runs; every source when none is named.
func (o *acquireOptions) setSources(names []string) error {
	known := map[string]bool{}
	all := append([]string(nil), trailSources...)
	for _, s := range apiSources() {
		all = append(all, s.name)
	}
	for _, s := range all {
		known[s] = true
	}
	if len(names) == 0 {
		names = all
	}
	o.sources, o.apiSources = nil, map[string]bool{}
	for _, s := range names {
		if !known[s] {
			return usageErr("--sources %s: unknown source (there are %s)", s, strings.Join(all, ", "))
		}
		o.sources = append(o.sources, s)
		o.digests = o.digests || s == "digests"
		o.lookup = o.lookup || s == "lookup"
		o.logs = o.logs || s == "cloudtrail"
		o.trails = o.trails || s == "cloudtrail" || s == "digests"
		if !slices.Contains(trailSources, s) {
			o.apiSources[s] = true
		}
	}
	return nil
}

type acquireOptions struct {
	since, until      time.Time
	profile, roleARN  string
	roleName          string
	regions, accounts []string
	digests, lookup   bool
	logs, trails      bool
	concurrency       int
	noIngest          bool
	everyRegion       bool            // --regions all: each account's enabled regions (DescribeRegions)
	sources           []string        // every source asked, in the order given
	apiSources        map[string]bool // the API sources among them
	logGroups         []string        // CloudWatch Logs groups to collect (--log-groups)
}

func runAcquire(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "acquire", "--case DIR --since T [--until T] [--profile P | --role-arn ARN] [--regions all|R,...] [--accounts ID,...] [--sources cloudtrail,digests]")
	caseFlag := fs.String("case", "", "the case folder (created on first use); or HARRIER_CASE")
	since := fs.String("since", "", "collect from this time on (RFC 3339 or YYYY-MM-DD, UTC); required")
	until := fs.String("until", "", "collect up to this time (default: now)")
	var o acquireOptions
	fs.StringVar(&o.profile, "profile", "", "the AWS profile to use (default: the standard credential chain)")
	fs.StringVar(&o.roleARN, "role-arn", "", "assume this responder role first; with {account} in it, assume it in each account of --accounts")
	fs.StringVar(&o.roleName, "role-name", "", "assume the role of this name in each account of --accounts (as --role-arn arn:aws:iam::{account}:role/NAME)")
	var regions, accounts, sources, logGroups listFlag
	fs.Var(&regions, "regions", "regions to ask: all (default) or a comma-separated list")
	fs.Var(&accounts, "accounts", "only these accounts' logs (default: every account the trails hold)")
	fs.Var(&sources, "sources", "what to collect (default: all): cloudtrail (trail logs from S3), digests, lookup (event history where no trail covers a region), and the other sources of docs/CLI.md")
	fs.Var(&logGroups, "log-groups", "CloudWatch Logs groups to collect (source cloudwatch): NAME (in the configuration's region) or REGION:NAME, comma-separated")
	fs.IntVar(&o.concurrency, "concurrency", 8, "downloads at once")
	fs.BoolVar(&o.noIngest, "no-ingest", false, "only collect; do not load the logs into the case's database")
	printPolicy := fs.Bool("print-iam-policy", false, "print the read-only IAM policy acquire needs, and stop")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *printPolicy {
		fmt.Fprint(e.stdout, acquirePolicy())
		return nil
	}
	if err := o.setSources(sources); err != nil {
		return err
	}
	if len(regions) > 0 && regions[0] != "all" && !slices.Contains([]string(regions), "us-east-1") {
		fmt.Fprintln(e.stderr, "harrier: note: --regions leaves out us-east-1, where trails deliver the global services' events (IAM, STS, CloudFront); add it to collect them")
	}
	if *since == "" {
		return usageErr("acquire needs --since: the start of the period to collect")
	}
	var err error
	if o.since, err = parseTimeFlag("since", *since, false); err != nil {
		return err
	}
	if o.until, err = parseTimeFlag("until", *until, true); err != nil {
		return err
	}
	if o.until.IsZero() {
		o.until = time.Now().UTC()
	}
	if !o.since.Before(o.until) {
		return usageErr("--since must come before --until")
	}
	o.regions = regions
	if len(o.regions) == 0 || (len(o.regions) == 1 && o.regions[0] == "all") {
		o.regions, o.everyRegion = allRegions, true
	}
	for _, r := range o.regions {
		if !regionName.MatchString(r) {
			return usageErr("--regions %s: not a region name (e.g. us-east-1)", r)
		}
	}
	for _, a := range accounts {
		if !accountID.MatchString(a) {
			return usageErr("--accounts %s: not an account id (12 digits)", a)
		}
	}
	o.accounts = accounts
	o.logGroups = logGroups
	if (o.roleName != "" || strings.Contains(o.roleARN, accountPlaceholder)) && len(o.accounts) == 0 {
		return usageErr("--role-name and --role-arn with {account} assume a role in each account of --accounts: name the accounts")
	}
	if o.roleName != "" && o.roleARN != "" {
		return usageErr("give --role-name or --role-arn, not both")
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	cfg, err := awsConfig(ctx, o)
	if err != nil {
		return err
	}
	c, st, err := openForWrite(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	// the log is written from several goroutines (the loader, the regions'
	// event history, progress bars)
	log := &lockedWriter{w: e.stderr}
	// CloudTrail evidence is loaded as it lands, in batches, unless
	// --no-ingest; what an interrupted earlier run stored is loaded too
	var ld *loader
	stop := make(chan struct{})
	var loading sync.WaitGroup
	if !o.noIngest {
		if ld, err = newLoader(ctx, c, st, log); err != nil {
			return err
		}
		loading.Go(func() { ld.run(ctx, stop) })
	}
	res, err := acquire(ctx, log, c, cfg, o)
	close(stop)
	loading.Wait()
	if err != nil {
		if ld != nil && ctx.Err() != nil {
			// interrupted: what was stored stays; the next run loads the rest
			fmt.Fprintln(log, "harrier: acquisition interrupted; what was collected is in the case, and a re-run resumes")
		}
		return err
	}
	if err := saveCoverage(c, res, o); err != nil {
		return err
	}
	writeCoverage(e.stdout, res)
	if ld != nil {
		sum, batches, err := ld.finish(ctx)
		if err != nil {
			return err
		}
		if batches > 0 {
			fmt.Fprintf(e.stdout, "\n== Loading what was collected\n")
			printIngestSummary(e.stdout, c.Meta.ID, sum)
			if !sum.OK() {
				return errPartial
			}
		}
	}
	if res.partial() {
		return errPartial
	}
	return nil
}

// awsConfig loads the standard AWS configuration (profiles, SSO, the
// environment, instance roles), honouring the SDK's endpoint settings, with
// the adaptive retryer for throttling, and assumes --role-arn if given.
func awsConfig(ctx context.Context, o acquireOptions) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMode(aws.RetryModeAdaptive), config.WithRetryMaxAttempts(8)}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if o.roleARN != "" && !strings.Contains(o.roleARN, accountPlaceholder) {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.roleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = "harrier-acquire"
		}))
	}
	return cfg, nil
}

// pathStyle says whether S3 must be addressed path-style: when its endpoint
// is overridden (an emulator, a VPC endpoint), virtual-hosted names do not
// resolve.
func pathStyle(cfg aws.Config) bool {
	// the S3 client resolves its own endpoint as the SDK's settings say
	// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, a profile's endpoint_url or
	// its services section): ask it rather than re-read them
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || s3.NewFromConfig(cfg).Options().BaseEndpoint != nil
}

type acquireResult struct {
	stamp     string
	caller    map[string]string // who acquire ran as
	accounts  []accountRun      // each account collected from
	unreached []accountFailure  // accounts whose role could not be assumed
	collected []collected
	coverage  []evidence.Coverage // the API sources, per account and region
	keyErrs   []string
	notes     []string
	took      time.Duration
}

// note adds a note once.
func (r *acquireResult) note(s string) {
	if !slices.Contains(r.notes, s) {
		r.notes = append(r.notes, s)
	}
}

// accountRun is what acquire found and collected in one account.
type accountRun struct {
	target
	trails   []trails.Trail
	problems []trails.Problem
	lookups  []lookupRun
}

type collected struct {
	trail   trails.Trail
	account string // whose credentials collected it
	stats   trails.Stats
	err     string
}

// anyDenied says whether a file was refused (not merely unsigned).
func anyDenied(failed []trails.Failure) bool {
	for _, f := range failed {
		if f.Denied {
			return true
		}
	}
	return false
}

func (r acquireResult) partial() bool {
	if len(r.unreached) > 0 || len(r.keyErrs) > 0 {
		return true
	}
	for _, a := range r.accounts {
		if len(a.problems) > 0 {
			return true
		}
		for _, l := range a.lookups {
			if l.err != "" {
				return true
			}
		}
	}
	for _, c := range r.collected {
		if c.err != "" || len(c.stats.Failed) > 0 || len(c.stats.Problems) > 0 {
			return true
		}
	}
	for _, cv := range r.coverage {
		if len(cv.Problems) > 0 {
			return true
		}
	}
	return false
}

// trails lists every trail found, in every account.
func (r acquireResult) trails() []trails.Trail {
	var out []trails.Trail
	for _, a := range r.accounts {
		out = append(out, a.trails...)
	}
	return out
}

func acquire(ctx context.Context, log io.Writer, c *casefile.Case, cfg aws.Config, o acquireOptions) (acquireResult, error) {
	start := time.Now()
	res := acquireResult{stamp: time.Now().UTC().Format("20060102T150405Z")}
	// who the evidence is acquired as, first: it goes in the chain of custody
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return res, fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	res.caller = map[string]string{"account": aws.ToString(id.Account), "arn": aws.ToString(id.Arn), "user_id": aws.ToString(id.UserId)}
	if err := putCaller(c, "aws/acquisitions/"+res.stamp+"/caller-identity.json", res.caller, o.profile, o.roleARN); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "acquiring as %s (account %s)\n", safe(res.caller["arn"]), safe(res.caller["account"]))
	tgts, failed := targets(ctx, log, cfg, res.caller, o)
	res.unreached = failed
	if err := ctx.Err(); err != nil {
		return res, err
	}
	sink := trails.CaseSink(c)
	done := map[string]bool{}
	for _, t := range tgts {
		if t.role != "" {
			fmt.Fprintf(log, "account %s: as %s\n", t.account, safe(t.caller["arn"]))
			if err := putCaller(c, "aws/acquisitions/"+res.stamp+"/caller-identity-"+t.account+".json", t.caller, o.profile, t.role); err != nil {
				return res, err
			}
		}
		run, err := acquireTrails(ctx, log, c, t, o, sink, done, &res)
		res.accounts = append(res.accounts, run)
		if err != nil {
			return res, err
		}
	}
	if o.lookup {
		for i := range res.accounts {
			if err := lookupUncovered(ctx, log, c, &res.accounts[i], o, &res); err != nil {
				return res, err
			}
		}
	}
	if o.digests {
		if err := fetchKeysWith(ctx, log, c, cfg); err != nil {
			res.keyErrs = append(res.keyErrs, err.Error())
		}
	}
	for _, t := range tgts {
		if err := acquireAPISources(ctx, log, c, t, o, res.stamp, &res); err != nil {
			return res, err
		}
	}
	if len(o.accounts) > 0 && perAccountRole(o, "aws") == "" && len(o.apiSources) > 0 {
		res.note(fmt.Sprintf("--accounts narrows the trail logs to %s; the other sources were collected in %s only (give --role-name or --role-arn with {account} to collect each account's)",
			strings.Join(o.accounts, ", "), res.caller["account"]))
	}
	res.took = time.Since(start)
	return res, nil
}

// putCaller records an identity acquire ran as, in the chain of custody.
func putCaller(c *casefile.Case, rel string, caller map[string]string, profile, role string) error {
	body, _ := json.MarshalIndent(caller, "", "  ")
	_, err := c.AddAcquired(rel, "aws:sts:GetCallerIdentity", "aws-caller-identity", body,
		map[string]any{"service": "sts", "api": "GetCallerIdentity", "request_time": time.Now().UTC(), "profile": profile, "role_arn": role})
	return err
}

// acquireTrails discovers one account's trails and collects the log and
// digest files of those whose bucket was not collected yet (an
// organisation trail appears in every member account).
func acquireTrails(ctx context.Context, log io.Writer, c *casefile.Case, t target, o acquireOptions, sink trails.Sink, done map[string]bool, res *acquireResult) (accountRun, error) {
	run := accountRun{target: t}
	if !o.trails && !o.lookup {
		return run, nil
	}
	clients := map[string]trails.CloudTrailAPI{}
	for _, r := range t.regions {
		region := r
		clients[region] = ctapi.NewFromConfig(t.cfg, func(co *ctapi.Options) { co.Region = region })
	}
	d, err := trails.Discover(ctx, clients)
	if err != nil {
		return run, err
	}
	run.trails, run.problems = d.Trails, d.Problems
	for _, r := range d.Responses {
		b, _ := json.MarshalIndent(r, "", "  ")
		// each run's answers in its own folder: the configuration is a
		// snapshot of a moment, like the other snapshots
		if _, err := c.AddAcquired("aws/"+t.account+"/snapshots/"+res.stamp+"/"+r.Path(), "aws:cloudtrail:"+r.API+":"+r.Region, "aws-api-response", b,
			map[string]any{"service": r.Service, "api": r.API, "account": t.account, "region": r.Region, "trail": r.Trail, "request_time": r.RequestTime}); err != nil {
			return run, err
		}
	}
	for _, tr := range d.Trails {
		if !o.trails || tr.Bucket == "" || done[tr.Bucket+"/"+tr.Prefix] {
			continue
		}
		fmt.Fprintf(log, "collecting %s from s3://%s/%s\n", safe(tr.ARN), safe(tr.Bucket), safe(tr.Prefix))
		client := s3.NewFromConfig(t.cfg, func(so *s3.Options) {
			so.UsePathStyle = pathStyle(t.cfg)
			so.Region = bucketRegion(ctx, t.cfg, tr)
		})
		versioned, verr := bucketVersioned(ctx, client, tr.Bucket)
		if verr != nil {
			run.problems = append(run.problems, trails.Problem{Service: "s3", API: "GetBucketVersioning", Target: "s3://" + tr.Bucket,
				Denied: trails.IsDenied(verr), Error: verr.Error() + " (deleted or overwritten log files, kept as earlier versions, may be missed)"})
		}
		var prog trails.Progress
		bar := startBar(log, "cloudtrail s3://"+tr.Bucket, func() (int64, int64, int64) { return prog.Done.Load(), prog.Listed.Load(), prog.Bytes.Load() })
		stats, err := trails.Collect(ctx, client, tr, trails.Options{Accounts: o.accounts, Regions: regionFilter(o, t), Since: o.since, Until: o.until,
			Concurrency: o.concurrency, SkipLogs: !o.logs, SkipDigests: !o.digests, Versions: versioned, Progress: &prog}, sink)
		bar.stop()
		col := collected{trail: tr, stats: stats, account: t.account}
		if err != nil {
			if ctx.Err() != nil {
				return run, err // interrupted: what was stored stays, a re-run resumes
			}
			col.err = err.Error()
		}
		// a bucket one account's role cannot read whole (an organisation
		// trail's, in a log archive account) is tried again with the next
		// account's; the earlier attempt stays in the coverage
		if col.err == "" && len(stats.Problems) == 0 && !anyDenied(stats.Failed) {
			done[tr.Bucket+"/"+tr.Prefix] = true
		}
		res.collected = append(res.collected, col)
	}
	return run, nil
}

// bucketVersioned asks whether a trail's bucket keeps versions (enabled,
// or suspended after being enabled): then every version is listed, so that
// a log file an attacker deleted or overwrote is still collected.
func bucketVersioned(ctx context.Context, client *s3.Client, bucket string) (bool, error) {
	out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false, fmt.Errorf("s3 GetBucketVersioning s3://%s: %w", bucket, err)
	}
	return out.Status != "", nil
}

// regionFilter narrows the logs to the regions asked, unless all were: a
// bucket then gives every region it holds, enabled or not.
func regionFilter(o acquireOptions, t target) []string {
	if o.everyRegion {
		return nil
	}
	return t.regions
}

// bucketRegion asks S3 where a trail's bucket lives; the trail's home
// region when it cannot tell.
func bucketRegion(ctx context.Context, cfg aws.Config, t trails.Trail) string {
	client := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = pathStyle(cfg) })
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(t.Bucket)})
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
	if t.HomeRegion != "" {
		return t.HomeRegion
	}
	return cfg.Region
}

type lookupRun struct {
	region string
	stats  lookup.Stats
	err    string
	denied bool
}

// lookupWindow is the span of one event-history window: each is stored
// with its own completion marker, so an interrupted run loses at most a
// window's requests.
const lookupWindow = 24 * time.Hour

// addLookupStats sums the stats of a region's windows.
func addLookupStats(a, b lookup.Stats) lookup.Stats {
	a.Requests += b.Requests
	a.Pages += b.Pages
	a.Events += b.Events
	a.Throttled += b.Throttled
	a.Elapsed += b.Elapsed
	if !b.Oldest.IsZero() && (a.Oldest.IsZero() || b.Oldest.Before(a.Oldest)) {
		a.Oldest = b.Oldest
	}
	if b.Newest.After(a.Newest) {
		a.Newest = b.Newest
	}
	return a
}

// lookupRegionsAtOnce bounds the regions whose event history is collected
// at the same time.
const lookupRegionsAtOnce = 4

// lookupHistory is how far back LookupEvents reaches.
const lookupHistory = 90 * 24 * time.Hour

// lookupUncovered collects CloudTrail's event history (LookupEvents, paced
// at its limit of 2 requests a second) in each region asked that no trail
// covering the account covers: there, it is the only record.
func lookupUncovered(ctx context.Context, log io.Writer, c *casefile.Case, run *accountRun, o acquireOptions, res *acquireResult) error {
	account := run.account
	covered := map[string]bool{}
	all := false
	for _, t := range res.trails() {
		if t.Account != account && !t.Organization {
			continue
		}
		if t.Organization && len(o.accounts) > 0 && !slices.Contains(o.accounts, account) {
			continue
		}
		if why := notCovering(t, o, res); why != "" {
			res.note(fmt.Sprintf("trail %s does not cover the window (%s): event history is collected where it would have", t.ARN, why))
			continue
		}
		if t.MultiRegion {
			all = true
		}
		covered[t.HomeRegion] = true
	}
	if all {
		return nil
	}
	since := o.since
	if floor := time.Now().UTC().Add(-lookupHistory); since.Before(floor) {
		since = floor
		res.note(fmt.Sprintf("LookupEvents reaches back 90 days: event history is collected from %s", timeText(since)))
	}
	// a window still open would be marked complete too early: events are
	// delivered to the history up to about 15 minutes late
	until := o.until
	if latest := time.Now().UTC().Add(-15 * time.Minute).Truncate(time.Minute); until.After(latest) {
		until = latest
		res.note(fmt.Sprintf("event history is collected up to %s: later events may not have arrived yet; run acquire again later for them", timeText(until)))
	}
	if !since.Before(until) {
		// the window is past the event history's reach: where no trail
		// covers, nothing records these regions' calls; a gap, said so
		for _, region := range run.regions {
			if !covered[region] {
				run.lookups = append(run.lookups, lookupRun{region: region,
					err: "the window is older than the event history's 90 days: no record of this region's API calls can be collected"})
			}
		}
		return nil
	}
	sink := lookup.CaseSink(c)
	// LookupEvents' limit (2 requests a second) is per account and region:
	// regions run side by side, a few at a time, each paced on its own
	var todo []string
	for _, region := range run.regions {
		if !covered[region] {
			todo = append(todo, region)
		}
	}
	runs := make([]lookupRun, len(todo))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, lookupRegionsAtOnce)
	for i, region := range todo {
		from := lookup.Resume(c, account, region, since)
		if !from.Before(until) {
			runs[i] = lookupRun{region: region, stats: lookup.Stats{Skipped: true}}
			continue
		}
		if from.After(since) {
			res.note(fmt.Sprintf("%s %s: the event history before %s is already in the case", account, region, timeText(from)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			mu.Lock()
			fmt.Fprintf(log, "collecting event history (LookupEvents) in %s from %s\n", region, timeText(from))
			mu.Unlock()
			client := ctapi.NewFromConfig(run.cfg, func(co *ctapi.Options) { co.Region = region })
			// a day per window, each with its completion marker: an
			// interrupted run over 90 days resumes at the day it was on
			lr := lookupRun{region: region}
			lim := evidence.NewLimiter(lookup.DefaultRate) // one pace for all of this region's windows
			for start := from; start.Before(until); {
				end := start.Add(lookupWindow)
				if end.After(until) {
					end = until
				}
				st, err := lookup.Collect(ctx, client, region, lookup.Options{Account: account, Since: start, Until: end, Limiter: lim}, sink)
				lr.stats = addLookupStats(lr.stats, st)
				if err != nil {
					lr.err, lr.denied = err.Error(), trails.IsDenied(err)
					break
				}
				start = end
			}
			runs[i] = lr
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	run.lookups = append(run.lookups, runs...)
	return nil
}

// notCovering says why a trail's logs do not stand for the window's
// management events: not logging (or stopped during it), management events
// not selected, or its bucket not collected whole. "" when it covers.
func notCovering(t trails.Trail, o acquireOptions, res *acquireResult) string {
	switch {
	case t.Status == nil:
		return "its status is unknown"
	case !t.Status.IsLogging:
		return "it is not logging"
	case !t.Status.StopLoggingTime.IsZero() && t.Status.StopLoggingTime.After(o.since):
		return "it was stopped at " + timeText(t.Status.StopLoggingTime)
	case !t.Status.StartLoggingTime.IsZero() && t.Status.StartLoggingTime.After(o.since):
		return "it started logging at " + timeText(t.Status.StartLoggingTime)
	}
	switch mgmt, writes := managementEvents(t); {
	case !mgmt:
		return "its selectors take no management events"
	case !writes:
		return "its selectors take only read-only management events: write calls are not logged"
	}
	if !o.logs {
		return "its log files were not collected (--sources without cloudtrail)"
	}
	found := false
	for _, col := range res.collected {
		if col.trail.Bucket != t.Bucket || col.trail.Prefix != t.Prefix {
			continue
		}
		found = true
		failed := 0
		for _, f := range col.stats.Failed {
			if !f.Unsigned {
				failed++
			}
		}
		if col.err != "" || len(col.stats.Problems) > 0 || failed > 0 {
			return "its bucket could not be collected whole"
		}
	}
	if !found {
		return "its bucket was not collected"
	}
	return ""
}

// managementEvents says whether a trail's selectors record management
// events, and whether write calls among them (unknown selectors count as
// no): a trail narrowed to read-only events is a known way to hide writes.
func managementEvents(t trails.Trail) (mgmt, writes bool) {
	for _, s := range t.EventSelectors {
		if s.IncludeManagementEvents == nil || *s.IncludeManagementEvents {
			mgmt = true
			if s.ReadWriteType != "ReadOnly" {
				writes = true
			}
		}
	}
	for _, a := range t.AdvancedEventSelectors {
		management, readOnly := false, false
		for _, f := range a.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				management = management || slices.Contains(f.Equals, "Management")
			case "readOnly":
				readOnly = readOnly || slices.Contains(f.Equals, "true")
			}
		}
		if management {
			mgmt = true
			writes = writes || !readOnly
		}
	}
	return mgmt, writes
}
