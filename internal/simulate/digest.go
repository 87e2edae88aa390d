package simulate

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CloudTrail's log file integrity validation: every hour, for every region
// of a trail, a digest file lists the log files delivered in the hour with
// the SHA-256 of their uncompressed content, records the hash and
// signature of the digest before it, and is itself signed (SHA256withRSA)
// over a string that includes that previous signature. The digests form a
// chain per account, region and trail that shows anything removed or
// changed. The simulator writes the same chains, signed with the demo key,
// so that verification can be shown on simulated evidence: they are whole
// except where the attacker stopped the victim's trail.

// logEntry is what a digest needs of one log file, never its content:
// enough to rebuild its key and to list it.
type logEntry struct {
	sum            [32]byte // SHA-256 of the uncompressed file
	suffix         [16]byte // the random part of its name
	delivered      int64
	oldest, newest int64 // its first and last event
	acct, region   uint8
}

// digestHomeRegion is where both trails live.
const digestHomeRegion = "us-east-1"

// trailBucket is the S3 bucket a's trail delivers to, as the trail's KMS
// events name it.
func trailBucket(a *account) string { return "acme-cloudtrail-logs-" + a.id }

// segment says on which side of the victim's logging gap a log file is:
// 0 before StopLogging (and always for the second account), 1 after the
// restart. No file straddles the gap (see worker.unit).
func (p *plan) segment(e *logEntry) int {
	if e.acct == 0 && e.oldest >= p.gapStart {
		return 1
	}
	return 0
}

// period is the span of one digest.
type period struct {
	start, end int64
	seg        int  // the segment whose log files it lists
	first      bool // it starts a chain anew: no previous digest
	last       bool // the last of its segment: it lists what remains of it
}

// schedule returns the digest periods of the chain of account a in region,
// in time order. CloudTrail delivers a trail's digests hourly, at a time
// of the hour of its own for each region; the simulated trails had
// validation on from the start. The victim's chains end when StopLogging
// took effect, with a final digest of what was logged until then, and
// start anew, hourly from the restart; the last digest of a chain covers
// the last log delivery, on the last second simulated.
func (p *plan) schedule(c *cast, a *account, region int, start, end int64) []period {
	g := newRng(mix(c.seed, uint64(a.idx), uint64(region), 0xd1e5))
	off := 60 + int64(g.intn(hourSecs-120))
	if a.idx != 0 {
		return appendPeriods(nil, 0, start, start+off, end, false)
	}
	ps := appendPeriods(nil, 0, start, start+off, p.gapStart, true)
	return appendPeriods(ps, 1, p.gapEnd, p.gapEnd+hourSecs, end, false)
}

// appendPeriods appends hourly periods from from (the first ending at
// firstEnd) up to to: ending exactly at to when logging stopped then,
// else until one covers to.
func appendPeriods(ps []period, seg int, from, firstEnd, to int64, stopped bool) []period {
	for s, e, first := from, firstEnd, true; ; s, e, first = e, e+hourSecs, false {
		p := period{start: s, end: e, seg: seg, first: first}
		if stopped && e >= to {
			p.end, p.last = to, true
		}
		if !stopped && e > to {
			p.last = true
		}
		ps = append(ps, p)
		if p.last {
			return ps
		}
	}
}

// chainLogs is one chain: an account and region, and its log files sorted
// by segment, delivery and name.
type chainLogs struct {
	a      *account
	region int
	logs   []logEntry
}

// writeDigests writes the digest chains of every account and region with
// log files, chains in parallel on up to workers goroutines, each chain in
// time order; then the public key list. It fills in res what it wrote.
func writeDigests(ctx context.Context, sink fileSink, c *cast, p *plan, o Options, workers int, logs []logEntry, res *Result) error {
	sg, err := demoSigner()
	if err != nil {
		return err
	}
	slices.SortFunc(logs, func(x, y logEntry) int {
		return cmp.Or(cmp.Compare(x.acct, y.acct), cmp.Compare(x.region, y.region), cmp.Compare(p.segment(&x), p.segment(&y)),
			cmp.Compare(x.delivered, y.delivered), bytes.Compare(x.suffix[:], y.suffix[:]))
	})
	var chains []chainLogs
	for i := 0; i < len(logs); {
		j := i + 1
		for j < len(logs) && logs[j].acct == logs[i].acct && logs[j].region == logs[i].region {
			j++
		}
		chains = append(chains, chainLogs{a: c.acct[logs[i].acct], region: int(logs[i].region), logs: logs[i:j]})
		i = j
	}

	start := o.Start.Unix()
	end := start + int64(o.Days)*86400
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for range min(workers, len(chains)) {
		wg.Go(func() {
			w := newDigestWriter(sink, c, sg)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(chains) {
					break
				}
				ch := &chains[i]
				if err := w.chain(ctx, p, ch, p.schedule(c, ch.a, ch.region, start, end)); err != nil {
					cancel(err)
					break
				}
			}
			total.Add(int64(w.digests))
		})
	}
	wg.Wait()
	res.Digests = int(total.Load())
	if err := context.Cause(ctx); err != nil {
		return err
	}

	t := &res.Truth
	t.DigestChains, t.Digests = len(chains), res.Digests
	v := c.acct[0]
	t.DigestGap = DigestGap{Account: v.id, Trail: v.trail, Start: t.LoggingStopped, End: t.LoggingRestarted, Regions: []string{}}
	for _, ch := range chains {
		if ch.a == v {
			t.DigestGap.Regions = append(t.DigestGap.Regions, regions[ch.region])
		}
	}
	slices.Sort(t.DigestGap.Regions)

	// The key is valid for the period simulated and the day after, when
	// the last digests are delivered.
	doc, err := publicKeys(sg, o.Start, time.Unix(end+86400, 0))
	if err != nil {
		return err
	}
	return sink.writeFile(PublicKeysFile, doc)
}
