package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/integrity"
	"github.com/harrier-ir/harrier/internal/store"
)

// errUnverified: verification ran and found the evidence not (all) verified.
var errUnverified = errors.New("evidence not verified")

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "verify", "--case DIR [--public-keys FILE]... [--format table|json]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var keyFiles listFlag
	fs.Var(&keyFiles, "public-keys", "CloudTrail public keys as `aws cloudtrail list-public-keys` prints them (repeatable); the case's own are used too")
	format := fs.String("format", "table", "output: table or json")
	fetch := fs.Bool("fetch-keys", false, "first fetch the keys from CloudTrail (ListPublicKeys, read-only, standard AWS credentials) for every region the case has digests of, and keep them in the case")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	c, st, err := openForWrite(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	if *fetch {
		if err := fetchKeys(ctx, e.stderr, c); err != nil {
			return err
		}
	}
	res, err := verifyCase(ctx, c, st, keyFiles)
	if err != nil {
		return err
	}
	if *format == "json" {
		b, err := res.MarshalJSON()
		if err != nil {
			return err
		}
		e.stdout.Write(append(b, '\n'))
	} else {
		printVerify(e.stdout, res)
	}
	if !res.OK() {
		return errUnverified
	}
	return nil
}

// verifyResult is the case's integrity: its own chain of custody and
// CloudTrail's log file validation.
type verifyResult struct {
	Custody    integrity.Custody
	CloudTrail integrity.Report
	Keys       int              // public keys available
	Flagged    map[string]int64 // events per integrity status of their evidence
}

// OK reports whether everything verified: the evidence is as acquired, the
// digest chains hold, and every event comes from a log file a valid digest
// vouches for (an export such as lookup-events output has no digest).
func (r verifyResult) OK() bool {
	for st, n := range r.Flagged {
		if st != "verified" && n > 0 {
			return false
		}
	}
	return r.Custody.OK() && r.CloudTrail.OK()
}

// MarshalJSON writes `harrier verify --format json`: the CloudTrail report's
// keys at the top level (ok, digests, log_files, untrusted_ranges, chains,
// problems), with custody, public_keys and events_by_integrity beside them;
// ok covers both.
func (r verifyResult) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.CloudTrail)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	add := func(k string, v any) error {
		b, err := json.Marshal(v)
		m[k] = b
		return err
	}
	if err := errors.Join(add("ok", r.OK()), add("custody", r.Custody), add("public_keys", r.Keys), add("events_by_integrity", r.Flagged)); err != nil {
		return nil, err
	}
	return json.MarshalIndent(m, "", "  ")
}

// verifyCase re-hashes the evidence, validates CloudTrail's digest chains
// over it, and records in the store what each evidence file turned out to
// be, so timelines can mark events from unverified evidence.
func verifyCase(ctx context.Context, c *casefile.Case, st *store.Store, keyFiles []string) (verifyResult, error) {
	var res verifyResult
	var err error
	// every file is read once: the digest checks hash the bytes as stored
	// on their way through, and custody only reads what they did not
	var mu sync.Mutex
	known := map[string]integrity.Hashed{}
	var keys []integrity.PublicKey
	addKeys := func(name string, r io.Reader) error {
		k, err := integrity.ParsePublicKeys(r)
		if err != nil && len(k) == 0 {
			return fmt.Errorf("public keys %s: %w", name, err)
		}
		keys = append(keys, k...)
		return nil
	}
	for _, f := range keyFiles {
		fh, err := os.Open(f)
		if err != nil {
			return res, err
		}
		err = addKeys(f, fh)
		fh.Close()
		if err != nil {
			return res, err
		}
	}
	latest := map[string]casefile.Entry{}
	for _, en := range c.Entries() {
		latest[en.Path] = en
	}
	paths := make([]string, 0, len(latest))
	for p := range latest {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	open := func(en casefile.Entry) func() (io.ReadCloser, error) {
		p := en.Path
		if !en.Referenced {
			p = c.Path(filepath.FromSlash(en.Path))
		}
		return func() (io.ReadCloser, error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			return integrity.NewHashingReader(f, func(h integrity.Hashed) {
				mu.Lock()
				known[en.Path] = h
				mu.Unlock()
			}), nil
		}
	}
	var files []integrity.File
	status := map[string]store.IntegrityFlag{}
	for _, p := range paths {
		en := latest[p]
		switch en.Content {
		case cloudtrail.FormatPublicKeys.String():
			r, err := open(en)()
			if err != nil {
				return res, err
			}
			err = addKeys(p, r)
			r.Close()
			if err != nil {
				return res, err
			}
		case cloudtrail.FormatTrailLog.String(), cloudtrail.FormatDigest.String(), cloudtrail.FormatDigestMetadata.String():
			files = append(files, integrity.File{Path: p, Key: integrity.KeyFromPath(p), Open: open(en)})
			if en.Content == cloudtrail.FormatTrailLog.String() {
				status[p] = store.IntegrityFlag{EvidenceFile: p, Status: "verified"}
			}
		case cloudtrail.FormatLookupEvents.String(), cloudtrail.FormatJSONLines.String(), cloudtrail.FormatJSONArray.String():
			status[p] = store.IntegrityFlag{EvidenceFile: p, Status: "unverifiable", Detail: "an export, not a trail log file: CloudTrail's digests do not cover it"}
		}
	}
	res.Keys = len(keys)
	if res.CloudTrail, err = integrity.Verify(ctx, files, keys); err != nil {
		return res, err
	}
	if res.Custody, err = integrity.CheckCustody(ctx, c, known); err != nil {
		return res, err
	}
	// map the report's S3 keys back to evidence files
	mark := func(keys []string, flag, detail string) {
		for _, k := range keys {
			for _, f := range files {
				if _, ok := status[f.Path]; ok && (f.Key == k || strings.HasSuffix(k, "/"+f.Key)) {
					status[f.Path] = store.IntegrityFlag{EvidenceFile: f.Path, Status: flag, Detail: detail}
				}
			}
		}
	}
	mark(res.CloudTrail.LogFiles.Unverifiable, "unverifiable", "no valid digest vouches for this log file")
	mark(res.CloudTrail.LogFiles.Modified, "modified", "its SHA-256 differs from the one its digest records")
	for _, ch := range res.Custody.Changed {
		status[ch.Path] = store.IntegrityFlag{EvidenceFile: ch.Path, Status: "changed-since-acquired", Detail: "its bytes differ from the case manifest's record"}
	}
	flags := make([]store.IntegrityFlag, 0, len(status))
	for _, p := range sortedKeys(status) {
		flags = append(flags, status[p])
	}
	if err := st.SetIntegrity(ctx, flags, c.Now()); err != nil {
		return res, err
	}
	if res.Flagged, err = st.FlaggedEvents(ctx); err != nil {
		return res, err
	}
	return res, nil
}

func printVerify(w io.Writer, r verifyResult) {
	if r.OK() {
		fmt.Fprintln(w, "Integrity  VERIFIED: the evidence is as acquired, and a valid digest vouches for every log file")
	} else {
		fmt.Fprintln(w, "Integrity  NOT VERIFIED: see below")
	}
	cu := r.Custody
	fmt.Fprintf(w, "  custody    %s evidence files re-hashed: %s as recorded, %d changed, %d missing, %d not in the manifest\n",
		num(cu.Files), num(cu.Verified), len(cu.Changed), len(cu.Missing), len(cu.Unlisted))
	for _, ch := range cu.Changed {
		fmt.Fprintf(w, "    CHANGED   %s: SHA-256 %s, recorded %s\n", safe(ch.Path), ch.ActualSHA256, ch.RecordedSHA256)
	}
	for _, p := range cu.Missing {
		fmt.Fprintf(w, "    MISSING   %s\n", safe(p))
	}
	for _, p := range cu.Unlisted {
		fmt.Fprintf(w, "    UNLISTED  %s\n", safe(p))
	}
	for _, p := range cu.ManifestProblems {
		fmt.Fprintf(w, "    MANIFEST  %s\n", safe(p))
	}
	ct := r.CloudTrail
	d := ct.Digests
	fmt.Fprintf(w, "  digests    %d valid, %d invalid, %d missing, %d gaps, %d unknown key, %d moved (%d chains, %d public keys)\n",
		d.Valid, d.Invalid, d.Missing, d.Gaps, d.UnknownKey, d.Moved, len(ct.Chains), r.Keys)
	lf := ct.LogFiles
	fmt.Fprintf(w, "  log files  %s valid, %d modified, %d deleted, %s unverifiable\n",
		num(lf.Valid), len(lf.Modified), len(lf.Deleted), num(len(lf.Unverifiable)))
	for _, k := range lf.Modified {
		fmt.Fprintf(w, "    MODIFIED  %s\n", safe(k))
	}
	for _, k := range lf.Deleted {
		fmt.Fprintf(w, "    DELETED   %s\n", safe(k))
	}
	if len(ct.UntrustedRanges) > 0 {
		// one line per period and trail: a stopped trail breaks the chain of
		// every region at once
		type span struct {
			account, trail string
			start, end     time.Time
			reason         string
		}
		regions := map[span][]string{}
		var order []span
		// within a region, adjacent periods with the same reason are one
		// period (an unknown key makes every digest of a chain untrusted)
		type regional struct {
			span
			region string
		}
		var merged []regional
		for _, u := range ct.UntrustedRanges {
			k := regional{span{u.Account, u.Trail, u.Start, u.End, reasonKind(u.Reason)}, u.Region}
			if n := len(merged); n > 0 {
				last := &merged[n-1]
				if last.account == k.account && last.trail == k.trail && last.region == k.region && last.reason == k.reason && !k.start.After(last.end) {
					if k.end.After(last.end) {
						last.end = k.end
					}
					continue
				}
			}
			merged = append(merged, k)
		}
		for _, m := range merged {
			if _, ok := regions[m.span]; !ok {
				order = append(order, m.span)
			}
			regions[m.span] = append(regions[m.span], m.region)
		}
		fmt.Fprintln(w, "  untrusted periods (no valid digest vouches for the evidence of these times):")
		for _, k := range order {
			rs := regions[k]
			where := strings.Join(rs, ", ")
			if len(rs) > 3 {
				where = fmt.Sprintf("%d regions (%s, …)", len(rs), strings.Join(rs[:3], ", "))
			}
			fmt.Fprintf(w, "    %s to %s  account %s, trail %s, %s: %s\n", timeText(k.start), timeText(k.end), safe(k.account), safe(k.trail), safe(where), safe(k.reason))
		}
	}
	var flagged []string
	for _, k := range sortedKeys(r.Flagged) {
		if k != "verified" {
			flagged = append(flagged, fmt.Sprintf("%s %s", k, num(r.Flagged[k])))
		}
	}
	if len(flagged) > 0 {
		fmt.Fprintf(w, "  events     from evidence not verified: %s (timelines mark them)\n", strings.Join(flagged, ", "))
	}
	// problems grouped by kind, a few of each: a case with no digests at
	// all has one problem per log file
	byKind := map[string][]integrity.Problem{}
	for _, p := range ct.Problems {
		byKind[string(p.Kind)] = append(byKind[string(p.Kind)], p)
	}
	if len(byKind) > 0 {
		fmt.Fprintf(w, "  problems   %d (--format json lists them all):\n", len(ct.Problems))
	}
	const most = 3
	for _, k := range sortedKeys(byKind) {
		ps := byKind[k]
		fmt.Fprintf(w, "    %s: %s\n", k, num(len(ps)))
		for i, p := range ps {
			if i == most {
				fmt.Fprintf(w, "      … and %s more\n", num(len(ps)-most))
				break
			}
			where := p.Key
			if where == "" {
				where = p.Path
			}
			fmt.Fprintf(w, "      %s: %s\n", safe(where), safe(p.Detail))
		}
	}
}

// reasonKind is a reason without the file it names, so that reasons of the
// same kind group together.
func reasonKind(reason string) string {
	words := strings.Fields(reason)
	out := words[:0]
	for _, w := range words {
		if strings.HasPrefix(w, "AWSLogs/") {
			continue
		}
		out = append(out, w)
	}
	r := strings.Join(out, " ")
	if i := strings.Index(r, " before"); i > 0 {
		r = r[:i]
	}
	return r
}
