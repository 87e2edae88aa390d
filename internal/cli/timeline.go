package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/report/export"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

func runTimeline(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "timeline", "--case DIR [filters] [--format table|csv|jsonl]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var f store.Filter
	var keys, principals, ips, events, sources, accounts, regions listFlag
	fs.Var(&keys, "key", "access key id (repeatable, comma-separated)")
	fs.Var(&principals, "principal", "principal ARN; * and ? glob; matches the caller and its role")
	fs.Var(&ips, "ip", "source IP address or CIDR block")
	fs.Var(&events, "event", "event name; * and ? glob, any case")
	fs.Var(&sources, "source", "event source, e.g. iam.amazonaws.com or iam*")
	fs.Var(&accounts, "account", "account id")
	fs.Var(&regions, "region", "AWS region")
	fs.BoolVar(&f.ErrorsOnly, "errors", false, "only calls that failed")
	since := fs.String("since", "", "from this time on (RFC 3339 or YYYY-MM-DD, UTC)")
	until := fs.String("until", "", "before this time (RFC 3339, or YYYY-MM-DD meaning the end of that day)")
	fs.IntVar(&f.Limit, "limit", 0, "at most this many events")
	format := fs.String("format", "table", "output: table, csv or jsonl")
	scopeFlag := fs.String("scope", "", "only the events of a scoped compromise: key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS (see harrier scope); --since and --until bound it")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var scopeSeed *scope.Seed
	if *scopeFlag != "" {
		sd, err := parseScopeSeed(*scopeFlag)
		if err != nil {
			return err
		}
		scopeSeed = &sd
	}
	if err := checkFormat(*format, "table", "csv", "jsonl"); err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	f.AccessKeys, f.Principals, f.IPs, f.Events, f.Sources, f.Accounts, f.Regions = keys, principals, ips, events, sources, accounts, regions
	for _, ip := range ips {
		if _, err := netip.ParsePrefix(ip); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return usageErr("--ip %q is neither an IP address nor a CIDR block", ip)
		}
	}
	if f.Since, err = parseTimeFlag("since", *since, false); err != nil {
		return err
	}
	if f.Until, err = parseTimeFlag("until", *until, true); err != nil {
		return err
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	if scopeSeed != nil {
		rep, err := scope.Run(ctx, st, scope.Options{Seeds: []scope.Seed{*scopeSeed}, Since: f.Since, Until: f.Until})
		if err != nil {
			return fmt.Errorf("--scope %s: %w", *scopeFlag, err)
		}
		f.Scope = &store.ScopeSet{AccessKeys: rep.AccessKeyIDs, EventIDs: rep.EventIDs}
	}
	return writeTimeline(ctx, e, st, f, *format)
}

// parseTimeFlag reads RFC 3339 or a bare date (UTC). A bare date given as an
// end means the end of that day.
func parseTimeFlag(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if end {
			return t.AddDate(0, 0, 1), nil
		}
		return t, nil
	}
	return time.Time{}, usageErr("--%s %q: use RFC 3339 (2026-03-14T09:00:00Z) or a date (2026-03-14), UTC", name, v)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeTimeline(ctx context.Context, e *env, st *store.Store, f store.Filter, format string) error {
	var (
		n  int
		cw *csv.Writer
		jw *export.JSONL
	)
	header := []string{"TIME", "ACCOUNT", "REGION", "PRINCIPAL", "ACCESS KEY", "SOURCE IP", "EVENT", "RESOURCE", "OUTCOME"}
	switch format {
	case "table":
		fmt.Fprintf(e.stdout, "%-20s  %-12s  %-14s  %-64s  %-20s  %-39s  %-40s  %-48s  %s\n", toAny(header)...)
	case "csv":
		cw = csv.NewWriter(e.stdout)
		cw.Write([]string{"time", "event_id", "account", "region", "principal", "identity_type", "access_key_id", "source_ip", "user_agent", "event_source", "event_name", "resource", "read_only", "error_code", "error_message", "evidence_file", "record_index", "integrity"})
	case "jsonl":
		// export's lines without the raw record: the same keys
		// (docs/CLI.md), one definition
		jw = export.NewJSONL(e.stdout, false)
	}
	err := st.Timeline(ctx, f, func(ev *store.TimelineEvent) error {
		n++
		switch format {
		case "table":
			// fixed widths so a million-line timeline streams without buffering
			// wide enough for an IPv6 address and an assumed-role ARN; what
			// must be cut is cut in the middle, keeping both ends
			_, err := fmt.Fprintf(e.stdout, "%-20s  %-12s  %-14s  %-64s  %-20s  %-39s  %-40s  %-48s  %s\n",
				timeText(ev.Time), safe(ev.Account), safe(ev.Region), clipMiddle(safe(ev.Principal()), 64), safe(ev.AccessKeyID),
				clipMiddle(safe(ev.SourceIP), 39), clip(safe(strings.TrimSuffix(ev.EventSource, ".amazonaws.com")+":"+ev.EventName), 40),
				clipMiddle(safe(ev.Resource), 48), clip(safe(ev.Outcome()), 100))
			return err
		case "csv":
			ro := ""
			if ev.ReadOnly.Valid {
				ro = strconv.FormatBool(ev.ReadOnly.Bool)
			}
			return cw.Write(defuseRow([]string{timeText(ev.Time), ev.EventID, ev.Account, ev.Region, ev.Principal(), ev.IdentityType, ev.AccessKeyID,
				ev.SourceIP, ev.UserAgent, ev.EventSource, ev.EventName, ev.Resource, ro, ev.ErrorCode, ev.ErrorMessage, ev.EvidenceFile,
				strconv.FormatInt(ev.RecordIndex, 10), ev.Integrity}))
		default:
			return jw.Write(&store.ExportEvent{TimelineEvent: *ev})
		}
	})
	if jw != nil {
		if ferr := jw.Flush(); err == nil {
			err = ferr
		}
	}
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	if err != nil {
		return err
	}
	if format == "table" {
		fmt.Fprintf(e.stderr, "(%s events)\n", num(n))
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
