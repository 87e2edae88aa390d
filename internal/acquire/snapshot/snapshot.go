// Package snapshot takes read-only snapshots of an account's configuration
// into the case: IAM (who can do what, and which doors were added: users,
// keys, roles and their trust policies, identity providers, the credential
// report), S3 (which buckets are public, logged, encrypted, replicated),
// EC2 per region (instances, security groups, volumes, and the snapshots
// and images shared with another account or the world, the exfiltration
// sign responders look for) and Organizations (accounts, OUs, SCPs).
//
// Every answer, every page, is stored as AWS gave it (JSON, through
// evidence.PutJSON with its provenance) under
// aws/<account>/snapshots/<stamp>/<service>/..., EC2's under
// .../<stamp>/<region>/ec2/.... A call AWS refuses or fails is a Problem
// in the source's coverage row and the rest goes on; "not configured"
// answers (no bucket policy, no password policy, no organisation) are
// facts kept in the snapshot, not problems; network and context errors
// end the run.
//
// Re-running with the same stamp stores nothing twice: the case keeps an
// identical answer once, and an answer that changed in between is kept
// beside the first (its name carries its hash), never over it. A new stamp
// is a new snapshot, so two snapshots of one incident can be compared.
package snapshot

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// Defaults for Options left zero.
const (
	DefaultConcurrency = 8
	// DefaultReportWait bounds the wait for IAM's credential report, which
	// AWS usually generates in seconds but may take minutes on large
	// accounts.
	DefaultReportWait = 2 * time.Minute
)

// Options say whose configuration is snapshotted and where it goes.
type Options struct {
	Account     string   // the account's id, in paths and provenance
	Stamp       string   // the acquisition's UTC stamp, e.g. 20260301T120000Z: the snapshot's folder
	Regions     []string // EC2's regions
	Concurrency int      // calls in flight at once (buckets, regions, attributes); DefaultConcurrency if 0
	// Clock gives request times (UTC); time.Now if nil.
	Clock func() time.Time
	// ReportWait bounds the wait for the credential report;
	// DefaultReportWait if 0.
	ReportWait time.Duration
	// Sleep waits between credential report polls; a timer honouring ctx
	// if nil. Tests inject one that advances their clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock().UTC()
	}
	return time.Now().UTC()
}

func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

func (o Options) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// validate refuses options that would put files in the wrong place.
func (o Options) validate() error {
	for name, v := range map[string]string{"account": o.Account, "stamp": o.Stamp} {
		if v == "" || strings.ContainsAny(v, `/\`) || v == "." || v == ".." {
			return fmt.Errorf("snapshot: bad %s %q", name, v)
		}
	}
	return nil
}

// dir is the snapshot's folder for a service (and region, for regional
// services), relative to the case's evidence/.
func (o Options) dir(elem ...string) string {
	return path.Join(append([]string{"aws", o.Account, "snapshots", o.Stamp}, elem...)...)
}

// recorder keeps one coverage row's counts while a source runs; safe for
// concurrent use.
type recorder struct {
	opts    Options
	sink    evidence.Sink
	service string // "iam", "s3", "ec2", "organizations": the provenance's service
	region  string // the provenance's region ("" for global services)

	mu       sync.Mutex
	files    int
	bytes    int64
	problems []evidence.Problem
	answered int // calls that succeeded or said "not configured"
}

func newRecorder(opts Options, sink evidence.Sink, service, region string) *recorder {
	return &recorder{opts: opts, sink: sink, service: service, region: region}
}

// put stores v at rel as JSON with its provenance src, whose service,
// account and region the recorder fills when src leaves them empty.
func (r *recorder) put(rel string, src evidence.Source, v any) error {
	b, err := evidence.MarshalJSON(v)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return r.putRaw(rel, evidence.ContentAPI, src, b)
}

// putRaw stores data as it is at rel.
func (r *recorder) putRaw(rel, content string, src evidence.Source, data []byte) error {
	if src.Service == "" {
		src.Service = r.service
	}
	if src.Region == "" {
		src.Region = r.region
	}
	src.Account = r.opts.Account
	if err := r.sink.Put(rel, content, data, src); err != nil {
		return fmt.Errorf("store %s: %w", rel, err)
	}
	r.mu.Lock()
	r.files++
	r.bytes += int64(len(data))
	r.mu.Unlock()
	return nil
}

// single stores the answer of a call that is not paginated: its output,
// an Absent when AWS says the setting is not configured, or nothing (a
// Problem about target) when it refused.
func (r *recorder) single(rel, target string, src evidence.Source, out any, err error) error {
	if err != nil {
		if code, ok := notConfigured(src.API, err); ok {
			r.ok()
			return r.put(rel, src, absent(code, err))
		}
		return r.fail(src.API, target, err)
	}
	r.ok()
	return r.put(rel, src, out)
}

// fail sorts err out: an answer from the service becomes a Problem (and
// fail returns nil: go on), anything else (network, context) is returned
// to end the run.
func (r *recorder) fail(api, target string, err error) error {
	if !evidence.Answered(err) {
		return fmt.Errorf("%s %s %s: %w", r.service, api, target, err)
	}
	r.mu.Lock()
	r.problems = append(r.problems, evidence.NewProblem(r.service, api, r.opts.Account, r.region, target, err))
	r.mu.Unlock()
	return nil
}

// problem records a problem harrier found itself (not an AWS answer).
func (r *recorder) problem(p evidence.Problem) {
	p.Service, p.Account, p.Region = r.service, r.opts.Account, r.region
	r.mu.Lock()
	r.problems = append(r.problems, p)
	r.mu.Unlock()
}

func (r *recorder) ok() {
	r.mu.Lock()
	r.answered++
	r.mu.Unlock()
}

// coverage is the row for source in region: exists is decided by the
// caller, except that a source nothing answered is "unknown".
func (r *recorder) coverage(source, region, exists string, items int, detail string) evidence.Coverage {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answered == 0 && len(r.problems) > 0 {
		exists = "unknown"
	}
	probs := slices.Clone(r.problems)
	slices.SortFunc(probs, func(a, b evidence.Problem) int {
		return strings.Compare(a.API+"\x00"+a.Target+"\x00"+a.Error, b.API+"\x00"+b.Target+"\x00"+b.Error)
	})
	return evidence.Coverage{Source: source, Account: r.opts.Account, Region: region, Exists: exists,
		Items: items, Files: r.files, Bytes: r.bytes, Detail: detail, Problems: probs}
}

// pages stores every page of a paginated call in dir (API-0001.json, ...)
// handing each to each (which may be nil), until the last page or an
// error: an answer is recorded as a Problem about target (pages returns
// nil: go on), anything else is returned.
func pages[O, F any](ctx context.Context, r *recorder, dir, target string, src evidence.Source,
	more func() bool, next func(context.Context, ...F) (O, error), each func(O)) error {
	for page := 1; more(); page++ {
		at := r.opts.now()
		out, err := next(ctx)
		if err != nil {
			return r.fail(src.API, target, err)
		}
		r.ok()
		if each != nil {
			each(out)
		}
		s := src
		s.Page, s.RequestTime = page, at
		if err := r.put(path.Join(dir, pageName(src.API, page)), s, out); err != nil {
			return err
		}
	}
	return nil
}

// pageName is the file of a paginated call's page: API-0001.json.
func pageName(api string, page int) string { return fmt.Sprintf("%s-%04d.json", api, page) }

// safeName makes a resource's name (a bucket, a user, an id) one path
// element: they are already, but a name is never trusted to stay inside
// the snapshot's folder.
func safeName(s string) string {
	s = strings.NewReplacer("/", "_", `\`, "_").Replace(s)
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	return s
}
