package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/acquire/lookup"
	"github.com/harrier-ir/harrier/internal/acquire/trails"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/ingest"
	"github.com/harrier-ir/harrier/internal/store"
)

// acquireSources are the evidence sources this version collects; the rest
// of the list comes later and is refused by name, not ignored.
var acquireSources = map[string]bool{"cloudtrail": true, "digests": true, "lookup": true}

var plannedSources = []string{"flowlogs", "cloudwatch", "guardduty", "securityhub", "inspector", "macie", "iam", "s3", "ec2", "org"}

// allRegions are the commercial regions acquire asks when given --regions
// all (DescribeRegions would need EC2 permissions and its SDK).
var allRegions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// iamPolicy is the least-privilege, read-only policy acquire needs for
// what it collects.
const iamPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "HarrierIdentity",
      "Effect": "Allow",
      "Action": ["sts:GetCallerIdentity"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCloudTrailConfiguration",
      "Effect": "Allow",
      "Action": ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:ListPublicKeys", "cloudtrail:LookupEvents"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierTrailLogs",
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion"],
      "Resource": ["arn:aws:s3:::TRAIL-BUCKET", "arn:aws:s3:::TRAIL-BUCKET/*"]
    },
    {
      "Sid": "HarrierTrailLogsEncrypted",
      "Effect": "Allow",
      "Action": ["kms:Decrypt"],
      "Resource": "arn:aws:kms:*:*:key/TRAIL-KEY-ID",
      "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    }
  ]
}
`

type acquireOptions struct {
	since, until      time.Time
	profile, roleARN  string
	regions, accounts []string
	digests, lookup   bool
	logs, trails      bool
	concurrency       int
	noIngest          bool
}

func runAcquire(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "acquire", "--case DIR --since T [--until T] [--profile P | --role-arn ARN] [--regions all|R,...] [--accounts ID,...] [--sources cloudtrail,digests]")
	caseFlag := fs.String("case", "", "the case folder (created on first use); or HARRIER_CASE")
	since := fs.String("since", "", "collect from this time on (RFC 3339 or YYYY-MM-DD, UTC); required")
	until := fs.String("until", "", "collect up to this time (default: now)")
	var o acquireOptions
	fs.StringVar(&o.profile, "profile", "", "the AWS profile to use (default: the standard credential chain)")
	fs.StringVar(&o.roleARN, "role-arn", "", "assume this responder role first")
	var regions, accounts, sources listFlag
	fs.Var(&regions, "regions", "regions to ask: all (default) or a comma-separated list")
	fs.Var(&accounts, "accounts", "only these accounts' logs (default: every account the trails hold)")
	fs.Var(&sources, "sources", "what to collect: cloudtrail (trail logs from S3), digests, lookup (event history where no trail covers a region); default all three")
	fs.IntVar(&o.concurrency, "concurrency", 8, "downloads at once")
	fs.BoolVar(&o.noIngest, "no-ingest", false, "only collect; do not load the logs into the case's database")
	printPolicy := fs.Bool("print-iam-policy", false, "print the read-only IAM policy acquire needs, and stop")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *printPolicy {
		fmt.Fprint(e.stdout, iamPolicy)
		return nil
	}
	if len(sources) == 0 {
		sources = listFlag{"cloudtrail", "digests", "lookup"}
	}
	for _, s := range sources {
		if !acquireSources[s] {
			for _, p := range plannedSources {
				if s == p {
					return usageErr("--sources %s: not collected by this version yet (it collects cloudtrail, digests and lookup)", s)
				}
			}
			return usageErr("--sources %s: unknown source", s)
		}
		o.digests = o.digests || s == "digests"
		o.lookup = o.lookup || s == "lookup"
		o.logs = o.logs || s == "cloudtrail"
		o.trails = o.trails || s == "cloudtrail" || s == "digests"
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
		o.regions = allRegions
	}
	o.accounts = accounts
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
	res, err := acquire(ctx, e.stderr, c, cfg, o)
	if err != nil {
		return err
	}
	writeCoverage(e.stdout, res)
	toLoad, err := notLoaded(ctx, st, res.stored)
	if err != nil {
		return err
	}
	if !o.noIngest && len(toLoad) > 0 {
		fmt.Fprintf(e.stdout, "\n== Loading what was collected\n")
		sum, err := ingest.Run(ctx, c, st, ingest.Options{Acquired: toLoad})
		if err != nil {
			return err
		}
		printIngestSummary(e.stdout, c.Meta.ID, sum)
		if !sum.OK() {
			return errPartial
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
	if o.roleARN != "" {
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
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}

type acquireResult struct {
	lookups   []lookupRun
	caller    map[string]string
	trails    []trails.Trail
	problems  []trails.Problem
	collected []collected
	keyErrs   []string
	notes     []string
	stored    []string // evidence paths of logs, digests and sidecars acquired (to load)
	took      time.Duration
}

type collected struct {
	trail trails.Trail
	stats trails.Stats
	err   string
}

func (r acquireResult) partial() bool {
	for _, l := range r.lookups {
		if l.err != "" {
			return true
		}
	}
	if len(r.problems) > 0 || len(r.keyErrs) > 0 {
		return true
	}
	for _, c := range r.collected {
		if c.err != "" || len(c.stats.Failed) > 0 || len(c.stats.Problems) > 0 {
			return true
		}
	}
	return false
}

func acquire(ctx context.Context, log io.Writer, c *casefile.Case, cfg aws.Config, o acquireOptions) (acquireResult, error) {
	start := time.Now()
	var res acquireResult
	stamp := time.Now().UTC().Format("20060102T150405Z")
	// who the evidence is acquired as, first: it goes in the chain of custody
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return res, fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	res.caller = map[string]string{"account": aws.ToString(id.Account), "arn": aws.ToString(id.Arn), "user_id": aws.ToString(id.UserId)}
	body, _ := json.MarshalIndent(res.caller, "", "  ")
	if _, err := c.AddAcquired("aws/acquisitions/"+stamp+"/caller-identity.json", "aws:sts:GetCallerIdentity", "aws-caller-identity", body,
		map[string]any{"service": "sts", "api": "GetCallerIdentity", "request_time": time.Now().UTC(), "profile": o.profile, "role_arn": o.roleARN}); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "acquiring as %s (account %s)\n", safe(res.caller["arn"]), safe(res.caller["account"]))

	clients := map[string]trails.CloudTrailAPI{}
	for _, r := range o.regions {
		region := r
		clients[region] = ctapi.NewFromConfig(cfg, func(co *ctapi.Options) { co.Region = region })
	}
	d, err := trails.Discover(ctx, clients)
	if err != nil {
		return res, err
	}
	res.trails, res.problems = d.Trails, d.Problems
	for _, r := range d.Responses {
		b, _ := json.MarshalIndent(r, "", "  ")
		if _, err := c.AddAcquired("aws/"+res.caller["account"]+"/"+r.Path(), "aws:cloudtrail:"+r.API+":"+r.Region, "aws-api-response", b,
			map[string]any{"service": r.Service, "api": r.API, "region": r.Region, "trail": r.Trail, "request_time": r.RequestTime}); err != nil {
			return res, err
		}
	}
	sink := trails.CaseSink(c)
	done := map[string]bool{}
	for _, t := range d.Trails {
		if !o.trails || t.Bucket == "" || done[t.Bucket+"/"+t.Prefix] {
			continue
		}
		done[t.Bucket+"/"+t.Prefix] = true
		fmt.Fprintf(log, "collecting %s from s3://%s/%s\n", safe(t.ARN), safe(t.Bucket), safe(t.Prefix))
		client := s3.NewFromConfig(cfg, func(so *s3.Options) {
			so.UsePathStyle = pathStyle(cfg)
			so.Region = bucketRegion(ctx, cfg, t)
		})
		versioned, verr := bucketVersioned(ctx, client, t.Bucket)
		if verr != nil {
			res.problems = append(res.problems, trails.Problem{Service: "s3", API: "GetBucketVersioning", Target: "s3://" + t.Bucket,
				Denied: trails.IsDenied(verr), Error: verr.Error() + " (deleted or overwritten log files, kept as earlier versions, may be missed)"})
		}
		stats, err := trails.Collect(ctx, client, t, trails.Options{Accounts: o.accounts, Regions: regionFilter(o), Since: o.since, Until: o.until,
			Concurrency: o.concurrency, SkipLogs: !o.logs, SkipDigests: !o.digests, Versions: versioned}, sink)
		col := collected{trail: t, stats: stats}
		if err != nil {
			if ctx.Err() != nil {
				return res, err // interrupted: what was stored stays, a re-run resumes
			}
			col.err = err.Error()
		}
		res.collected = append(res.collected, col)
	}
	if o.lookup {
		if err := lookupUncovered(ctx, log, c, cfg, o, &res); err != nil {
			return res, err
		}
	}
	// what this run (or an interrupted earlier one) stored and the store
	// has not loaded: every acquired log, digest, sidecar and event page
	for _, e := range c.Latest() {
		switch {
		case strings.HasPrefix(e.Path, "evidence/s3/") && (e.Content == "cloudtrail-log" || e.Content == "cloudtrail-digest" || e.Content == "digest-metadata"),
			strings.HasPrefix(e.Path, "evidence/lookup-events/") && e.Content == lookup.ContentPage:
			res.stored = append(res.stored, e.Path)
		}
	}
	sort.Strings(res.stored)
	if o.digests {
		if err := fetchKeysWith(ctx, log, c, cfg); err != nil {
			res.keyErrs = append(res.keyErrs, err.Error())
		}
	}
	res.took = time.Since(start)
	return res, nil
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

// regionFilter narrows the logs to the regions asked, unless all were.
func regionFilter(o acquireOptions) []string {
	if len(o.regions) == len(allRegions) {
		return nil
	}
	return o.regions
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

// writeCoverage prints, per trail, account and region, what the bucket held
// in the window and what was collected, and what was missing or denied.
func writeCoverage(w io.Writer, r acquireResult) {
	fmt.Fprintf(w, "== Acquired as %s\n", safe(r.caller["arn"]))
	denied := 0
	for _, p := range r.problems {
		if p.API == "DescribeTrails" {
			denied++
		}
	}
	switch {
	case len(r.trails) == 0 && denied > 0:
		fmt.Fprintf(w, "Trails unknown: DescribeTrails failed in %d regions (see below), so whether trails exist cannot be told.\n", denied)
	case len(r.trails) == 0:
		fmt.Fprintln(w, "No trail found in the regions asked: this account's API history is only in CloudTrail's event history (LookupEvents: management events of the last 90 days).")
	}
	for _, t := range r.trails {
		status := "logging status unknown"
		if t.Status != nil {
			status = "logging"
			if !t.Status.IsLogging {
				status = "NOT logging"
				if !t.Status.StopLoggingTime.IsZero() {
					status += " since " + timeText(t.Status.StopLoggingTime)
				}
			}
		}
		fmt.Fprintf(w, "\ntrail %s (home %s, %s, multi-region %v, organization %v, log file validation %v) → s3://%s/%s\n",
			safe(t.ARN), t.HomeRegion, status, t.MultiRegion, t.Organization, t.LogFileValidation, safe(t.Bucket), safe(t.Prefix))
	}
	for _, col := range r.collected {
		s := col.stats
		failed := 0
		for _, f := range s.Failed {
			if !f.Unsigned {
				failed++
			}
		}
		fmt.Fprintf(w, "\ns3://%s: %d objects in the window, %d downloaded (%s), %d already in the case, %d failed\n",
			safe(col.trail.Bucket), s.Listed, s.Downloaded, sizeText(s.Bytes), s.Skipped, failed)
		fmt.Fprintf(w, "  %-14s  %-14s  %-10s  %-10s  %6s  %7s\n", "ACCOUNT", "REGION", "FIRST DAY", "LAST DAY", "LOGS", "DIGESTS")
		for _, cv := range s.Coverage {
			acct := cv.Account
			if cv.Org != "" {
				acct = cv.Org + "/" + acct
			}
			first, last := "-", "-"
			if !cv.FirstDay.IsZero() {
				first, last = cv.FirstDay.Format("2006-01-02"), cv.LastDay.Format("2006-01-02")
			}
			fmt.Fprintf(w, "  %-14s  %-14s  %-10s  %-10s  %6d  %7d\n", safe(acct), safe(cv.Region), first, last, cv.Logs, cv.Digests)
			if len(cv.NoLogs) > 0 {
				fmt.Fprintf(w, "  %-14s  %-14s  no log files on %s\n", "", "", dayRanges(cv.NoLogs))
			}
		}
		var unsigned []string
		for _, f := range s.Failed {
			if f.Unsigned {
				unsigned = append(unsigned, f.Key)
				continue
			}
			fmt.Fprintf(w, "  %s  %s: %s\n", deniedWord(f.Denied), safe(f.Key), safe(f.Error))
		}
		if s.Noncurrent > 0 {
			fmt.Fprintf(w, "  versions  %d earlier versions of files (overwritten or deleted) collected beside the current ones\n", s.Noncurrent)
		}
		for _, d := range s.Deleted {
			fmt.Fprintf(w, "  DELETED   %s at %s (delete marker %s): its earlier versions are collected\n", safe(d.Key), timeText(d.At), safe(d.VersionID))
		}
		if len(unsigned) > 0 {
			fmt.Fprintf(w, "  unsigned  %d digests carry no signature in their S3 metadata: kept, but they cannot be verified (the first: %s)\n", len(unsigned), safe(unsigned[0]))
		}
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %s  %s %s: %s\n", deniedWord(p.Denied), p.API, safe(p.Target), safe(p.Error))
		}
		if col.err != "" {
			fmt.Fprintf(w, "  stopped: %s\n", safe(col.err))
		}
	}
	for _, p := range r.problems {
		fmt.Fprintf(w, "%s  %s:%s in %s %s: %s\n", deniedWord(p.Denied), p.Service, p.API, p.Region, safe(p.Target), safe(p.Error))
	}
	for _, k := range r.keyErrs {
		fmt.Fprintf(w, "public keys: %s\n", safe(k))
	}
	if len(r.lookups) > 0 {
		fmt.Fprintf(w, "\nevent history (LookupEvents: management events, 90 days) where no trail covers the region\n")
	}
	for _, l := range r.lookups {
		switch {
		case l.err != "":
			fmt.Fprintf(w, "  %-14s  %s: %s\n", l.region, deniedWord(l.denied), safe(l.err))
		case l.stats.Skipped:
			fmt.Fprintf(w, "  %-14s  already in the case\n", l.region)
		default:
			fmt.Fprintf(w, "  %-14s  %d events in %d pages (%d requests, %d throttled), %s → %s\n", l.region, l.stats.Events, l.stats.Pages,
				l.stats.Requests, l.stats.Throttled, timeText(l.stats.Oldest), timeText(l.stats.Newest))
		}
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "note: %s\n", safe(n))
	}
	fmt.Fprintf(w, "\n(took %s)\n", r.took.Round(time.Millisecond))
}

// dayRanges writes sorted days as ranges: "2026-03-01, 2026-03-03 → 2026-03-05".
func dayRanges(days []time.Time) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1].Equal(days[j].AddDate(0, 0, 1)) {
			j++
		}
		p := days[i].Format("2006-01-02")
		if j > i {
			p += " → " + days[j].Format("2006-01-02")
		}
		parts = append(parts, p)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func deniedWord(denied bool) string {
	if denied {
		return "DENIED"
	}
	return "failed"
}

// notLoaded keeps the evidence paths the case's database has not loaded.
func notLoaded(ctx context.Context, st *store.Store, paths []string) ([]string, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT DISTINCT evidence_file FROM files`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		done[p] = true
	}
	var out []string
	for _, p := range paths {
		if !done[p] {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

type lookupRun struct {
	region string
	stats  lookup.Stats
	err    string
	denied bool
}

// lookupHistory is how far back LookupEvents reaches.
const lookupHistory = 90 * 24 * time.Hour

// lookupUncovered collects CloudTrail's event history (LookupEvents, paced
// at its limit of 2 requests a second) in each region asked that no trail
// of the caller's account covers: there, it is the only record.
func lookupUncovered(ctx context.Context, log io.Writer, c *casefile.Case, cfg aws.Config, o acquireOptions, res *acquireResult) error {
	account := res.caller["account"]
	covered := map[string]bool{}
	all := false
	for _, t := range res.trails {
		if t.Account != account && !t.Organization {
			continue
		}
		if why := notCovering(t, o, res); why != "" {
			res.notes = append(res.notes, fmt.Sprintf("trail %s does not cover the window (%s): event history is collected where it would have", t.ARN, why))
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
		res.notes = append(res.notes, fmt.Sprintf("LookupEvents reaches back 90 days: event history is collected from %s", timeText(since)))
	}
	// a window still open would be marked complete too early: events are
	// delivered to the history up to about 15 minutes late
	until := o.until
	if latest := time.Now().UTC().Add(-15 * time.Minute).Truncate(time.Minute); until.After(latest) {
		until = latest
		res.notes = append(res.notes, fmt.Sprintf("event history is collected up to %s: later events may not have arrived yet; run acquire again later for them", timeText(until)))
	}
	if !since.Before(until) {
		return nil
	}
	sink := lookup.CaseSink(c)
	for _, region := range o.regions {
		if covered[region] {
			continue
		}
		from := lookup.Resume(c, account, region, since)
		if !from.Before(until) {
			res.lookups = append(res.lookups, lookupRun{region: region, stats: lookup.Stats{Skipped: true}})
			continue
		}
		if from.After(since) {
			res.notes = append(res.notes, fmt.Sprintf("%s: the event history before %s is already in the case", region, timeText(from)))
		}
		fmt.Fprintf(log, "collecting event history (LookupEvents) in %s from %s\n", region, timeText(from))
		r := region
		client := ctapi.NewFromConfig(cfg, func(co *ctapi.Options) { co.Region = r })
		st, err := lookup.Collect(ctx, client, region, lookup.Options{Account: account, Since: from, Until: until}, sink)
		run := lookupRun{region: region, stats: st}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			run.err, run.denied = err.Error(), trails.IsDenied(err)
		}
		res.lookups = append(res.lookups, run)
	}
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
	if !managementEvents(t) {
		return "its selectors take no management events"
	}
	for _, col := range res.collected {
		if col.trail.Bucket == t.Bucket && (col.err != "" || len(col.stats.Problems) > 0) {
			return "its bucket could not be collected whole"
		}
	}
	return ""
}

// managementEvents says whether a trail's selectors record management
// events (unknown selectors count as no).
func managementEvents(t trails.Trail) bool {
	for _, s := range t.EventSelectors {
		if s.IncludeManagementEvents == nil || *s.IncludeManagementEvents {
			return true
		}
	}
	for _, a := range t.AdvancedEventSelectors {
		for _, f := range a.FieldSelectors {
			if aws.ToString(f.Field) == "eventCategory" && slices.Contains(f.Equals, "Management") {
				return true
			}
		}
	}
	return false
}
