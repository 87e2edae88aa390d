package integrity

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// digestItem is one digest of the evidence and what was found about it.
type digestItem struct {
	path, key, bucket string
	meta              map[string]string
	sidecarErr        string // why its sidecar could not be read
	d                 *Digest
	name              digestName // its identity: from digestS3Object, else from its key
	sigOK             bool       // its signature verified with a known key
	vouchedBy         string     // the next digest, verified, that records this one's hash and signature
	problems          []Problem
	chain             *chainState
}

func (it *digestItem) problem(kind ProblemKind, format string, args ...any) {
	it.problems = append(it.problems, Problem{Kind: kind, Path: it.path, Key: it.key, Detail: fmt.Sprintf(format, args...)})
}

type status int

const (
	statusValid status = iota
	statusUnknownKey
	statusMoved
	statusInvalid
)

// status is the digest's worst finding: invalid, then moved, then unknown
// key.
func (it *digestItem) status() status {
	s := statusValid
	for _, p := range it.problems {
		switch {
		case p.Kind.invalidating():
			return statusInvalid
		case p.Kind == ProblemMoved:
			s = max(s, statusMoved)
		case p.Kind == ProblemUnknownKey:
			s = max(s, statusUnknownKey)
		}
	}
	return s
}

func (it *digestItem) count(c *DigestCounts) {
	switch it.status() {
	case statusValid:
		c.Valid++
	case statusUnknownKey:
		c.UnknownKey++
	case statusMoved:
		c.Moved++
	default:
		c.Invalid++
	}
}

// end is the digest's end time, from its name when it cannot be read.
func (it *digestItem) end() time.Time {
	if it.d != nil {
		return it.d.EndTime
	}
	return it.name.Time
}

// collect makes the digest items, gives each its metadata (recorded at
// acquisition or from a sidecar) and keeps one of identical copies.
func (v *verifier) collect() {
	byPath := map[string][]*digestItem{}
	byKey := map[string][]*digestItem{}
	for i, r := range v.res {
		if r.kind != kindDigest {
			continue
		}
		f := v.files[i]
		it := &digestItem{path: f.Path, key: r.key, bucket: f.Bucket, meta: normalizeMeta(f.Meta), d: r.digest}
		var ok bool
		if it.d != nil {
			it.name, ok = parseDigestName(it.d.Object)
		}
		if !ok {
			it.name, _ = parseDigestName(r.key)
		}
		if r.err != nil {
			kind := ProblemUnreadable
			if errors.Is(r.err, ErrSyntax) || errors.Is(r.err, ErrFormat) {
				kind = ProblemFormat
			}
			it.problem(kind, "%v", r.err)
		}
		v.digests = append(v.digests, it)
		p := sidecarTarget(f.Path)
		byPath[p] = append(byPath[p], it)
		byKey[r.key] = append(byKey[r.key], it)
	}
	for i, r := range v.res {
		if r.kind != kindSidecar {
			continue
		}
		f := v.files[i]
		targets := byPath[strings.TrimSuffix(sidecarTarget(f.Path), SidecarSuffix)]
		if len(targets) == 0 {
			targets = byKey[strings.TrimSuffix(r.key, SidecarSuffix)]
		}
		if len(targets) == 0 {
			v.problems = append(v.problems, Problem{Kind: ProblemMetadata, Path: f.Path, Key: r.key,
				Detail: "a digest's metadata sidecar with no digest beside it in the evidence (was the digest removed?)"})
			continue
		}
		if r.err != nil {
			v.problems = append(v.problems, Problem{Kind: ProblemUnreadable, Path: f.Path, Key: r.key,
				Detail: fmt.Sprintf("a digest's metadata sidecar that cannot be read: %v", r.err)})
		} else {
			targets = pairBySignature(targets, r.meta)
		}
		for _, it := range targets {
			if r.err != nil {
				it.sidecarErr = fmt.Sprintf("%s: %v", f.Path, r.err)
				continue
			}
			mine, theirs := strings.TrimSpace(it.meta[MetaSignature]), strings.TrimSpace(r.meta[MetaSignature])
			if mine != "" && theirs != "" && !sameHex(mine, theirs) {
				it.problem(ProblemMetadata, "the signature in its sidecar %s differs from the one recorded for it", f.Path)
				continue
			}
			if it.meta == nil {
				it.meta = map[string]string{}
			}
			for k, val := range r.meta {
				if _, ok := it.meta[k]; !ok {
					it.meta[k] = val
				}
			}
		}
	}
	v.digests = dedupe(v.digests)
}

// sidecarTarget is a path as sidecars and digests are paired by it.
// pairBySignature narrows the digests a sidecar may belong to when several
// share its path: a digest object that changed between acquisitions lands
// under a ".harrier-" name beside the first, and so does its sidecar. Each
// sidecar belongs to the digests whose signature recorded at acquisition is
// its own; only when none is does it go to all of them, to be reported.
func pairBySignature(targets []*digestItem, meta map[string]string) []*digestItem {
	theirs := strings.TrimSpace(meta[MetaSignature])
	if len(targets) < 2 || theirs == "" {
		return targets
	}
	var same []*digestItem
	for _, it := range targets {
		if sameHex(strings.TrimSpace(it.meta[MetaSignature]), theirs) {
			same = append(same, it)
		}
	}
	if len(same) == 0 {
		return targets
	}
	return same
}

func sidecarTarget(p string) string {
	return alternative.ReplaceAllString(filepath.ToSlash(p), "")
}

// dedupe keeps one of digests with the same content (the same evidence
// taken twice): the one where CloudTrail wrote it, with a signature, first
// by path. Unreadable digests are all kept.
func dedupe(items []*digestItem) []*digestItem {
	slices.SortFunc(items, func(a, b *digestItem) int { return cmp.Compare(a.path, b.path) })
	best := map[[32]byte]*digestItem{}
	rank := func(it *digestItem) int {
		r := 0
		if !matchKey(it.d.Object, it.key) {
			r += 2
		}
		if it.meta[MetaSignature] == "" {
			r++
		}
		return r
	}
	for _, it := range items {
		if it.d == nil || len(it.problems) > 0 {
			continue
		}
		if b, ok := best[it.d.SHA256]; !ok || rank(it) < rank(b) {
			best[it.d.SHA256] = it
		}
	}
	out := items[:0]
	for _, it := range items {
		if it.d == nil || len(it.problems) > 0 || best[it.d.SHA256] == it {
			out = append(out, it)
		}
	}
	return out
}

// digestIndex finds the digests a digest names as its previous one, by
// where they are or by where they say CloudTrail wrote them.
type digestIndex map[string][]*digestItem

func newDigestIndex(items []*digestItem) digestIndex {
	idx := digestIndex{}
	for _, it := range items {
		bases := []string{path.Base(it.key)}
		if it.d != nil && path.Base(it.d.Object) != bases[0] {
			bases = append(bases, path.Base(it.d.Object))
		}
		for _, b := range bases {
			idx[b] = append(idx[b], it)
		}
	}
	return idx
}

func (idx digestIndex) resolve(obj string) []*digestItem {
	var out []*digestItem
	for _, it := range idx[path.Base(obj)] {
		if matchKey(obj, it.key) || (it.d != nil && it.d.Object == obj) {
			out = append(out, it)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
