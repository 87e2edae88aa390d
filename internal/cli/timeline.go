package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/report/export"
	"github.com/harrier-ir/harrier/internal/store"
)

func runTimeline(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "timeline", "--case DIR [filters] [--format table|csv|jsonl]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var ef eventFilter
	ef.register(fs)
	format := fs.String("format", "table", "output: table, csv or jsonl")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := ef.parse(); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "csv", "jsonl"); err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	if err := ef.resolveScope(ctx, st); err != nil {
		return err
	}
	return writeTimeline(ctx, e, st, ef.f, *format)
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
