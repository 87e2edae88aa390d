package integrity

import (
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// listing is a log file as one digest lists it.
type listing struct {
	it *digestItem
	lf *LogFile
}

// checkLogs matches the log files of the evidence to the digests' lists:
// by key (a suffix of the listed object name), else by content hash (a
// log file renamed by hand). A listed log file absent from the evidence
// is deleted; one whose hash differs is modified; one that matches is
// valid when a digest with a verified signature lists it, and
// unverifiable otherwise, like a log file no digest lists.
func (v *verifier) checkLogs() {
	listed := map[string][]listing{}
	byBase := map[string][]string{}
	byHash := map[string][]string{}
	for _, it := range v.digests {
		if it.d == nil {
			continue
		}
		for i := range it.d.LogFiles {
			lf := &it.d.LogFiles[i]
			if _, seen := listed[lf.Object]; !seen {
				b := path.Base(lf.Object)
				byBase[b] = append(byBase[b], lf.Object)
			}
			listed[lf.Object] = append(listed[lf.Object], listing{it, lf})
			if lf.usable() {
				h := strings.ToLower(lf.HashValue)
				if !slices.Contains(byHash[h], lf.Object) {
					byHash[h] = append(byHash[h], lf.Object)
				}
			}
		}
	}

	copies := map[string][]int{}
	for i, r := range v.res {
		if r.kind != kindLog {
			continue
		}
		var objs []string
		for _, obj := range byBase[path.Base(r.key)] {
			if matchKey(obj, r.key) {
				objs = append(objs, obj)
			}
		}
		if len(objs) == 0 && r.err == nil {
			objs = byHash[hex.EncodeToString(r.sum[:])]
		}
		if len(objs) == 0 {
			why := "no digest in the evidence lists it"
			if r.err != nil {
				why += fmt.Sprintf(" (and it could not be read: %v)", r.err)
			}
			v.unverifiable(i, why)
			continue
		}
		for _, obj := range objs {
			copies[obj] = append(copies[obj], i)
		}
	}

	for _, obj := range sortedKeys(listed) {
		all, cps := listed[obj], copies[obj]
		// only a digest whose signature verified may call a log file
		// deleted or modified: an attacker who can write the bucket must
		// not be able to discredit genuine evidence with a planted or
		// edited digest (the AWS CLI likewise skips the log files of a
		// digest that fails)
		ls := slices.DeleteFunc(slices.Clone(all), func(l listing) bool { return !l.it.sigOK })
		if len(ls) == 0 {
			for _, i := range cps {
				v.unverifiable(i, "listed only in digests whose signature did not verify ("+digestKeys(all)+")")
			}
			continue
		}
		if len(cps) == 0 {
			v.rep.LogFiles.Deleted = append(v.rep.LogFiles.Deleted, obj)
			v.logProblem(ls, Problem{Kind: ProblemLogDeleted, Key: obj,
				Detail: "listed in " + digestKeys(ls) + ", absent from the evidence"})
			v.logRanges(ls, "log file deleted: "+obj)
			continue
		}
		modified := false
		for _, i := range cps {
			r, p := v.res[i], v.files[i].Path
			if r.err != nil {
				modified = true
				v.logProblem(ls, Problem{Kind: ProblemLogModified, Path: p, Key: obj,
					Detail: fmt.Sprintf("%s cannot be read (%v); listed in %s", p, r.err, digestKeys(ls))})
				continue
			}
			got := hex.EncodeToString(r.sum[:])
			for _, l := range ls {
				if l.lf.usable() && !sameHex(got, l.lf.HashValue) {
					modified = true
					v.logProblem(ls, Problem{Kind: ProblemLogModified, Path: p, Key: obj,
						Detail: fmt.Sprintf("%s hashes to %s, but %s records %s", p, got, l.it.key, strings.ToLower(l.lf.HashValue))})
				}
			}
		}
		if modified {
			v.rep.LogFiles.Modified = append(v.rep.LogFiles.Modified, obj)
			v.logRanges(ls, "log file modified: "+obj)
			continue
		}
		if slices.ContainsFunc(ls, func(l listing) bool { return l.it.sigOK && l.lf.usable() }) {
			v.rep.LogFiles.Valid++
			continue
		}
		for _, i := range cps {
			v.unverifiable(i, "listed only in digests that could not be verified: "+digestKeys(ls))
		}
	}
}

func (v *verifier) unverifiable(i int, why string) {
	key := v.res[i].key
	v.rep.LogFiles.Unverifiable = append(v.rep.LogFiles.Unverifiable, key)
	v.problems = append(v.problems, Problem{Kind: ProblemLogUnverifiable, Path: v.files[i].Path, Key: key, Detail: why})
}

// logProblem records a log file's problem, and in the chains of the
// digests that list it.
func (v *verifier) logProblem(ls []listing, p Problem) {
	v.problems = append(v.problems, p)
	var done []*chainState
	for _, l := range ls {
		if c := l.it.chain; c != nil && !slices.Contains(done, c) {
			c.logs = append(c.logs, p)
			done = append(done, c)
		}
	}
}

// logRanges marks the events of a modified or deleted log file untrusted:
// from its oldest to its newest event as each digest listing it records
// them (the digest's span when it records none).
func (v *verifier) logRanges(ls []listing, reason string) {
	for _, l := range ls {
		start, end := l.lf.OldestEventTime, l.lf.NewestEventTime
		if start.IsZero() {
			start = l.it.d.StartTime
		}
		if end.IsZero() {
			end = l.it.d.EndTime
		}
		l.it.chain.untrusted(start, end, reason)
	}
}

// digestKeys names the digests of listings.
func digestKeys(ls []listing) string {
	var keys []string
	for _, l := range ls {
		keys = append(keys, l.it.key)
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ", ")
}

// eventSpan is the period a digest's events and delivery cover.
func eventSpan(d *Digest) (time.Time, time.Time) {
	start, end := d.StartTime, d.EndTime
	if !d.OldestEventTime.IsZero() && d.OldestEventTime.Before(start) {
		start = d.OldestEventTime
	}
	if d.NewestEventTime.After(end) {
		end = d.NewestEventTime
	}
	return start, end
}
