package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/acquire/trails"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// ContentAcquireCoverage is the content type of the coverage document
// acquire keeps in the case: what existed, what was collected, what was
// missing or denied. The report reads it.
const ContentAcquireCoverage = "harrier-acquire-coverage"

// coverageDoc is the coverage document (docs/CLI.md documents its keys).
type coverageDoc struct {
	Stamp     string              `json:"stamp"`
	Since     time.Time           `json:"since"`
	Until     time.Time           `json:"until"`
	Caller    map[string]string   `json:"caller"`
	Regions   []string            `json:"regions"`
	Sources   []string            `json:"sources"`
	Accounts  []coverageAccount   `json:"accounts"`
	Unreached []accountFailure    `json:"unreached_accounts"`
	Trails    []coverageTrail     `json:"trail_buckets"`
	Coverage  []evidence.Coverage `json:"coverage"`
	Notes     []string            `json:"notes"`
	KeyErrors []string            `json:"public_key_errors"`
	TookMS    int64               `json:"took_ms"`
}

type coverageAccount struct {
	Account     string           `json:"account"`
	Caller      string           `json:"caller_arn"`
	Role        string           `json:"role,omitempty"`
	Regions     []string         `json:"regions"`                // the regions asked in it
	NotEnabled  []string         `json:"regions_not_enabled"`    // with --regions all: regions it has not opted into
	RegionError string           `json:"region_error,omitempty"` // why its enabled regions are unknown
	Trails      []trails.Trail   `json:"trails"`
	Problems    []trails.Problem `json:"problems"`
	Lookups     []coverageLookup `json:"event_history"`
}

type coverageLookup struct {
	Region   string    `json:"region"`
	Events   int       `json:"events"`
	Pages    int       `json:"pages"`
	Throttle int       `json:"throttled"`
	Oldest   time.Time `json:"oldest,omitzero"`
	Newest   time.Time `json:"newest,omitzero"`
	Skipped  bool      `json:"already_in_case"`
	Error    string    `json:"error,omitempty"`
	Denied   bool      `json:"denied"`
}

type coverageTrail struct {
	Account string       `json:"account"` // whose credentials collected it
	Trail   string       `json:"trail"`
	Bucket  string       `json:"bucket"`
	Prefix  string       `json:"prefix"`
	Stats   trails.Stats `json:"stats"`
	Error   string       `json:"error,omitempty"`
}

// saveCoverage keeps the run's coverage in the case, hashed in the manifest
// beside what it describes.
func saveCoverage(c *casefile.Case, r acquireResult, o acquireOptions) error {
	doc := coverageDoc{Stamp: r.stamp, Since: o.since, Until: o.until, Caller: r.caller, Regions: o.regions, Sources: o.sources,
		Unreached: r.unreached, Coverage: r.coverage, Notes: r.notes, KeyErrors: r.keyErrs, TookMS: r.took.Milliseconds()}
	for _, a := range r.accounts {
		ca := coverageAccount{Account: a.account, Caller: a.caller["arn"], Role: a.role, Trails: a.trails, Problems: a.problems,
			Regions: a.regions, NotEnabled: a.skipped, RegionError: a.regionErr}
		for _, l := range a.lookups {
			ca.Lookups = append(ca.Lookups, coverageLookup{Region: l.region, Events: l.stats.Events, Pages: l.stats.Pages, Throttle: l.stats.Throttled,
				Oldest: l.stats.Oldest, Newest: l.stats.Newest, Skipped: l.stats.Skipped, Error: l.err, Denied: l.denied})
		}
		doc.Accounts = append(doc.Accounts, ca)
	}
	for _, col := range r.collected {
		doc.Trails = append(doc.Trails, coverageTrail{Account: col.account, Trail: col.trail.ARN, Bucket: col.trail.Bucket, Prefix: col.trail.Prefix, Stats: col.stats, Error: col.err})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = c.AddAcquired("aws/acquisitions/"+r.stamp+"/coverage.json", "harrier:acquire", ContentAcquireCoverage, append(b, '\n'),
		map[string]any{"service": "harrier", "api": "acquire", "request_time": time.Now().UTC()})
	return err
}

// writeCoverage prints, per account, trail and region, what existed in the
// window and what was collected, and what was missing or denied.
func writeCoverage(w io.Writer, r acquireResult) {
	fmt.Fprintf(w, "== Acquired as %s\n", safe(r.caller["arn"]))
	for _, u := range r.unreached {
		fmt.Fprintf(w, "account %s NOT REACHED: %s\n", u.Account, safe(u.Error))
	}
	for _, a := range r.accounts {
		if len(r.accounts) > 1 || a.role != "" {
			fmt.Fprintf(w, "\n== Account %s (as %s)\n", a.account, safe(a.caller["arn"]))
		}
		if len(a.skipped) > 0 {
			fmt.Fprintf(w, "regions not enabled in %s (nothing can run there, so nothing was asked): %s\n", a.account, strings.Join(a.skipped, ", "))
		}
		if a.regionErr != "" {
			fmt.Fprintf(w, "note: %s\n", safe(a.regionErr))
		}
		writeTrails(w, a)
	}
	for _, col := range r.collected {
		writeCollected(w, col)
	}
	for _, k := range r.keyErrs {
		fmt.Fprintf(w, "public keys: %s\n", safe(k))
	}
	writeLookups(w, r)
	writeSourceCoverage(w, r.coverage)
	for _, n := range r.notes {
		fmt.Fprintf(w, "note: %s\n", safe(n))
	}
	fmt.Fprintf(w, "\n(took %s)\n", r.took.Round(time.Millisecond))
}

func writeTrails(w io.Writer, a accountRun) {
	denied := 0
	for _, p := range a.problems {
		if p.API == "DescribeTrails" {
			denied++
		}
	}
	switch {
	case len(a.trails) == 0 && denied > 0:
		fmt.Fprintf(w, "Trails unknown: DescribeTrails failed in %d regions (see below), so whether trails exist cannot be told.\n", denied)
	case len(a.trails) == 0:
		fmt.Fprintln(w, "No trail found in the regions asked: this account's API history is only in CloudTrail's event history (LookupEvents: management events of the last 90 days).")
	}
	for _, t := range a.trails {
		status := "logging status unknown"
		if t.Status != nil {
			status = "logging"
			if !t.Status.IsLogging {
				status = "NOT logging"
				if !t.Status.StopLoggingTime.IsZero() {
					status += " since " + timeText(t.Status.StopLoggingTime)
				}
			}
		}
		fmt.Fprintf(w, "\ntrail %s (home %s, %s, multi-region %v, organization %v, log file validation %v) → s3://%s/%s\n",
			safe(t.ARN), t.HomeRegion, status, t.MultiRegion, t.Organization, t.LogFileValidation, safe(t.Bucket), safe(t.Prefix))
	}
	for _, p := range a.problems {
		fmt.Fprintf(w, "%s  %s:%s in %s %s: %s\n", deniedWord(p.Denied), p.Service, p.API, p.Region, safe(p.Target), safe(p.Error))
	}
}

func writeCollected(w io.Writer, col collected) {
	s := col.stats
	failed := 0
	for _, f := range s.Failed {
		if !f.Unsigned {
			failed++
		}
	}
	fmt.Fprintf(w, "\ns3://%s: %d objects in the window, %d downloaded (%s), %d already in the case, %d failed\n",
		safe(col.trail.Bucket), s.Listed, s.Downloaded, sizeText(s.Bytes), s.Skipped, failed)
	fmt.Fprintf(w, "  %-14s  %-14s  %-10s  %-10s  %6s  %7s\n", "ACCOUNT", "REGION", "FIRST DAY", "LAST DAY", "LOGS", "DIGESTS")
	for _, cv := range s.Coverage {
		acct := cv.Account
		if cv.Org != "" {
			acct = cv.Org + "/" + acct
		}
		first, last := "-", "-"
		if !cv.FirstDay.IsZero() {
			first, last = cv.FirstDay.Format("2006-01-02"), cv.LastDay.Format("2006-01-02")
		}
		fmt.Fprintf(w, "  %-14s  %-14s  %-10s  %-10s  %6d  %7d\n", safe(acct), safe(cv.Region), first, last, cv.Logs, cv.Digests)
		if len(cv.NoLogs) > 0 {
			fmt.Fprintf(w, "  %-14s  %-14s  no log files on %s\n", "", "", dayRanges(cv.NoLogs))
		}
	}
	var unsigned, archived []string
	for _, f := range s.Failed {
		if f.Unsigned {
			unsigned = append(unsigned, f.Key)
			continue
		}
		if f.Archived {
			archived = append(archived, f.Key)
			continue
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", deniedWord(f.Denied), safe(f.Key), safe(f.Error))
	}
	if len(archived) > 0 {
		fmt.Fprintf(w, "  ARCHIVED  %d files are in Glacier or Deep Archive and cannot be read until restored (S3 RestoreObject), then re-run acquire (the first: %s)\n", len(archived), safe(archived[0]))
	}
	if s.Noncurrent > 0 {
		fmt.Fprintf(w, "  versions  %d earlier versions of files (overwritten or deleted) collected beside the current ones\n", s.Noncurrent)
	}
	for _, d := range s.Deleted {
		fmt.Fprintf(w, "  DELETED   %s at %s (delete marker %s): its earlier versions are collected\n", safe(d.Key), timeText(d.At), safe(d.VersionID))
	}
	if len(unsigned) > 0 {
		fmt.Fprintf(w, "  unsigned  %d digests carry no signature in their S3 metadata: kept, but they cannot be verified (the first: %s)\n", len(unsigned), safe(unsigned[0]))
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  %s  %s %s: %s\n", deniedWord(p.Denied), p.API, safe(p.Target), safe(p.Error))
	}
	if col.err != "" {
		fmt.Fprintf(w, "  stopped: %s\n", safe(col.err))
	}
}

func writeLookups(w io.Writer, r acquireResult) {
	any := false
	for _, a := range r.accounts {
		if len(a.lookups) == 0 {
			continue
		}
		if !any {
			fmt.Fprintf(w, "\nevent history (LookupEvents: management events, 90 days) where no trail covers the region\n")
			any = true
		}
		for _, l := range a.lookups {
			where := l.region
			if len(r.accounts) > 1 {
				where = a.account + " " + l.region
			}
			switch {
			case l.err != "":
				fmt.Fprintf(w, "  %-14s  %s: %s\n", where, deniedWord(l.denied), safe(l.err))
			case l.stats.Skipped:
				fmt.Fprintf(w, "  %-14s  already in the case\n", where)
			default:
				fmt.Fprintf(w, "  %-14s  %d events in %d pages (%d requests, %d throttled), %s → %s\n", where, l.stats.Events, l.stats.Pages,
					l.stats.Requests, l.stats.Throttled, timeText(l.stats.Oldest), timeText(l.stats.Newest))
			}
		}
	}
}

// writeSourceCoverage prints the API sources' rows: a table per source of
// account and region, whether the source exists there, what was collected
// for which span, and the problems.
func writeSourceCoverage(w io.Writer, rows []evidence.Coverage) {
	if len(rows) == 0 {
		return
	}
	sorted := append([]evidence.Coverage(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Region < b.Region
	})
	fmt.Fprintf(w, "\n== Other sources\n")
	fmt.Fprintf(w, "  %-12s  %-12s  %-14s  %-7s  %7s  %6s  %9s  %-35s  %s\n", "SOURCE", "ACCOUNT", "REGION", "EXISTS", "ITEMS", "FILES", "SIZE", "SPAN", "DETAIL")
	for _, cv := range sorted {
		span := "-"
		if !cv.From.IsZero() {
			span = cv.From.UTC().Format("2006-01-02 15:04") + " → " + cv.To.UTC().Format("2006-01-02 15:04")
		}
		exists := cv.Exists
		if exists == "" {
			exists = "unknown"
		}
		fmt.Fprintf(w, "  %-12s  %-12s  %-14s  %-7s  %7d  %6d  %9s  %-35s  %s\n", safe(cv.Source), safe(cv.Account), safe(cv.Region), exists,
			cv.Items, cv.Files, sizeText(cv.Bytes), span, safe(cv.Detail))
		seen := map[evidence.Problem]bool{}
		for _, p := range cv.Problems {
			if seen[p] {
				continue // the same refusal for two queries (archived findings and not)
			}
			seen[p] = true
			target := ""
			if p.Target != "" {
				target = " " + p.Target
			}
			fmt.Fprintf(w, "  %-12s  %s  %s:%s%s: %s\n", "", deniedWord(p.Denied), p.Service, p.API, safe(target), safe(p.Error))
		}
	}
}

// dayRanges writes sorted days as ranges: "2026-03-01, 2026-03-03 → 2026-03-05".
func dayRanges(days []time.Time) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1].Equal(days[j].AddDate(0, 0, 1)) {
			j++
		}
		p := days[i].Format("2006-01-02")
		if j > i {
			p += " → " + days[j].Format("2006-01-02")
		}
		parts = append(parts, p)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func deniedWord(denied bool) string {
	if denied {
		return "DENIED"
	}
	return "failed"
}

// maxRowProblems bounds the failed files a coverage row lists; the count
// says how many there were.
const maxRowProblems = 20

// caseCoverage reads the coverage documents of the case's acquisitions and
// returns their rows for the report: per source, account and region, the
// latest run's. Trail buckets and the event history become rows of their
// own ("cloudtrail", "lookup"), an account without trails a "no" row, and
// an account not reached an "unknown" one.
func caseCoverage(c *casefile.Case) ([]evidence.Coverage, error) {
	var docs []coverageDoc
	for _, e := range c.Latest() {
		if e.Content != ContentAcquireCoverage {
			continue
		}
		b, err := os.ReadFile(c.Path(filepath.FromSlash(e.Path)))
		if err != nil {
			return nil, fmt.Errorf("read coverage: %w", err)
		}
		var d coverageDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("coverage %s: %w", e.Path, err)
		}
		docs = append(docs, d)
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Stamp < docs[j].Stamp })
	latest := map[[3]string]evidence.Coverage{}
	var order [][3]string
	put := func(cv evidence.Coverage) {
		k := [3]string{cv.Source, cv.Account, cv.Region}
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = cv
	}
	for _, d := range docs {
		for _, u := range d.Unreached {
			put(evidence.Coverage{Source: "account", Account: u.Account, Region: "-", Exists: "unknown", Detail: "not reached",
				Problems: []evidence.Problem{{Service: "sts", API: "AssumeRole", Account: u.Account, Target: u.Role, Error: u.Error}}})
		}
		for _, a := range d.Accounts {
			if len(a.Trails) == 0 {
				cv := evidence.Coverage{Source: "cloudtrail", Account: a.Account, Region: "-", Exists: "no", Detail: "no trail found: only the event history records this account's API calls"}
				for _, p := range a.Problems {
					cv.Exists = "unknown"
					cv.Problems = append(cv.Problems, evidence.Problem{Service: p.Service, API: p.API, Account: a.Account, Region: p.Region, Target: p.Target, Denied: p.Denied, Error: p.Error})
				}
				put(cv)
			}
			if len(a.Trails) > 0 && len(a.Problems) > 0 {
				cv := evidence.Coverage{Source: "cloudtrail-config", Account: a.Account, Region: "-", Exists: "yes",
					Detail: fmt.Sprintf("%d trails; some of their configuration could not be read", len(a.Trails))}
				for _, p := range a.Problems {
					cv.Problems = append(cv.Problems, evidence.Problem{Service: p.Service, API: p.API, Account: a.Account, Region: p.Region, Target: p.Target, Denied: p.Denied, Error: p.Error})
				}
				put(cv)
			}
			for _, l := range a.Lookups {
				cv := evidence.Coverage{Source: "lookup", Account: a.Account, Region: l.Region, Exists: "yes", Items: l.Events, Files: l.Pages, From: l.Oldest, To: l.Newest,
					Detail: fmt.Sprintf("event history (management events): %d events, %d throttled requests", l.Events, l.Throttle)}
				if l.Skipped {
					cv.Detail = "event history already in the case"
				}
				if l.Error != "" {
					cv.Exists = "unknown"
					cv.Problems = []evidence.Problem{{Service: "cloudtrail", API: "LookupEvents", Account: a.Account, Region: l.Region, Denied: l.Denied, Error: l.Error}}
				}
				put(cv)
			}
		}
		for _, e := range d.KeyErrors {
			put(evidence.Coverage{Source: "public-keys", Account: d.Caller["account"], Region: "-", Exists: "unknown",
				Detail:   "CloudTrail's public keys could not all be fetched: digests signed with a missing key cannot be verified",
				Problems: []evidence.Problem{{Service: "cloudtrail", API: "ListPublicKeys", Error: e}}})
		}
		for _, tb := range d.Trails {
			if len(tb.Stats.Coverage) == 0 {
				cv := evidence.Coverage{Source: "cloudtrail", Account: tb.Account, Region: "-", Exists: "no",
					Detail: fmt.Sprintf("s3://%s/%s: no log files in the window", tb.Bucket, tb.Prefix)}
				if tb.Error != "" || len(tb.Stats.Problems) > 0 {
					cv.Exists, cv.Detail = "unknown", fmt.Sprintf("s3://%s/%s could not be listed", tb.Bucket, tb.Prefix)
				}
				if tb.Error != "" {
					cv.Problems = append(cv.Problems, evidence.Problem{Service: "s3", Target: "s3://" + tb.Bucket, Error: tb.Error})
				}
				for _, p := range tb.Stats.Problems {
					cv.Problems = append(cv.Problems, evidence.Problem{Service: p.Service, API: p.API, Target: p.Target, Denied: p.Denied, Error: p.Error})
				}
				put(cv)
			}
			for _, row := range tb.Stats.Coverage {
				cv := evidence.Coverage{Source: "cloudtrail", Account: row.Account, Region: row.Region, Exists: "yes", Items: row.Logs, Files: row.Logs + row.Digests,
					Detail: fmt.Sprintf("s3://%s: %d log files, %d digests", tb.Bucket, row.Logs, row.Digests)}
				if !row.FirstDay.IsZero() {
					cv.From, cv.To = row.FirstDay, row.LastDay.AddDate(0, 0, 1)
				}
				if len(row.NoLogs) > 0 {
					cv.Detail += "; no log files on " + dayRanges(row.NoLogs)
				}
				deleted := 0
				for _, del := range tb.Stats.Deleted {
					if strings.Contains(del.Key, "/"+row.Account+"/") && strings.Contains(del.Key, "/"+row.Region+"/") {
						deleted++
					}
				}
				if deleted > 0 {
					cv.Detail += fmt.Sprintf("; %d files DELETED (earlier versions collected)", deleted)
				}
				for _, p := range tb.Stats.Problems {
					cv.Problems = append(cv.Problems, evidence.Problem{Service: p.Service, API: p.API, Target: p.Target, Denied: p.Denied, Error: p.Error})
				}
				// files listed but not acquired: the row's logs are not whole
				failed := 0
				for _, f := range tb.Stats.Failed {
					if f.Unsigned || !strings.Contains(f.Key, "/"+row.Account+"/") || !strings.Contains(f.Key, "/"+row.Region+"/") {
						continue
					}
					failed++
					if failed <= maxRowProblems {
						cv.Problems = append(cv.Problems, evidence.Problem{Service: "s3", API: "GetObject", Target: "s3://" + tb.Bucket + "/" + f.Key, Denied: f.Denied, Error: f.Error})
					}
				}
				if failed > 0 {
					cv.Detail += fmt.Sprintf("; %d files NOT acquired", failed)
					if failed > maxRowProblems {
						cv.Detail += fmt.Sprintf(" (the first %d listed)", maxRowProblems)
					}
				}
				put(cv)
			}
		}
		for _, cv := range d.Coverage {
			put(cv)
		}
	}
	out := make([]evidence.Coverage, 0, len(order))
	for _, k := range order {
		out = append(out, latest[k])
	}
	return out, nil
}
