// Package ingest brings evidence files into a case: each file is copied and
// hashed into the case's evidence folder, decoded, and its events loaded into
// the store, in one pass over the file and in parallel across files. It keeps
// the books: every record read is stored, a counted duplicate, or a counted
// rejection naming the file and position.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/store"
)

// Options control an ingest run.
type Options struct {
	Inputs []string // files and folders, in any mix
	// Acquired names evidence already in the case (evidence/... paths in
	// its manifest, as harrier acquire stores it) to load in place: each
	// file is re-hashed while read and must match its manifest entry.
	Acquired  []string
	Reference bool // record evidence in place instead of copying it
	Workers   int  // files processed at once; 0 means one per CPU
	Counters  *Counters
}

// Counters are updated as the run goes, for a progress display.
type Counters struct {
	FilesTotal atomic.Int64
	FilesDone  atomic.Int64
	Records    atomic.Int64
}

// Failure is a file that could not be read whole.
type Failure struct {
	Path string // evidence path, or the input path when it never reached the case
	Err  string
}

// Summary is the outcome of a run.
type Summary struct {
	LoadID         int64
	Totals         store.Totals
	NewFiles       int              // evidence files added to the case by this run
	KnownFiles     int              // files whose bytes the case already held
	ByFormat       map[string]int   // files per detected format
	Failures       []Failure        // files with errors, sorted by path
	Warnings       []Failure        // evidence that changed between ingests, sorted by path
	Conflicts      []store.Conflict // duplicates whose content differs from the copy kept (first few)
	Rejections     []store.Rejection
	MoreRejections int64 // rejections beyond those listed
	Elapsed        time.Duration
}

// OK reports whether every input was read whole and every record stored.
func (s Summary) OK() bool {
	return s.Totals.FilesFailed == 0 && s.Totals.Rejected == 0 && len(s.Warnings) == 0 && s.Totals.Conflicts == 0
}

// maxListedRejections bounds the rejections kept in the summary; the store
// keeps all of them.
const maxListedRejections = 20

// Run ingests opts.Inputs into the case.
func Run(ctx context.Context, c *casefile.Case, st *store.Store, opts Options) (Summary, error) {
	start := time.Now()
	counters := opts.Counters
	if counters == nil {
		counters = &Counters{}
	}
	files, walkFailures := walk(opts.Inputs, c.Dir)
	if len(opts.Acquired) > 0 {
		latest := map[string]casefile.Entry{}
		for _, e := range c.Latest() {
			latest[e.Path] = e
		}
		for _, p := range opts.Acquired {
			e, ok := latest[p]
			if !ok {
				walkFailures = append(walkFailures, Failure{Path: p, Err: "not in the case's manifest"})
				continue
			}
			files = append(files, input{abs: c.Path(filepath.FromSlash(p)), rel: p, entry: &e})
		}
	}
	counters.FilesTotal.Store(int64(len(files) + len(walkFailures)))
	counters.FilesDone.Add(int64(len(walkFailures)))

	load, err := st.BeginLoad(ctx, store.LoadInfo{
		Started: c.Now(), HarrierVersion: c.Version, Operator: c.Op.User, Host: c.Op.Host, Inputs: opts.Inputs,
	})
	if err != nil {
		return Summary{}, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > len(files) {
		workers = max(len(files), 1)
	}

	var (
		mu      sync.Mutex
		results []store.FileResult
		sum     = Summary{LoadID: load.ID, ByFormat: map[string]int{}}
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	for _, f := range walkFailures {
		sum.Failures = append(sum.Failures, f)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sink, err := load.NewSink(ctx)
			if err != nil {
				errOnce.Do(func() { runErr = err; cancel() })
				return
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				res, newFile, rejs, err := ingestFile(ctx, c, sink, files[i], opts.Reference, counters)
				counters.FilesDone.Add(1)
				if err != nil {
					errOnce.Do(func() { runErr = err; cancel() })
					return
				}
				mu.Lock()
				results = append(results, res)
				switch {
				case newFile:
					sum.NewFiles++
				case res.SHA256 != "":
					sum.KnownFiles++
				}
				sum.ByFormat[res.Format]++
				if res.Error != "" {
					sum.Failures = append(sum.Failures, Failure{Path: res.EvidenceFile, Err: res.Error})
				}
				if res.Warning != "" {
					sum.Warnings = append(sum.Warnings, Failure{Path: res.EvidenceFile, Err: res.Warning})
				}
				for _, r := range rejs {
					if len(sum.Rejections) < maxListedRejections {
						sum.Rejections = append(sum.Rejections, r)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	if ferr := c.Flush(); runErr == nil && ferr != nil {
		runErr = ferr
	}
	if runErr != nil {
		// Detach from the cancelled context: the rows must still go.
		if aerr := load.Abort(context.WithoutCancel(ctx)); aerr != nil {
			runErr = errors.Join(runErr, fmt.Errorf("abandon load: %w", aerr))
		}
		return Summary{}, runErr
	}
	sort.Slice(results, func(i, j int) bool { return results[i].EvidenceFile < results[j].EvidenceFile })
	totals, err := load.Finish(ctx, results, c.Now())

	if err != nil {
		load.Abort(context.WithoutCancel(ctx))
		return Summary{}, err
	}
	sum.Totals = totals
	if totals.Conflicts > 0 {
		if sum.Conflicts, err = st.Conflicts(ctx, load.ID, maxListedRejections); err != nil {
			return Summary{}, err
		}
	}
	sum.Totals.Files += int64(len(walkFailures))
	sum.Totals.FilesFailed += int64(len(walkFailures))
	shown := int64(len(sum.Rejections))
	sum.MoreRejections = totals.Rejected - shown
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Path < sum.Failures[j].Path })
	sort.Slice(sum.Warnings, func(i, j int) bool { return sum.Warnings[i].Path < sum.Warnings[j].Path })
	sort.Slice(sum.Rejections, func(i, j int) bool {
		a, b := sum.Rejections[i], sum.Rejections[j]
		if a.EvidenceFile != b.EvidenceFile {
			return a.EvidenceFile < b.EvidenceFile
		}
		return a.RecordIndex < b.RecordIndex
	})
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// ingestFile copies, hashes and decodes one file. An error in the file's
// content is part of the result; a returned error is a failure of the case
// or store itself, which stops the run.
func ingestFile(ctx context.Context, c *casefile.Case, sink *store.Sink, in input, reference bool, counters *Counters) (store.FileResult, bool, []store.Rejection, error) {
	if in.entry != nil {
		return ingestAcquired(ctx, sink, in, counters)
	}
	res := store.FileResult{OriginalPath: in.abs}
	intake, err := c.Intake(in.abs, in.rel, reference)
	if err != nil {
		res.EvidenceFile = in.abs
		res.Format = "unreadable"
		res.Error = err.Error()
		return res, false, nil, nil
	}
	defer intake.Abort()
	res.EvidenceFile = intake.Path()
	rejs, err := decode(ctx, intake, sink, &res, counters)
	if err != nil {
		return res, false, nil, err
	}
	entry, isNew, err := intake.Commit(res.Format)
	if err != nil {
		if errors.Is(err, casefile.ErrSourceChanged) {
			// the rows read do not match any hashed evidence: the store
			// turns them into rejections
			res.Error = err.Error()
			res.Discard = true
			return res, false, rejs, nil
		}
		return res, false, nil, err
	}
	res.SHA256, res.Size = entry.SHA256, entry.Size
	if old, ok := intake.Differs(); ok {
		res.Warning = fmt.Sprintf("differs from the evidence ingested from %s at %s (SHA-256 %s, now %s): kept as %s; the earlier copy is unchanged",
			old.OriginalPath, old.AddedAt.Format(time.RFC3339), old.SHA256[:16]+"…", entry.SHA256[:16]+"…", entry.Path)
		if reference {
			res.Warning = fmt.Sprintf("referenced evidence changed since it was recorded at %s (SHA-256 %s, now %s): events loaded earlier came from the old bytes",
				old.AddedAt.Format(time.RFC3339), old.SHA256[:16]+"…", entry.SHA256[:16]+"…")
		}
	}
	return res, isNew, rejs, nil
}

// ingestAcquired loads evidence already in the case, in place, hashing it
// as it is read: bytes that no longer match the manifest are not loaded.
func ingestAcquired(ctx context.Context, sink *store.Sink, in input, counters *Counters) (store.FileResult, bool, []store.Rejection, error) {
	res := store.FileResult{OriginalPath: in.entry.OriginalPath, EvidenceFile: in.entry.Path}
	f, err := os.Open(in.abs)
	if err != nil {
		res.Format, res.Error = "unreadable", err.Error()
		return res, false, nil, nil
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	rejs, err := decode(ctx, tee, sink, &res, counters)
	if err != nil {
		return res, false, nil, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // the rest, for the hash
		res.Error, res.Discard = fmt.Sprintf("read %s: %v", in.entry.Path, err), true
		return res, false, rejs, nil
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != in.entry.SHA256 {
		res.Error = fmt.Sprintf("changed since it was acquired: SHA-256 %s, the manifest says %s", sum[:16]+"…", in.entry.SHA256[:16]+"…")
		res.Discard = true
		return res, false, rejs, nil
	}
	res.SHA256, res.Size = in.entry.SHA256, in.entry.Size
	return res, false, rejs, nil
}

// decode reads one file's records into the sink, counting them in res:
// each record stored, or rejected with its place and reason (the first
// maxListedRejections returned for the summary). An error in the content
// ends the file and is kept in res.Error; a returned error is a failure of
// the store or the end of ctx.
func decode(ctx context.Context, r io.Reader, sink *store.Sink, res *store.FileResult, counters *Counters) ([]store.Rejection, error) {
	var rejs []store.Rejection
	reject := func(idx, off int64, reason string) error {
		res.Rejected++
		rj := store.Rejection{EvidenceFile: res.EvidenceFile, RecordIndex: idx, ByteOffset: off, Reason: reason}
		if len(rejs) < maxListedRejections {
			rejs = append(rejs, rj)
		}
		return sink.Reject(rj)
	}
	dec, err := cloudtrail.NewDecoder(r)
	if err != nil {
		res.Error = err.Error()
	} else {
		defer dec.Close()
		for {
			if res.Records%1024 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rec, err := dec.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *cloudtrail.RecordError
			if errors.As(err, &re) {
				res.Records++
				counters.Records.Add(1)
				if err := reject(re.Record, re.Offset, re.Err.Error()); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil {
				res.Error = err.Error()
				break
			}
			res.Records++
			counters.Records.Add(1)
			ev, err := cloudtrail.ParseEvent(rec.Raw)
			if err != nil {
				if err := reject(rec.Index, rec.Offset, err.Error()); err != nil {
					return nil, err
				}
				continue
			}
			if err := sink.Append(ctx, &ev, cloudtrail.ValidUTF8(rec.Raw), res.EvidenceFile, rec.Index, rec.Offset); err != nil {
				return nil, err
			}
			res.Appended++
		}
		res.Format = dec.Format().String()
	}
	if res.Format == "" {
		res.Format = cloudtrail.FormatUnknown.String()
	}
	return rejs, nil
}
