package trails

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/integrity"
)

// DefaultConcurrency is how many objects Collect downloads at once unless
// told otherwise.
const DefaultConcurrency = 8

// logGrace extends the days whose log files are collected past Until: a
// file lands in the folder of the day it was delivered, typically 5 to 15
// minutes after its events, so the window's last minutes sit in the next
// day's folder. digestGrace does the same for digests, which sign the logs
// of the hour before their own delivery.
const (
	logGrace    = 24 * time.Hour
	digestGrace = 48 * time.Hour
	logLead     = time.Hour // before Since: what the window's first digest signs
)

// Options narrow what Collect takes.
type Options struct {
	Accounts    []string  // the accounts to take; empty: every account found
	Regions     []string  // the regions to take; empty: every region found
	Since       time.Time // the first day to take is the one holding Since; zero: from the first
	Until       time.Time // exclusive; zero: up to the last. Digests are taken a day further.
	Concurrency int       // downloads at once; DefaultConcurrency when 0
	SkipLogs    bool      // collect no log files
	SkipDigests bool      // collect no digest files
	// Versions lists and collects every version of the files (the bucket
	// is versioned): non-current versions, what deleting or overwriting a
	// log leaves behind, are fetched by version id, and delete markers
	// are reported in Stats.Deleted.
	Versions bool
	// Now is the clock of request times; time.Now when nil.
	Now func() time.Time
	// Progress, when set, is updated as objects are found and done, for a
	// progress display.
	Progress *Progress
}

// Progress counts a Collect run's objects as it goes.
type Progress struct {
	Listed atomic.Int64 // objects found in the window so far
	Done   atomic.Int64 // downloaded, skipped or failed
	Bytes  atomic.Int64 // downloaded
}

// Stats is what Collect did.
type Stats struct {
	ListCalls  int        `json:"list_calls"`
	Listed     int        `json:"listed"`     // objects found in the window
	Downloaded int        `json:"downloaded"` // stored now
	Skipped    int        `json:"skipped"`    // already in the case with the same ETag and size
	Bytes      int64      `json:"bytes"`      // downloaded
	Failed     []Failure  `json:"failed"`     // sorted by key
	Problems   []Problem  `json:"problems"`   // prefixes S3 refused to list
	Coverage   []Coverage `json:"coverage"`   // sorted by account, region
	Noncurrent int        `json:"noncurrent"` // non-current versions found (Options.Versions)
	Deleted    []Deleted  `json:"deleted"`    // files whose current version is a delete marker, sorted by key
}

// Deleted is a log or digest file deleted in a versioned bucket: its
// current version is a delete marker. Its earlier versions are collected.
type Deleted struct {
	Key       string    `json:"key"`
	VersionID string    `json:"version_id"` // the delete marker's
	At        time.Time `json:"at"`         // when it was deleted
}

// Failure is one object that could not be acquired.
type Failure struct {
	Key      string `json:"key"`
	Denied   bool   `json:"denied"`   // AccessDenied: often kms:Decrypt on an SSE-KMS trail
	Unsigned bool   `json:"unsigned"` // a digest stored without its signature
	Archived bool   `json:"archived"` // in Glacier or Deep Archive (InvalidObjectState): restore it, then re-run
	Error    string `json:"error"`
	Err      error  `json:"-"`
}

// Coverage is what the bucket held for one account and region in the
// window: the first and last day with files (zero when none), and how many
// of each kind.
type Coverage struct {
	Org      string    `json:"org,omitempty"`
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	FirstDay time.Time `json:"first_day"`
	LastDay  time.Time `json:"last_day"`
	Logs     int       `json:"logs"`
	Digests  int       `json:"digests"`
	// NoLogs are the days of the window (Since to Until) without a single
	// log file for this account and region: logging stopped, files
	// deleted, or a region quiet all day (CloudTrail delivers only when
	// there are events). Days with only digests count as without logs.
	NoLogs []time.Time `json:"no_logs"`
}

// ErrNoBucket means the trail names no S3 bucket to collect from.
var ErrNoBucket = errors.New("the trail has no S3 bucket")

// Collect downloads trail's log and digest files from its S3 bucket into
// sink, at s3/BUCKET/KEY, each with its Source, and beside each digest its
// S3 metadata (the signature) as the ".metadata.json" sidecar that ingest
// and verify read, in the shape `aws s3api head-object` prints. api must be
// a client of the bucket's region.
//
// Objects the sink already has with the same ETag and size are skipped, so
// a re-run, or a run after an interrupted one, fetches only what is
// missing; an object is put only once read whole. Prefixes S3 does not
// list (refused, or failing after the SDK's retries) are recorded in
// Problems and objects that fail in Failed, and the rest goes on. It returns
// an error when ctx ends (with what was done so far).
func Collect(ctx context.Context, api S3API, trail Trail, opts Options, sink Sink) (Stats, error) {
	if trail.Bucket == "" {
		return Stats{}, fmt.Errorf("collect %s: %w", trail.ARN, ErrNoBucket)
	}
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Until.After(opts.Since) {
		return Stats{}, fmt.Errorf("collect %s: until (%s) is not after since (%s)", trail.ARN,
			opts.Until.UTC().Format(time.RFC3339), opts.Since.UTC().Format(time.RFC3339))
	}
	c := &collector{api: api, bucket: trail.Bucket, sink: sink, now: opts.Now, cover: map[[3]string]*Coverage{}, progress: opts.Progress,
		days: map[[3]string]map[time.Time]bool{}, win: window{since: opts.Since, until: opts.Until}}
	if c.now == nil {
		c.now = time.Now
	}
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	jobs := make(chan object, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for o := range jobs {
				n := c.fetch(ctx, o)
				if c.progress != nil {
					c.progress.Done.Add(1)
					c.progress.Bytes.Add(n)
				}
			}
		})
	}
	err := c.walk(ctx, trail, opts, jobs)
	close(jobs)
	wg.Wait()
	st := c.stats()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return st, fmt.Errorf("collect %s from s3://%s: %w", trail.ARN, trail.Bucket, err)
	}
	return st, nil
}

// collector is one Collect run's state, shared by its goroutines.
type collector struct {
	api    S3API
	bucket string
	sink   Sink
	now    func() time.Time

	mu       sync.Mutex
	st       Stats
	cover    map[[3]string]*Coverage
	progress *Progress
	days     map[[3]string]map[time.Time]bool // days with log files, per coverage row
	win      window                           // the window asked, for NoLogs
}

// walk lists the layout and sends each object found to jobs.
func (c *collector) walk(ctx context.Context, trail Trail, opts Options, jobs chan<- object) error {
	w := &walker{api: c.api, bucket: c.bucket,
		list: func(string) { c.mu.Lock(); c.st.ListCalls++; c.mu.Unlock() },
		denied: func(prefix string, err error) {
			c.mu.Lock()
			api := "ListObjectsV2"
			if opts.Versions {
				api = "ListObjectVersions"
			}
			c.st.Problems = append(c.st.Problems, newProblem("s3", api, "", "s3://"+c.bucket+"/"+prefix, err))
			c.mu.Unlock()
		},
		versions: opts.Versions,
		region: func(acct accountRoot, region string) {
			c.mu.Lock()
			defer c.mu.Unlock()
			k := [3]string{acct.account, region, acct.org}
			if c.cover[k] == nil {
				c.cover[k] = &Coverage{Org: acct.org, Account: acct.account, Region: region}
			}
		},
		deleted: func(m deleteMarker) {
			if !strings.HasSuffix(m.key, ".json.gz") {
				return
			}
			c.mu.Lock()
			c.st.Deleted = append(c.st.Deleted, Deleted{Key: m.key, VersionID: m.versionID, At: m.at})
			c.mu.Unlock()
		}}
	root := "AWSLogs/"
	if p := strings.Trim(trail.Prefix, "/"); p != "" {
		root = p + "/" + root
	}
	logs := window{since: opts.Since, until: opts.Until}
	digests := logs
	if !logs.since.IsZero() {
		// the window's first digest signs the log files delivered in the
		// hour before it, which may sit in the previous day's folder: take
		// those (by the delivery time in their names), so that the chain's
		// first link has its files and verify does not count them deleted
		logs.since = logs.since.Add(-logLead)
		logs.from = opts.Since.Add(-logLead)
	}
	if !logs.until.IsZero() {
		logs.until = logs.until.Add(logGrace)
		digests.until = digests.until.Add(digestGrace)
	}
	accounts, err := w.accounts(ctx, root, set(opts.Accounts))
	if err != nil {
		return err
	}
	regions := set(opts.Regions)
	send := func(o object) {
		c.listed(o)
		select {
		case jobs <- o:
		case <-ctx.Done():
		}
	}
	// accounts are walked side by side (an organisation's bucket holds
	// hundreds, each a few dozen listings); the downloads share one pool
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	slots := make(chan struct{}, walkersAtOnce)
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			for _, k := range []struct {
				kind string
				win  window
			}{{kindLog, logs}, {kindDigest, digests}} {
				if (k.kind == kindLog && opts.SkipLogs) || (k.kind == kindDigest && opts.SkipDigests) {
					continue
				}
				if err := w.files(ctx, a, k.kind, regions, k.win, send); err != nil {
					errs[i] = err
					return
				}
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// walkersAtOnce bounds the accounts whose folders are listed at once.
const walkersAtOnce = 4

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

// listed counts an object found and widens its coverage.
func (c *collector) listed(o object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Listed++
	if c.progress != nil {
		c.progress.Listed.Add(1)
	}
	if o.noncurrent {
		c.st.Noncurrent++
	}
	k := [3]string{o.account, o.region, o.org}
	cv := c.cover[k]
	if cv == nil {
		cv = &Coverage{Org: o.org, Account: o.account, Region: o.region}
		c.cover[k] = cv
	}
	if cv.FirstDay.IsZero() {
		cv.FirstDay, cv.LastDay = o.day, o.day
	}
	if o.day.Before(cv.FirstDay) {
		cv.FirstDay = o.day
	}
	if o.day.After(cv.LastDay) {
		cv.LastDay = o.day
	}
	if o.kind == kindDigest {
		cv.Digests++
	} else {
		cv.Logs++
		if c.days[k] == nil {
			c.days[k] = map[time.Time]bool{}
		}
		c.days[k][o.day] = true
	}
}

// noLogs lists the window's days without log files for one row. An open
// window is bounded by the row's own first and last day.
func (c *collector) noLogs(k [3]string, cv *Coverage) []time.Time {
	first, last := cv.FirstDay, cv.LastDay
	if (c.win.since.IsZero() || c.win.until.IsZero()) && first.IsZero() {
		return nil // no files and an open window: no bounds to list days in
	}
	if !c.win.since.IsZero() {
		first = c.win.since.UTC().Truncate(24 * time.Hour)
	}
	if !c.win.until.IsZero() {
		last = c.win.until.UTC().Add(-time.Nanosecond).Truncate(24 * time.Hour)
	}
	var out []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if !c.days[k][d] {
			out = append(out, d)
		}
	}
	return out
}

// fetch acquires one object, unless the sink has it. Errors are recorded;
// an object cut short by ctx is dropped silently, to be fetched by the
// next run.
func (c *collector) fetch(ctx context.Context, o object) int64 {
	if ctx.Err() != nil {
		return 0
	}
	rel := "s3/" + c.bucket + "/" + o.key
	side := rel + integrity.SidecarSuffix
	// a signed digest's sidecar is stored before the digest, so the digest
	// in the case means its sidecar is too; an unsigned one has none
	if c.sink.Have(rel, o.etag, o.size) {
		c.mu.Lock()
		c.st.Skipped++
		// a digest in the case without its sidecar was stored unsigned:
		// say so again, or a re-run would report the evidence whole
		if o.kind == kindDigest && !c.sink.Have(side, o.etag, o.size) {
			err := fmt.Errorf("s3://%s/%s has no signature in its S3 metadata: the digest is kept but cannot be verified", c.bucket, o.key)
			c.st.Failed = append(c.st.Failed, Failure{Key: o.key, Unsigned: true, Error: err.Error(), Err: err})
		}
		c.mu.Unlock()
		return 0
	}
	at := c.now().UTC()
	in := &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(o.key)}
	if o.versionID != "" {
		in.VersionId = aws.String(o.versionID) // exactly the version listed, current or not
	}
	out, err := c.api.GetObject(ctx, in)
	if err != nil {
		c.fail(ctx, o.key, err)
		return 0
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil && out.ContentLength != nil && int64(len(data)) != *out.ContentLength {
		err = fmt.Errorf("read %d bytes of %d", len(data), *out.ContentLength)
	}
	if err != nil {
		c.fail(ctx, o.key, fmt.Errorf("s3 GetObject s3://%s/%s: %w", c.bucket, o.key, err))
		return 0
	}
	if o.noncurrent {
		// an earlier version goes beside the current one, under the name
		// the case gives a second, different object at a path (it does not
		// depend on which version lands first); verify and ingest read it
		// as the same key
		rel = alternativeName(rel, data)
		side = rel[:len(rel)-len(".harrier-")-12] + integrity.SidecarSuffix
	}
	src := Source{Service: "s3", API: "GetObject", Bucket: c.bucket, Key: o.key,
		ETag: unquote(aws.ToString(out.ETag)), Size: int64(len(data)), LastModified: aws.ToTime(out.LastModified).UTC(),
		VersionID: aws.ToString(out.VersionId), Metadata: out.Metadata,
		Org: o.org, Account: o.account, Region: o.region, RequestTime: at}
	content := cloudtrail.FormatTrailLog.String()
	if o.kind == kindDigest {
		content = cloudtrail.FormatDigest.String()
		// The sidecar goes first: a digest in the case then always has its
		// signature beside it, even after an interruption. A digest whose
		// object carries no signature is kept, and reported: it cannot be
		// verified.
		_, signed := lowerKeys(out.Metadata)["signature"]
		if !signed {
			err := fmt.Errorf("s3://%s/%s has no signature in its S3 metadata: the digest is kept but cannot be verified", c.bucket, o.key)
			c.mu.Lock()
			c.st.Failed = append(c.st.Failed, Failure{Key: o.key, Unsigned: true, Error: err.Error(), Err: err})
			c.mu.Unlock()
		}
		meta, err := sidecar(out, len(data))
		if err == nil && signed {
			ms := src
			ms.Part = "metadata"
			if o.noncurrent {
				side = alternativeName(side, meta)
			}
			err = c.sink.Put(side, cloudtrail.FormatDigestMetadata.String(), meta, ms)
		}
		if err != nil {
			c.fail(ctx, o.key, fmt.Errorf("store the metadata of s3://%s/%s: %w", c.bucket, o.key, err))
			return 0
		}
	}
	if err := c.sink.Put(rel, content, data, src); err != nil {
		c.fail(ctx, o.key, fmt.Errorf("store s3://%s/%s: %w", c.bucket, o.key, err))
		return 0
	}
	c.mu.Lock()
	c.st.Downloaded++
	c.st.Bytes += int64(len(data))
	c.mu.Unlock()
	return int64(len(data))
}

// alternativeName is where the case puts a second object with different
// content at rel: rel.harrier- and the first 12 hex digits of its SHA-256.
func alternativeName(rel string, data []byte) string {
	sum := sha256.Sum256(data)
	return rel + ".harrier-" + hex.EncodeToString(sum[:])[:12]
}

// fail records a failed object, unless ctx ended: then the failure is the
// interruption's, not the object's.
func (c *collector) fail(ctx context.Context, key string, err error) {
	if ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	var ae smithy.APIError
	archived := errors.As(err, &ae) && ae.ErrorCode() == "InvalidObjectState"
	c.st.Failed = append(c.st.Failed, Failure{Key: key, Denied: IsDenied(err), Archived: archived, Error: err.Error(), Err: err})
	c.mu.Unlock()
}

// headObject is what `aws s3api head-object` prints, the fields of it that
// GetObject also answers.
type headObject struct {
	AcceptRanges         string            `json:"AcceptRanges,omitempty"`
	LastModified         string            `json:"LastModified,omitempty"`
	ContentLength        int64             `json:"ContentLength"`
	ETag                 string            `json:"ETag,omitempty"`
	VersionID            string            `json:"VersionId,omitempty"`
	ContentEncoding      string            `json:"ContentEncoding,omitempty"`
	ContentType          string            `json:"ContentType,omitempty"`
	ServerSideEncryption string            `json:"ServerSideEncryption,omitempty"`
	SSEKMSKeyID          string            `json:"SSEKMSKeyId,omitempty"`
	Metadata             map[string]string `json:"Metadata"`
}

// sidecar renders a digest's S3 metadata as head-object output. It holds
// nothing that changes between reads of the same object, so a re-run
// writes the same bytes.
func sidecar(out *s3.GetObjectOutput, size int) ([]byte, error) {
	h := headObject{AcceptRanges: aws.ToString(out.AcceptRanges), ContentLength: int64(size),
		ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId),
		ContentEncoding: aws.ToString(out.ContentEncoding), ContentType: aws.ToString(out.ContentType),
		ServerSideEncryption: string(out.ServerSideEncryption), SSEKMSKeyID: aws.ToString(out.SSEKMSKeyId),
		Metadata: map[string]string{}}
	if out.LastModified != nil {
		h.LastModified = out.LastModified.UTC().Format("2006-01-02T15:04:05+00:00")
	}
	for k, v := range out.Metadata {
		h.Metadata[strings.ToLower(k)] = v
	}
	b, err := json.MarshalIndent(h, "", "    ")
	return append(b, '\n'), err
}

// stats returns the run's figures in a stable order.
func (c *collector) stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	sort.Slice(st.Failed, func(i, j int) bool { return st.Failed[i].Key < st.Failed[j].Key })
	sort.SliceStable(st.Problems, func(i, j int) bool { return st.Problems[i].Target < st.Problems[j].Target })
	sort.Slice(st.Deleted, func(i, j int) bool { return st.Deleted[i].Key < st.Deleted[j].Key })
	for _, k := range slices.SortedFunc(maps.Keys(c.cover), func(a, b [3]string) int {
		return strings.Compare(a[0]+"/"+a[1]+"/"+a[2], b[0]+"/"+b[1]+"/"+b[2])
	}) {
		cv := *c.cover[k]
		cv.NoLogs = c.noLogs(k, &cv)
		st.Coverage = append(st.Coverage, cv)
	}
	return st
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
