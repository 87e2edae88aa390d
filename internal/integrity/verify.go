package integrity

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// verifier holds one run of Verify.
type verifier struct {
	files    []File
	kr       keyring
	res      []result // per file
	digests  []*digestItem
	chains   []*chainState
	problems []Problem // about files that are not digests
	rep      Report
}

// result is what reading one file gave.
type result struct {
	key    string
	kind   fileKind
	sum    [32]byte // a log file's SHA-256 of its uncompressed content
	digest *Digest
	meta   map[string]string
	err    error
}

// Verify checks the digests and log files among files with the public
// keys given, and reports what it found. Every file is read once, in
// parallel (up to GOMAXPROCS files at a time), log files streamed through
// the hash; files that cannot be read are findings in the report. It
// returns an error only when ctx ends first.
//
// Files are told apart by their keys: a name ending in ".metadata.json"
// is a digest's metadata sidecar, a name with "_CloudTrail-Digest_" (or a
// key under "CloudTrail-Digest/") a digest, anything else a log file.
func Verify(ctx context.Context, files []File, keys []PublicKey) (Report, error) {
	v := &verifier{files: files, kr: newKeyring(keys), res: make([]result, len(files))}
	if err := forEach(ctx, len(files), v.read); err != nil {
		return Report{}, err
	}
	v.collect()
	if err := forEach(ctx, len(v.digests), func(ctx context.Context, i int) error {
		check(v.digests[i], v.kr)
		return nil
	}); err != nil {
		return Report{}, err
	}
	v.walk()
	v.checkLogs()
	return v.report(), nil
}

// read reads file i according to its kind.
func (v *verifier) read(ctx context.Context, i int) error {
	f := v.files[i]
	r := &v.res[i]
	r.key = filepath.ToSlash(f.Key)
	if r.key == "" {
		r.key = KeyFromPath(f.Path)
	}
	r.kind = classify(r.key)
	if r.kind == kindLog {
		r.sum, _, r.err = hashLog(ctx, f)
		return ctxErr(ctx, r.err)
	}
	rc, err := open(ctx, f)
	if err != nil {
		r.err = err
		return ctxErr(ctx, err)
	}
	defer rc.Close()
	if r.kind == kindDigest {
		r.digest, r.err = ParseDigest(rc)
	} else {
		r.meta, r.err = ParseMetadata(rc)
	}
	return ctxErr(ctx, r.err)
}

// ctxErr tells the end of ctx apart from a problem with a file.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	return nil
}

// forEach calls fn for 0..n-1 on up to GOMAXPROCS goroutines, stopping at
// the first error or when ctx ends.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return first
}

// report gathers the findings into the Report.
func (v *verifier) report() Report {
	r := v.rep
	r.UntrustedRanges = []Range{}
	r.Chains = []Chain{}
	r.Problems = append([]Problem{}, v.problems...)
	for _, c := range v.chains {
		for _, it := range items(c) {
			noteVouched(it)
			r.Problems = append(r.Problems, it.problems...)
			switch it.status() {
			case statusInvalid:
				digestRange(c, it, "invalid digest "+it.key)
			case statusUnknownKey:
				digestRange(c, it, "digest "+it.key+" signed with an unknown key")
			}
		}
		r.Problems = append(r.Problems, c.extra...)
		r.UntrustedRanges = append(r.UntrustedRanges, c.ranges...)
		ch := c.report()
		r.Digests.add(ch.Digests)
		r.Chains = append(r.Chains, ch)
	}
	sortReport(&r)
	return r
}

// items lists a chain's digests, backfill ones last.
func items(c *chainState) []*digestItem {
	return append(append([]*digestItem{}, c.main...), c.backfill...)
}

// noteVouched says, of a digest that could not be verified for want of its
// signature or key, that the next digest, verified, records its hash and
// signature as they are: the chain proves it unchanged even though its
// own signature could not be checked. Its status stays what it is.
func noteVouched(it *digestItem) {
	if it.vouchedBy == "" {
		return
	}
	for i, p := range it.problems {
		if p.Kind == ProblemNoSignature || p.Kind == ProblemUnknownKey {
			it.problems[i].Detail += "; its content is as the next digest, " + it.vouchedBy + ", whose signature verifies, records it"
		}
	}
}

// digestRange marks the period of a digest that is not valid as untrusted.
func digestRange(c *chainState, it *digestItem, reason string) {
	if it.d != nil {
		start, end := eventSpan(it.d)
		c.untrusted(start, end, reason)
		return
	}
	if !it.name.Time.IsZero() {
		c.untrusted(it.name.Time.Add(-c.period), it.name.Time, reason)
	}
}
