package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/lookup"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/ingest"
	"github.com/harrier-ir/harrier/internal/store"
)

// loader ingests CloudTrail evidence while acquire is still collecting:
// the files stored so far are loaded in batches, so a long acquisition can
// be hunted as it goes and an interrupted one has loaded what it stored.
// The store has one writer; the loader is it while acquire runs.
type loader struct {
	c     *casefile.Case
	st    *store.Store
	log   io.Writer
	every time.Duration

	mu      sync.Mutex
	loaded  map[string]bool
	sum     ingest.Summary
	batches int
	err     error
}

// loadable says whether an evidence entry is what ingest loads from an
// acquisition: trail logs, digests and their sidecars, event history pages.
func loadable(e casefile.Entry) bool {
	switch {
	case strings.HasPrefix(e.Path, "evidence/s3/") && (e.Content == "cloudtrail-log" || e.Content == "cloudtrail-digest" || e.Content == "digest-metadata"),
		strings.HasPrefix(e.Path, "evidence/lookup-events/") && e.Content == lookup.ContentPage:
		return true
	}
	return false
}

// newLoader knows what the store has loaded already (an earlier run's).
func newLoader(ctx context.Context, c *casefile.Case, st *store.Store, log io.Writer) (*loader, error) {
	l := &loader{c: c, st: st, log: log, every: 5 * time.Second, loaded: map[string]bool{}, sum: ingest.Summary{ByFormat: map[string]int{}}}
	rows, err := st.DB().QueryContext(ctx, `SELECT DISTINCT evidence_file FROM files`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		l.loaded[p] = true
	}
	return l, rows.Err()
}

// run loads what has landed every l.every until ctx ends or stop closes,
// then once more.
func (l *loader) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
			l.load(ctx)
		}
	}
}

// pending lists what the case holds to load and the store has not loaded.
func (l *loader) pending() []string {
	var out []string
	for _, e := range l.c.Latest() {
		if loadable(e) && !l.loaded[e.Path] {
			out = append(out, e.Path)
		}
	}
	sort.Strings(out)
	return out
}

// load ingests what has landed since the last batch. A failure is kept
// and ends the loading; the files stay in the case for the next run.
func (l *loader) load(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || ctx.Err() != nil {
		return
	}
	paths := l.pending()
	if len(paths) == 0 {
		return
	}
	s, err := ingest.Run(ctx, l.c, l.st, ingest.Options{Acquired: paths})
	if err != nil {
		if ctx.Err() == nil {
			l.err = err
		}
		return
	}
	for _, p := range paths {
		l.loaded[p] = true
	}
	l.batches++
	l.merge(s)
	fmt.Fprintf(l.log, "loaded %s files: %s records read, %s stored\n", num(s.Totals.Files), num(s.Totals.RecordsRead), num(s.Totals.Stored))
}

// merge adds a batch's summary to the run's.
func (l *loader) merge(s ingest.Summary) {
	t := &l.sum.Totals
	t.Files += s.Totals.Files
	t.FilesFailed += s.Totals.FilesFailed
	t.Conflicts += s.Totals.Conflicts
	t.RecordsRead += s.Totals.RecordsRead
	t.Stored += s.Totals.Stored
	t.Duplicates += s.Totals.Duplicates
	t.Rejected += s.Totals.Rejected
	l.sum.LoadID = s.LoadID
	l.sum.NewFiles += s.NewFiles
	l.sum.KnownFiles += s.KnownFiles
	for k, v := range s.ByFormat {
		l.sum.ByFormat[k] += v
	}
	l.sum.Failures = append(l.sum.Failures, s.Failures...)
	l.sum.Warnings = append(l.sum.Warnings, s.Warnings...)
	l.sum.Conflicts = append(l.sum.Conflicts, s.Conflicts...)
	l.sum.Rejections = append(l.sum.Rejections, s.Rejections...)
	l.sum.MoreRejections += s.MoreRejections
	l.sum.Elapsed += s.Elapsed
}

// finish loads what is left and returns the run's summary (batches 0 when
// nothing was loaded).
func (l *loader) finish(ctx context.Context) (ingest.Summary, int, error) {
	l.load(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sum, l.batches, l.err
}
