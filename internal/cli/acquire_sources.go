package cli

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// apiSource is an evidence source acquire collects in each account through
// its service's API (findings, configuration snapshots, flow logs): one
// visible list, in the order they run.
type apiSource struct {
	name    string
	help    string
	actions []string // the IAM actions its calls need
	run     func(ctx context.Context, s sourceRun) ([]evidence.Coverage, error)
}

// sourceRun is what a source is given: the account and its credentials,
// the options, where to put files, and a counter for the progress line.
type sourceRun struct {
	c     *casefile.Case
	t     target
	o     acquireOptions
	stamp string
	sink  evidence.Sink
	log   io.Writer
	items *atomic.Int64
}

// trailSources are collected from the trails and the event history;
// apiSources() the rest.
var trailSources = []string{"cloudtrail", "digests", "lookup"}

// acquireAPISources runs the API sources asked for in one account. A
// source's problems are in its coverage rows; only the end of ctx (or a
// case that cannot be written) stops the run.
func acquireAPISources(ctx context.Context, log io.Writer, c *casefile.Case, t target, o acquireOptions, stamp string, res *acquireResult) error {
	sink := evidence.CaseSink(c)
	for _, src := range apiSources() {
		if !o.apiSources[src.name] {
			continue
		}
		var items atomic.Int64
		bar := startBar(log, src.name+" "+t.account, func() (int64, int64, int64) { return items.Load(), 0, 0 })
		fmt.Fprintf(log, "collecting %s in %s\n", src.name, t.account)
		rows, err := src.run(ctx, sourceRun{c: c, t: t, o: o, stamp: stamp, sink: sink, log: log, items: &items})
		bar.stop()
		res.coverage = append(res.coverage, rows...)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.coverage = append(res.coverage, evidence.Coverage{Source: src.name, Account: t.account, Exists: "unknown",
				Problems: []evidence.Problem{{Service: src.name, Error: err.Error()}}})
			fmt.Fprintf(log, "%s in %s stopped: %s\n", src.name, t.account, safe(err.Error()))
		}
	}
	return nil
}
