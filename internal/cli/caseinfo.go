package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/store"
)

func runCase(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "info" {
		return usageErr("usage: harrier case info --case DIR [--format table|json] [--detail]")
	}
	fs := flagSet(e, "case info", "--case DIR [--format table|json] [--detail]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	format := fs.String("format", "table", "output: table or json")
	detail := fs.Bool("detail", false, "table: also list events by account, region and day")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
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
	info, err := gatherInfo(ctx, c, st)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(info)
	}
	return printInfo(e.stdout, info, *detail)
}

// caseInfo is `harrier case info --format json`; its keys are a public
// interface (docs/CLI.md).
type caseInfo struct {
	Case struct {
		ID        string            `json:"id"`
		CreatedAt time.Time         `json:"created_at"`
		CreatedBy casefile.Operator `json:"created_by"`
	} `json:"case"`
	Evidence struct {
		Files      int            `json:"files"`
		Bytes      int64          `json:"bytes"`
		Referenced int            `json:"referenced"`
		ByContent  map[string]int `json:"by_content"`
		Problems   []string       `json:"manifest_problems"` // damaged manifest lines
	} `json:"evidence"`
	Store store.Summary `json:"store"`
}

func gatherInfo(ctx context.Context, c *casefile.Case, st *store.Store) (caseInfo, error) {
	var info caseInfo
	info.Case.ID, info.Case.CreatedAt, info.Case.CreatedBy = c.Meta.ID, c.Meta.CreatedAt.UTC(), c.Meta.CreatedBy
	info.Evidence.ByContent = map[string]int{}
	info.Evidence.Problems = c.ManifestProblems()
	if info.Evidence.Problems == nil {
		info.Evidence.Problems = []string{}
	}
	for _, en := range c.Entries() {
		info.Evidence.Files++
		info.Evidence.Bytes += en.Size
		if en.Referenced {
			info.Evidence.Referenced++
		}
		content := en.Content
		if content == "" {
			content = "unknown"
		}
		info.Evidence.ByContent[content]++
	}
	sum, err := st.Summarize(ctx)
	if err != nil {
		return info, err
	}
	info.Store = sum
	return info, nil
}

func printInfo(w io.Writer, info caseInfo, detail bool) error {
	s := info.Store
	fmt.Fprintf(w, "Case       %s (created %s by %s@%s)\n", safe(info.Case.ID), timeText(info.Case.CreatedAt), safe(info.Case.CreatedBy.User), safe(info.Case.CreatedBy.Host))
	var contents []string
	for _, k := range sortedKeys(info.Evidence.ByContent) {
		contents = append(contents, fmt.Sprintf("%s %s", k, num(info.Evidence.ByContent[k])))
	}
	fmt.Fprintf(w, "Evidence   %s files, %s", num(info.Evidence.Files), bytesHuman(info.Evidence.Bytes))
	if info.Evidence.Referenced > 0 {
		fmt.Fprintf(w, " (%s referenced in place)", num(info.Evidence.Referenced))
	}
	fmt.Fprintln(w)
	if len(contents) > 0 {
		fmt.Fprintf(w, "           %s\n", strings.Join(contents, ", "))
	}
	for _, p := range info.Evidence.Problems {
		fmt.Fprintf(w, "  WARNING  %s\n", safe(p))
	}
	fmt.Fprintf(w, "Ingested   %s loads: %s records read = %s stored + %s duplicates + %s rejected",
		num(s.Loads), num(s.RecordsRead), num(s.Stored), num(s.Duplicates), num(s.Rejected))
	if s.FilesFailed > 0 {
		fmt.Fprintf(w, "; %s file failures (over all loads)", num(s.FilesFailed))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Events     %s", num(s.Events))
	if s.First != nil {
		fmt.Fprintf(w, " from %s to %s (%s)", timeText(*s.First), timeText(*s.Last), span(s.Last.Sub(*s.First)))
	}
	if s.EventsNoTime > 0 {
		fmt.Fprintf(w, "; %s without a time", num(s.EventsNoTime))
	}
	fmt.Fprintln(w)
	if len(s.ByAccount) > 0 {
		fmt.Fprintln(w, "\nBy account")
		t := newTable(w, "  ACCOUNT", "EVENTS", "FIRST", "LAST")
		for _, c := range s.ByAccount {
			t.row("  "+c.Account, num(c.Events), ptrTime(c.First), ptrTime(c.Last))
		}
		t.flush()
		fmt.Fprintln(w, "\nBy region")
		t = newTable(w, "  REGION", "EVENTS", "FIRST", "LAST")
		for _, c := range s.ByRegion {
			t.row("  "+c.Region, num(c.Events), ptrTime(c.First), ptrTime(c.Last))
		}
		t.flush()
		fmt.Fprintln(w, "\nBy day (UTC)")
		var peak int64
		for _, c := range s.ByDay {
			peak = max(peak, c.Events)
		}
		t = newTable(w, "  DAY", "EVENTS", "")
		for _, c := range s.ByDay {
			t.row("  "+c.Day, num(c.Events), strings.Repeat("#", int(1+c.Events*39/max(peak, 1))))
		}
		t.flush()
	}
	if detail && len(s.ByAccountRegionDay) > 0 {
		fmt.Fprintln(w, "\nBy account, region and day")
		t := newTable(w, "  ACCOUNT", "REGION", "DAY", "EVENTS")
		for _, c := range s.ByAccountRegionDay {
			t.row("  "+c.Account, c.Region, c.Day, num(c.Events))
		}
		t.flush()
	}
	return nil
}

// span formats a duration in days and hours.
func span(d time.Duration) string {
	days := int(d.Hours()) / 24
	hours := int(d.Hours()) % 24
	if days > 0 {
		return fmt.Sprintf("%dd %dh", days, hours)
	}
	return fmt.Sprintf("%dh %dm", hours, int(d.Minutes())%60)
}

func ptrTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeText(*t)
}
