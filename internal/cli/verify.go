package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	if _, err := os.Stat(filepath.Join(dir, casefile.MetaFile)); err != nil {
		return fmt.Errorf("case %s: %w (ingest evidence to create it)", dir, err)
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
	Custody         integrity.Custody
	CloudTrail      integrity.Report
	KeySources      []KeySource      // the public keys used, and where each came from
	IgnoredKeyFiles []string         // key documents in the evidence, not trusted
	KeyErrors       []string         // key documents that could not be read
	Flagged         map[string]int64 // events per integrity status of their evidence
	Evidence        int              // evidence files in the case
}

// KeySource is a public key verify used and where it came from.
type KeySource struct {
	Fingerprint string `json:"fingerprint"`
	Source      string `json:"source"`
}

// trailLayout matches CloudTrail's S3 key layout for log files, digests and
// their sidecars.
var trailLayout = regexp.MustCompile(`(^|/)AWSLogs/(o-[a-z0-9]+/)?[0-9]{12}/(CloudTrail|CloudTrail-Digest)/[a-z0-9-]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]+\.json(\.gz)?(\.metadata\.json)?$`)

// fetchedKeysOrigin marks key documents harrier fetched from CloudTrail.
const fetchedKeysOrigin = "aws:cloudtrail:ListPublicKeys:"

// OK reports whether everything verified: the evidence is as acquired, the
// digest chains hold, and every event comes from a log file a valid digest
// vouches for (an export such as lookup-events output has no digest).
func (r verifyResult) OK() bool {
	if r.Evidence == 0 || len(r.KeyErrors) > 0 {
		return false // nothing verified is not "verified"
	}
	for _, ch := range r.CloudTrail.Chains {
		if ch.StartsAfter != "" {
			return false // the chain names an earlier digest the case lacks
		}
	}
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
	flagged := map[string]int64{"verified": 0, "modified": 0, "unverifiable": 0, "changed-since-acquired": 0, "unchecked": 0}
	for k, v := range r.Flagged {
		flagged[k] = v
	}
	keys := r.KeySources
	if keys == nil {
		keys = []KeySource{}
	}
	ignored, keyErrs := r.IgnoredKeyFiles, r.KeyErrors
	if ignored == nil {
		ignored = []string{}
	}
	if keyErrs == nil {
		keyErrs = []string{}
	}
	if err := errors.Join(add("ok", r.OK()), add("custody", r.Custody), add("public_keys", keys),
		add("untrusted_key_files", ignored), add("key_errors", keyErrs), add("events_by_integrity", flagged)); err != nil {
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
		for _, key := range k {
			res.KeySources = append(res.KeySources, KeySource{Fingerprint: key.Fingerprint, Source: name})
		}
		keys = append(keys, k...)
		if err != nil {
			return fmt.Errorf("public keys %s: %w", name, err)
		}
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
	entries := c.Latest()
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
	for _, en := range entries {
		p := en.Path
		switch en.Content {
		case cloudtrail.FormatPublicKeys.String():
			// a key document is trusted only when harrier fetched it from
			// CloudTrail itself: one that came with the evidence may have
			// been planted by whoever forged the digests it would vouch for
			if !strings.HasPrefix(en.OriginalPath, fetchedKeysOrigin) {
				res.IgnoredKeyFiles = append(res.IgnoredKeyFiles, p)
				continue
			}
			r, err := open(en)()
			if err != nil {
				res.KeyErrors = append(res.KeyErrors, fmt.Sprintf("%s: %v", p, err))
				continue
			}
			if err := addKeys(p, r); err != nil {
				res.KeyErrors = append(res.KeyErrors, err.Error())
			}
			r.Close()
		case cloudtrail.FormatTrailLog.String(), cloudtrail.FormatDigest.String(), cloudtrail.FormatDigestMetadata.String():
			files = append(files, integrity.File{Path: p, Key: integrity.KeyFromPath(p), Open: open(en)})
			if en.Content == cloudtrail.FormatTrailLog.String() {
				status[p] = store.IntegrityFlag{EvidenceFile: p, Status: "verified"}
			}
		default:
			// where CloudTrail's S3 layout names a trail log, a digest or a
			// sidecar, verify checks the file whatever ingest made of its
			// content: a log rewritten into another shape is then modified,
			// not deleted, and an oversized digest is still a digest
			if trailLayout.MatchString(p) {
				files = append(files, integrity.File{Path: p, Key: integrity.KeyFromPath(p), Open: open(en)})
				if strings.Contains(p, "/CloudTrail/") {
					status[p] = store.IntegrityFlag{EvidenceFile: p, Status: "verified"}
				}
				continue
			}
			switch en.Content {
			case cloudtrail.FormatLookupEvents.String(), cloudtrail.FormatJSONLines.String(), cloudtrail.FormatJSONArray.String():
				status[p] = store.IntegrityFlag{EvidenceFile: p, Status: "unverifiable", Detail: "an export, not a trail log file: CloudTrail's digests do not cover it"}
			}
		}
	}
	res.Evidence = len(entries)
	if res.CloudTrail, err = integrity.Verify(ctx, files, keys); err != nil {
		return res, err
	}
	if res.Custody, err = integrity.CheckCustody(ctx, c, known); err != nil {
		return res, err
	}
	// the report's problems name the evidence file each is about: flag
	// exactly that file (another copy with the same name may be genuine)
	for _, pr := range res.CloudTrail.Problems {
		if _, ok := status[pr.Path]; !ok {
			continue
		}
		switch pr.Kind {
		case integrity.ProblemLogModified:
			status[pr.Path] = store.IntegrityFlag{EvidenceFile: pr.Path, Status: "modified", Detail: pr.Detail}
		case integrity.ProblemLogUnverifiable:
			if status[pr.Path].Status != "modified" {
				status[pr.Path] = store.IntegrityFlag{EvidenceFile: pr.Path, Status: "unverifiable", Detail: pr.Detail}
			}
		}
	}
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
	var changed []string
	for _, ch := range cu.Changed {
		changed = append(changed, fmt.Sprintf("%s: SHA-256 %s, recorded %s", ch.Path, ch.ActualSHA256, ch.RecordedSHA256))
	}
	listCapped(w, "CHANGED  ", changed)
	listCapped(w, "MISSING  ", cu.Missing)
	listCapped(w, "UNLISTED ", cu.Unlisted)
	listCapped(w, "UNREADABLE", cu.Unreadable)
	for _, p := range cu.ManifestProblems {
		fmt.Fprintf(w, "    MANIFEST  %s\n", safe(p))
	}
	ct := r.CloudTrail
	d := ct.Digests
	fmt.Fprintf(w, "  digests    %s valid, %s invalid, %s missing, %s gaps, %s unknown key, %s moved (%d chains)\n",
		num(d.Valid), num(d.Invalid), num(d.Missing), num(d.Gaps), num(d.UnknownKey), num(d.Moved), len(ct.Chains))
	if len(ct.Chains) > 0 {
		t := newTable(w, "    ACCOUNT", "REGION", "TRAIL", "FIRST DIGEST", "LAST DIGEST", "VALID", "INVALID", "MISSING", "GAPS", "UNKNOWN KEY", "MOVED", "LOGS")
		for i, ch := range ct.Chains {
			if i == 40 {
				t.row(fmt.Sprintf("    … and %d more chains (--format json lists them all)", len(ct.Chains)-40))
				break
			}
			cd := ch.Digests
			t.row("    "+ch.Account, ch.Region, ch.Trail, timeText(ch.First), timeText(ch.Last), num(cd.Valid), num(cd.Invalid),
				num(cd.Missing), num(cd.Gaps), num(cd.UnknownKey), num(cd.Moved), num(ch.LogFiles))
		}
		t.flush()
	}
	sources := map[string][]string{}
	for _, k := range r.KeySources {
		sources[k.Source] = append(sources[k.Source], k.Fingerprint)
	}
	for _, src := range sortedKeys(sources) {
		fmt.Fprintf(w, "  keys       %s: %s\n", safe(src), strings.Join(sources[src], ", "))
	}
	if len(r.KeySources) == 0 && r.CloudTrail.Digests.UnknownKey > 0 {
		fmt.Fprintln(w, "  keys       none trusted: give --public-keys (aws cloudtrail list-public-keys output) or use --fetch-keys")
	}
	for _, f := range r.IgnoredKeyFiles {
		fmt.Fprintf(w, "  NOT TRUSTED %s: a key document that came with the evidence (whoever forged digests could plant one); pass it with --public-keys if you vouch for it\n", safe(f))
	}
	for _, e := range r.KeyErrors {
		fmt.Fprintf(w, "  KEY ERROR  %s\n", safe(e))
	}
	for _, ch := range ct.Chains {
		if ch.StartsAfter != "" {
			fmt.Fprintf(w, "  STARTS AFTER  account %s %s %s: the first digest in the case names %s, which the case lacks (acquire from earlier to close the chain)\n",
				safe(ch.Account), safe(ch.Region), safe(ch.Trail), safe(ch.StartsAfter))
		}
	}
	lf := ct.LogFiles
	fmt.Fprintf(w, "  log files  %s valid, %d modified, %d deleted, %s unverifiable\n",
		num(lf.Valid), len(lf.Modified), len(lf.Deleted), num(len(lf.Unverifiable)))
	listCapped(w, "MODIFIED ", lf.Modified)
	listCapped(w, "DELETED  ", lf.Deleted)
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
		fmt.Fprintf(w, "  problems   %s (--format json lists them all):\n", num(len(ct.Problems)))
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
	r := strings.TrimSuffix(strings.Join(out, " "), ":")
	if i := strings.Index(r, " before"); i > 0 {
		r = r[:i]
	}
	return r
}

// listCapped prints a list of paths or keys, the first 20 of it.
func listCapped(w io.Writer, label string, items []string) {
	const most = 20
	for i, it := range items {
		if i == most {
			fmt.Fprintf(w, "    %s … and %s more (--format json lists them all)\n", label, num(len(items)-most))
			return
		}
		fmt.Fprintf(w, "    %s %s\n", label, safe(it))
	}
}
