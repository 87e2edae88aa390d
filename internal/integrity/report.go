package integrity

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// Report is the outcome of Verify. Its JSON form (the field tags below) is
// the public output of `harrier verify --format json`: add to it, never
// rename.
type Report struct {
	Digests         DigestCounts  `json:"digests"`
	LogFiles        LogFileCounts `json:"log_files"`
	UntrustedRanges []Range       `json:"untrusted_ranges"` // periods no valid digest vouches for, sorted
	Chains          []Chain       `json:"chains"`           // one per account, region, trail and home region, sorted
	Problems        []Problem     `json:"problems"`         // every finding, sorted by key, path, kind, detail
}

// DigestCounts counts digest files by status. Valid, Invalid, UnknownKey
// and Moved partition the digests present in the evidence (each counted
// once, by its worst status); Missing counts digests the chain shows
// should be there but are not, and Gaps counts digests that start a chain
// anew after its first (previousDigestSignature null): periods during
// which CloudTrail validated nothing.
type DigestCounts struct {
	Valid      int `json:"valid"`
	Invalid    int `json:"invalid"`
	Missing    int `json:"missing"`
	Gaps       int `json:"gaps"`
	UnknownKey int `json:"unknown_key"`
	Moved      int `json:"moved"`
}

func (c *DigestCounts) add(o DigestCounts) {
	c.Valid += o.Valid
	c.Invalid += o.Invalid
	c.Missing += o.Missing
	c.Gaps += o.Gaps
	c.UnknownKey += o.UnknownKey
	c.Moved += o.Moved
}

// LogFileCounts says what became of the log files. Valid counts log files
// (by S3 object) whose every copy in the evidence hashes to what a digest
// with a verified signature records. Modified and Deleted hold S3 object
// keys as the digests name them; Unverifiable holds the keys of log files
// in the evidence that no digest with a verified signature covers.
type LogFileCounts struct {
	Valid        int      `json:"valid"`
	Modified     []string `json:"modified"`
	Deleted      []string `json:"deleted"` // listed in a digest, absent from the evidence
	Unverifiable []string `json:"unverifiable"`
}

// Range is a period during which events of one account and region are not
// vouched for by a valid digest: events in it may have been removed or
// changed without trace. Gaps and missing or invalid digests give the
// times of digest delivery (digestStartTime to digestEndTime, widened to
// the digest's oldest and newest event when it has them); a modified or
// deleted log file gives the times of its oldest and newest event as its
// digest records them.
type Range struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Trail   string    `json:"trail"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Reason  string    `json:"reason"`
}

// Chain is the verification of one chain of digests: those CloudTrail
// writes for one trail, home region, account and region, linked each to
// the one before.
type Chain struct {
	Account    string `json:"account"`
	Region     string `json:"region"`
	Trail      string `json:"trail"`
	HomeRegion string `json:"home_region"`
	Org        string `json:"organization,omitempty"` // o-... for an organisation trail
	// First and Last are the digestEndTime of the first and last digest
	// present (zero when none could be read).
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// StartsAfter names the digest before First when First names one: the
	// evidence begins in the middle of the chain, so anything deleted
	// before it cannot be seen.
	StartsAfter string       `json:"starts_after,omitempty"`
	Digests     DigestCounts `json:"digests"`
	Backfill    int          `json:"backfill"`  // backfill digests among them, verified on their own
	LogFiles    int          `json:"log_files"` // log file entries in its digests
	Problems    []string     `json:"problems"`  // "KEY: what is wrong", sorted
}

// ProblemKind classifies a Problem.
type ProblemKind string

// The kinds of problem Verify reports.
const (
	ProblemUnreadable        ProblemKind = "unreadable"                  // the file cannot be read or decompressed
	ProblemFormat            ProblemKind = "invalid_format"              // a digest that is not one (bad JSON, missing fields)
	ProblemNoSignature       ProblemKind = "no_signature_metadata"       // no signature for the digest in metadata or a sidecar
	ProblemBadSignature      ProblemKind = "bad_signature"               // the RSA signature does not verify
	ProblemUnknownAlgorithm  ProblemKind = "unknown_algorithm"           // a hash or signature algorithm name not known here
	ProblemUnknownKey        ProblemKind = "unknown_key"                 // no public key with the digest's fingerprint
	ProblemPreviousHash      ProblemKind = "previous_hash_mismatch"      // previousDigestHashValue differs from the digest present
	ProblemPreviousSignature ProblemKind = "previous_signature_mismatch" // previousDigestSignature differs from the digest present
	ProblemMoved             ProblemKind = "moved"                       // the digest is not where it says CloudTrail wrote it
	ProblemMissing           ProblemKind = "missing_digest"              // a digest the chain names is absent
	ProblemGap               ProblemKind = "gap"                         // the chain starts anew: a period without validation
	ProblemMetadata          ProblemKind = "metadata"                    // a metadata sidecar without its digest, or in conflict
	ProblemLogModified       ProblemKind = "log_modified"                // a log file's hash differs from its digest's
	ProblemLogDeleted        ProblemKind = "log_deleted"                 // a listed log file is absent
	ProblemLogUnverifiable   ProblemKind = "log_unverifiable"            // a log file no verified digest covers
)

// invalidating reports whether a problem of this kind on a digest makes it
// invalid.
func (k ProblemKind) invalidating() bool {
	switch k {
	case ProblemUnreadable, ProblemFormat, ProblemNoSignature, ProblemBadSignature,
		ProblemUnknownAlgorithm, ProblemPreviousHash, ProblemPreviousSignature, ProblemMetadata:
		return true
	}
	return false
}

// Problem is one finding, naming the file it is about: Path where it is
// in the evidence (empty for something absent), Key the S3 object key
// (as the digest names it, or as the layout names the file).
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	Path   string      `json:"path,omitempty"`
	Key    string      `json:"key,omitempty"`
	Detail string      `json:"detail"`
}

// OK reports whether everything verified: every digest valid, none
// missing, no gaps, every log file present, unmodified and covered, and
// no other problem.
func (r Report) OK() bool {
	d := r.Digests
	return d.Invalid == 0 && d.Missing == 0 && d.Gaps == 0 && d.UnknownKey == 0 && d.Moved == 0 &&
		len(r.LogFiles.Modified) == 0 && len(r.LogFiles.Deleted) == 0 && len(r.LogFiles.Unverifiable) == 0 &&
		len(r.Problems) == 0
}

// MarshalJSON writes the report with "ok" (the value of OK) first and
// empty lists as [] rather than null, so that consumers need no special
// cases.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.LogFiles.Modified = orEmpty(p.LogFiles.Modified)
	p.LogFiles.Deleted = orEmpty(p.LogFiles.Deleted)
	p.LogFiles.Unverifiable = orEmpty(p.LogFiles.Unverifiable)
	p.UntrustedRanges = orEmpty(p.UntrustedRanges)
	p.Problems = orEmpty(p.Problems)
	p.Chains = slices.Clone(orEmpty(p.Chains))
	for i := range p.Chains {
		p.Chains[i].Problems = orEmpty(p.Chains[i].Problems)
	}
	return json.Marshal(struct {
		OK bool `json:"ok"`
		plain
	}{r.OK(), p})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sortReport puts every list of the report in its documented order.
func sortReport(r *Report) {
	slices.Sort(r.LogFiles.Modified)
	slices.Sort(r.LogFiles.Deleted)
	slices.Sort(r.LogFiles.Unverifiable)
	r.LogFiles.Modified = slices.Compact(r.LogFiles.Modified)
	r.LogFiles.Deleted = slices.Compact(r.LogFiles.Deleted)
	r.LogFiles.Unverifiable = slices.Compact(r.LogFiles.Unverifiable)
	slices.SortFunc(r.UntrustedRanges, func(a, b Range) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			a.Start.Compare(b.Start), a.End.Compare(b.End), cmp.Compare(a.Trail, b.Trail),
			cmp.Compare(a.Reason, b.Reason))
	})
	r.UntrustedRanges = slices.Compact(r.UntrustedRanges)
	slices.SortFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Detail, b.Detail))
	})
	r.Problems = slices.Compact(r.Problems)
	slices.SortFunc(r.Chains, func(a, b Chain) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Trail, b.Trail), cmp.Compare(a.HomeRegion, b.HomeRegion),
			cmp.Compare(a.Org, b.Org))
	})
	for i := range r.Chains {
		slices.Sort(r.Chains[i].Problems)
		r.Chains[i].Problems = slices.Compact(r.Chains[i].Problems)
	}
}
