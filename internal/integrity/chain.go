package integrity

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// chainID is what CloudTrail keeps one chain of digests for. The
// organisation is not part of it: a trail turned into an organisation
// trail goes on with the same chain under a new path.
type chainID struct{ Account, Region, Trail, HomeRegion string }

// chainState is one chain while it is walked.
type chainState struct {
	id       chainID
	org      string
	main     []*digestItem // in order of end time
	backfill []*digestItem
	period   time.Duration // a digest's usual span, to count missing ones
	extra    []Problem     // missing digests: problems no digest present carries
	missing  int
	gaps     int
	logs     []Problem // log file problems of its digests
	ranges   []Range   // gaps and missing digests
	// startsAfter is the digest the first one names, absent: the evidence
	// starts in the middle of the chain.
	startsAfter string
}

// untrusted records a period of the chain no valid digest vouches for.
func (c *chainState) untrusted(start, end time.Time, reason string) {
	if end.Before(start) {
		start, end = end, start
	}
	c.ranges = append(c.ranges, Range{Account: c.id.Account, Region: c.id.Region, Trail: c.id.Trail,
		Start: start.UTC(), End: end.UTC(), Reason: reason})
}

// walk groups the digests into chains and follows each chain from its
// first digest present to its last, checking every link against the
// previous digest actually present.
func (v *verifier) walk() {
	idx := newDigestIndex(v.digests)
	chains := map[chainID]*chainState{}
	for _, it := range v.digests {
		id := chainID{it.name.Account, it.name.Region, it.name.Trail, it.name.HomeRegion}
		c := chains[id]
		if c == nil {
			c = &chainState{id: id}
			chains[id] = c
		}
		if it.name.Org != "" {
			c.org = it.name.Org
		}
		it.chain = c
		if it.name.Backfill {
			c.backfill = append(c.backfill, it)
		} else {
			c.main = append(c.main, it)
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(chains), func(a, b chainID) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Trail, b.Trail), cmp.Compare(a.HomeRegion, b.HomeRegion))
	}) {
		c := chains[id]
		v.chains = append(v.chains, c)
		c.walk(idx)
	}
}

func (c *chainState) walk(idx digestIndex) {
	byTime := func(a, b *digestItem) int {
		return cmp.Or(a.end().Compare(b.end()), cmp.Compare(a.key, b.key), cmp.Compare(a.path, b.path))
	}
	slices.SortFunc(c.main, byTime)
	slices.SortFunc(c.backfill, byTime)
	c.period = medianPeriod(c.main)
	for i, s := range c.main {
		if s.d == nil {
			continue // unreadable: it names nothing
		}
		prev := s.d.PreviousSignature
		if i == 0 {
			// The first digest present may name one before it, outside the
			// evidence (Chain.StartsAfter), or in another chain.
			if prev != nil && s.d.PreviousObject != "" && !link(idx, s) {
				c.startsAfter = s.d.PreviousObject
			}
			continue
		}
		pred := c.main[i-1]
		if prev == nil {
			c.gaps++
			s.problem(ProblemGap, "names no previous digest although %s precedes it: CloudTrail validated nothing from %s to %s (validation or logging was off)",
				pred.key, utc(pred.end()), utc(s.d.StartTime))
			c.untrusted(pred.end(), s.d.StartTime, "gap in the digest chain before "+s.key)
			continue
		}
		if s.d.PreviousObject == "" {
			s.problem(ProblemFormat, "has a previousDigestSignature but no previousDigestS3Object")
			continue
		}
		if link(idx, s) {
			continue
		}
		n := c.missingBetween(pred, s)
		more := ""
		if n > 1 {
			more = fmt.Sprintf("; the time between %s and %s suggests %d digests are missing", pred.key, s.key, n)
		}
		c.missing += n
		c.extra = append(c.extra, Problem{Kind: ProblemMissing, Key: s.d.PreviousObject,
			Detail: fmt.Sprintf("absent from the evidence, named as previous digest by %s%s", s.key, more)})
		c.untrusted(pred.end(), s.d.StartTime, fmt.Sprintf("%d missing digest(s) before %s", n, s.key))
	}
	for _, s := range c.backfill {
		if s.d != nil && s.d.PreviousSignature != nil && s.d.PreviousObject != "" {
			link(idx, s) // a backfill digest's predecessor, when present, must match
		}
	}
}

// link checks s against the digest it names as previous, when that is in
// the evidence, and reports whether it is. A mismatch is blamed on the
// previous digest when s is verified and it is not (s is then the proof
// that it was changed), on s otherwise.
func link(idx digestIndex, s *digestItem) bool {
	cands := idx.resolve(s.d.PreviousObject)
	if len(cands) == 0 {
		return false
	}
	p := cands[0]
	for _, c := range cands {
		if c.d != nil && sameHex(hex.EncodeToString(c.d.SHA256[:]), s.d.PreviousHashValue) {
			p = c
			break
		}
		if p.d == nil && c.d != nil {
			p = c
		}
	}
	if p == s || p.d == nil {
		return true // an unreadable previous digest is reported as such
	}
	blamePrevious := s.sigOK && !p.sigOK
	got := hex.EncodeToString(p.d.SHA256[:])
	hashOK := sameHex(got, s.d.PreviousHashValue)
	if !hashOK {
		if blamePrevious {
			p.problem(ProblemPreviousHash, "its content hashes to %s, but the next digest, %s, whose signature verifies, records %s for it: it was changed after CloudTrail signed that digest",
				got, s.key, s.d.PreviousHashValue)
		} else {
			s.problem(ProblemPreviousHash, "previousDigestHashValue %s does not match the previous digest present, %s, whose content hashes to %s",
				s.d.PreviousHashValue, p.key, got)
		}
	}
	theirs := p.meta[MetaSignature]
	sigOK := theirs == "" || sameHex(theirs, *s.d.PreviousSignature)
	if !sigOK {
		if blamePrevious {
			p.problem(ProblemPreviousSignature, "its signature metadata differs from the previousDigestSignature that the next digest, %s, whose signature verifies, records for it",
				s.key)
		} else {
			s.problem(ProblemPreviousSignature, "previousDigestSignature does not match the signature of the previous digest present, %s", p.key)
		}
	}
	if hashOK && sigOK && s.sigOK && !p.sigOK {
		p.vouchedBy = s.key
	}
	return true
}

// missingBetween infers how many digests are missing between pred and s
// from the time between them and the chain's usual digest span; at least
// the one s names.
func (c *chainState) missingBetween(pred, s *digestItem) int {
	if c.period <= 0 || s.d == nil {
		return 1
	}
	n := math.Round(float64(s.d.StartTime.Sub(pred.end())) / float64(c.period))
	if n < 1 || n > 1e6 {
		return 1
	}
	return int(n)
}

// medianPeriod is the usual time a digest spans (an hour, as CloudTrail
// delivers them).
func medianPeriod(items []*digestItem) time.Duration {
	var spans []time.Duration
	for _, it := range items {
		if it.d != nil && it.d.EndTime.After(it.d.StartTime) {
			spans = append(spans, it.d.EndTime.Sub(it.d.StartTime))
		}
	}
	if len(spans) == 0 {
		return time.Hour
	}
	slices.Sort(spans)
	return spans[len(spans)/2]
}

// report returns the report's view of the chain, once every finding is in.
func (c *chainState) report() Chain {
	ch := Chain{Account: c.id.Account, Region: c.id.Region, Trail: c.id.Trail, HomeRegion: c.id.HomeRegion,
		Org: c.org, Backfill: len(c.backfill), Problems: []string{}}
	ch.Digests.Missing, ch.Digests.Gaps = c.missing, c.gaps
	for _, it := range items(c) {
		it.count(&ch.Digests)
		if it.d != nil {
			ch.LogFiles += len(it.d.LogFiles)
		}
		for _, p := range it.problems {
			ch.Problems = append(ch.Problems, it.key+": "+p.Detail)
		}
	}
	for _, p := range slices.Concat(c.extra, c.logs) {
		ch.Problems = append(ch.Problems, p.Key+": "+p.Detail)
	}
	if len(c.main) > 0 {
		ch.First, ch.Last = c.main[0].end(), c.main[len(c.main)-1].end()
	}
	ch.StartsAfter = c.startsAfter
	return ch
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
