package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/analytics"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/rules"
	"github.com/harrier-ir/harrier/internal/sigma"
	"github.com/harrier-ir/harrier/internal/store"
)

// ruleOptions are the flags that choose rules, shared by hunt and rules.
type ruleOptions struct {
	dirs         listFlag
	noBuiltin    bool
	placeholders string
}

func (o *ruleOptions) register(fs *flag.FlagSet) {
	fs.Var(&o.dirs, "rules", "a folder of Sigma rules to run as well (repeatable)")
	fs.BoolVar(&o.noBuiltin, "no-builtin", false, "leave out the built-in rule pack")
	fs.StringVar(&o.placeholders, "placeholders", "", "a YAML file of values for |expand placeholders")
}

// loadRules loads the chosen rules. Files that fail to load are reported in
// problems (file, line, what is wrong) and left out; the rest run.
func (o *ruleOptions) loadRules() (rs *detect.RuleSet, sources []string, problems []error, err error) {
	opts := sigma.Options{}
	if o.placeholders != "" {
		data, err := os.ReadFile(o.placeholders)
		if err != nil {
			return nil, nil, nil, usageErr("--placeholders: %v", err)
		}
		if opts.Placeholders, err = sigma.ParsePlaceholders(o.placeholders, data); err != nil {
			return nil, nil, nil, usageErr("--placeholders: %v", err)
		}
	}
	all := &sigma.Collection{}
	if !o.noBuiltin {
		c, err := rules.Load()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("the built-in rule pack does not load: %w", err)
		}
		all.Add(c)
		sources = append(sources, rules.Source)
	}
	for _, d := range o.dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, nil, nil, usageErr("--rules %s: not a folder", d)
		}
		c, err := detect.LoadDir(d, opts)
		if err != nil {
			problems = append(problems, splitJoined(err)...)
		}
		if c != nil {
			all.Add(c)
		}
		abs, _ := filepath.Abs(d)
		sources = append(sources, abs)
	}
	if len(sources) == 0 {
		return nil, nil, nil, usageErr("no rules: --no-builtin needs --rules DIR")
	}
	rs, more := detect.BuildLenient(all, func(file string) string {
		if strings.HasPrefix(file, "builtin/") {
			return rules.Source
		}
		return file
	})
	return rs, sources, append(problems, more...), nil
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// huntMemory is DuckDB's memory limit while hunting.
const huntMemory = "512MB"

type huntOptions struct {
	rules         ruleOptions
	noAnalytics   bool
	baselineStart time.Time
	baselineEnd   time.Time
	detectStart   time.Time
	format        string
	minSeverity   detect.Severity
}

func runHunt(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "hunt", "--case DIR [--rules DIR]... [--format table|json|jsonl]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var o huntOptions
	o.rules.register(fs)
	fs.BoolVar(&o.noAnalytics, "no-analytics", false, "run the rules only, not the behavioural analytics")
	bStart := fs.String("baseline-since", "", "analytics: the baseline starts here (default: the case's first event)")
	bEnd := fs.String("baseline-until", "", "analytics: the baseline ends here (default: where the detection window starts)")
	dStart := fs.String("detect-since", "", "analytics: judge activity from here on (default: the case's last 24 hours)")
	minSev := fs.String("min-severity", "informational", "show findings at least this severe")
	fs.StringVar(&o.format, "format", "table", "output: table, json or jsonl")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(o.format, "table", "json", "jsonl"); err != nil {
		return err
	}
	o.minSeverity = detect.Severity(*minSev)
	if o.minSeverity.Rank() < 0 {
		return usageErr("--min-severity %q: informational, low, medium, high or critical", *minSev)
	}
	var err error
	if o.baselineStart, err = parseTimeFlag("baseline-since", *bStart, false); err != nil {
		return err
	}
	if o.baselineEnd, err = parseTimeFlag("baseline-until", *bEnd, true); err != nil {
		return err
	}
	if o.detectStart, err = parseTimeFlag("detect-since", *dStart, false); err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "case.json")); err != nil {
		return fmt.Errorf("%s is not a case: ingest evidence into it first", dir)
	}
	c, st, err := openForWrite(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	res, err := hunt(ctx, e, c, st, o)
	if err != nil {
		return err
	}
	if err := printHunt(e, res, o); err != nil {
		return err
	}
	if len(res.problems) > 0 {
		return errPartial
	}
	return nil
}

type huntResult struct {
	hits     []detect.Hit
	stats    detect.Stats
	problems []error
	sources  []string
	baseline *analytics.Result
	took     time.Duration
}

// hunt runs the rules and analytics over a case and saves the findings.
func hunt(ctx context.Context, e *env, c *casefile.Case, st *store.Store, o huntOptions) (huntResult, error) {
	var res huntResult
	start := time.Now()
	rs, sources, problems, err := o.rules.loadRules()
	if err != nil {
		return res, err
	}
	res.problems, res.sources = problems, sources
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "harrier: rule not loaded: %s\n", safe(p.Error()))
	}
	// aggregating the matches of a rule that fires on millions of events
	// (SigmaHQ's AssumeRole rule fires on every role session) needs more
	// than ingest's budget; DuckDB spills beyond this to the case's tmp
	if _, err := st.DB().ExecContext(ctx, "SET memory_limit = '"+huntMemory+"'"); err != nil {
		return res, err
	}
	defer st.DB().ExecContext(context.WithoutCancel(ctx), "SET memory_limit = '"+storeMemory+"'")
	run, err := detect.Hunt(ctx, st, rs)
	if err != nil {
		return res, err
	}
	defer run.Close()
	hits, stats := run.Hits, run.Stats
	res.stats = stats
	for _, p := range run.Problems {
		fmt.Fprintf(e.stderr, "harrier: %s\n", safe(p.Error()))
	}
	res.problems = append(res.problems, run.Problems...)
	if !o.noAnalytics {
		ar, err := analytics.Run(ctx, st.DB(), analytics.Options{BaselineStart: o.baselineStart, BaselineEnd: o.baselineEnd, DetectStart: o.detectStart})
		if errors.Is(err, analytics.ErrInvalidOptions) {
			return res, usageErr("%v", err)
		}
		if err != nil {
			return res, fmt.Errorf("analytics: %w", err)
		}
		for i, f := range ar.Findings {
			h := detect.FromFinding(f)
			if i < len(ar.AllEventIDs) && len(ar.AllEventIDs[i]) > 0 {
				h.AllIDs = ar.AllEventIDs[i]
			}
			hits = append(hits, h)
		}
		res.baseline = &ar
	}
	detect.SortHits(hits)
	res.hits = hits
	op := c.Op
	info := detect.HuntInfo{Started: start.UTC(), Finished: time.Now().UTC(), HarrierVersion: version(), Operator: op.User, Host: op.Host,
		Sources: sources, Rules: stats.Rules, Analytics: !o.noAnalytics}
	if res.baseline != nil {
		info.Baseline = map[string]any{"baseline": res.baseline.Baseline, "detect": res.baseline.Detect, "notes": res.baseline.Notes}
	}
	if _, err := run.Save(ctx, info, hits); err != nil {
		return res, err
	}
	res.took = time.Since(start)
	return res, nil
}

// findingJSON is one line of `hunt --format jsonl`; its keys are the public
// interface the issue fixes (docs/CLI.md): detect.Finding's.
type huntJSON struct {
	Findings []detect.Finding `json:"findings"`
	Summary  huntSummary      `json:"summary"`
}

type huntSummary struct {
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	Rules      int            `json:"rules"`
	Passes     int            `json:"passes"`        // scans of the events table the detection rules took
	Skipped    int            `json:"skipped_rules"` // detection rules whose event names never occur in the case
	Events     int64          `json:"events"`
	Sources    []string       `json:"rule_sources"`
	Problems   []string       `json:"rule_problems"`
	Baseline   *huntBaseline  `json:"baseline"`
}

type huntBaseline struct {
	Baseline analytics.Window `json:"baseline"`
	Detect   analytics.Window `json:"detect"`
	Notes    []string         `json:"notes"`
}

func printHunt(e *env, res huntResult, o huntOptions) error {
	var shown []detect.Hit
	for _, h := range res.hits {
		if h.Severity.Rank() >= o.minSeverity.Rank() {
			shown = append(shown, h)
		}
	}
	switch o.format {
	case "jsonl":
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, h := range shown {
			if err := enc.Encode(cleanFinding(h.Finding)); err != nil {
				return err
			}
		}
		return nil
	case "json":
		out := huntJSON{Findings: []detect.Finding{}, Summary: summarize(res, shown)}
		for _, h := range shown {
			out.Findings = append(out.Findings, cleanFinding(h.Finding))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	writeFindings(e, shown)
	s := summarize(res, shown)
	fmt.Fprintf(e.stdout, "\n%d findings", s.Findings)
	if len(shown) > 0 {
		var parts []string
		for _, sev := range []string{"critical", "high", "medium", "low", "informational"} {
			if n := s.BySeverity[sev]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, sev))
			}
		}
		fmt.Fprintf(e.stdout, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(e.stdout, " from %d rules over %s events in %s", res.stats.Rules, num(int(res.stats.Events)), res.took.Round(time.Millisecond))
	if res.baseline != nil {
		b := res.baseline
		fmt.Fprintf(e.stdout, "\nanalytics baseline %s → %s (%s events), judged %s → %s",
			timeText(b.Baseline.Start), timeText(b.Baseline.End), num(int(b.Baseline.Events)), timeText(b.Detect.Start), timeText(b.Detect.End))
		for _, n := range b.Notes {
			fmt.Fprintf(e.stdout, "\n  note: %s", safe(n))
		}
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func summarize(res huntResult, shown []detect.Hit) huntSummary {
	s := huntSummary{Findings: len(shown), BySeverity: map[string]int{}, Rules: res.stats.Rules, Passes: res.stats.Passes, Skipped: res.stats.Skipped,
		Events: res.stats.Events, Sources: res.sources, Problems: []string{}}
	for _, h := range shown {
		s.BySeverity[string(h.Severity)]++
	}
	for _, p := range res.problems {
		s.Problems = append(s.Problems, p.Error())
	}
	if res.baseline != nil {
		s.Baseline = &huntBaseline{res.baseline.Baseline, res.baseline.Detect, res.baseline.Notes}
		if s.Baseline.Notes == nil {
			s.Baseline.Notes = []string{}
		}
	}
	return s
}

// cleanFinding gives every list key a list (never null) and UTC times.
func cleanFinding(f detect.Finding) detect.Finding {
	for _, l := range []*[]string{&f.Techniques, &f.Tactics, &f.AccessKeyIDs, &f.SourceIPs, &f.Accounts, &f.Regions, &f.EventIDs} {
		if *l == nil {
			*l = []string{}
		}
	}
	f.FirstSeen, f.LastSeen = f.FirstSeen.UTC(), f.LastSeen.UTC()
	return f
}

// writeFindings prints findings as blocks a responder reads top down.
func writeFindings(e *env, hits []detect.Hit) {
	w := e.stdout
	for i, h := range hits {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tags := strings.Join(append(append([]string{}, h.Techniques...), h.Tactics...), " ")
		fmt.Fprintf(w, "%-13s %s", strings.ToUpper(string(h.Severity)), safe(h.Title))
		if tags != "" {
			fmt.Fprintf(w, "  [%s]", tags)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  who:    %s", safe(h.Principal))
		if len(h.AccessKeyIDs) > 0 {
			fmt.Fprintf(w, "  keys: %s", safe(listText(h.AccessKeyIDs, 4)))
		}
		fmt.Fprintln(w)
		if len(h.SourceIPs) > 0 {
			fmt.Fprintf(w, "  from:   %s\n", safe(listText(h.SourceIPs, 6)))
		}
		where := append(append([]string{}, h.Accounts...), h.Regions...)
		if len(where) > 0 {
			fmt.Fprintf(w, "  where:  %s\n", safe(listText(where, 8)))
		}
		fmt.Fprintf(w, "  when:   %s → %s  (%s)\n", timeText(h.FirstSeen), timeText(h.LastSeen), plural(h.Count, "event"))
		ids := h.EventIDs
		more := int(h.Count) - min(len(ids), 5)
		if len(ids) > 5 {
			ids = ids[:5]
		}
		fmt.Fprintf(w, "  events: %s", safe(strings.Join(ids, " ")))
		if more > 0 {
			fmt.Fprintf(w, " (+%s more: --format jsonl, or the case's finding_events table)", num(more))
		}
		fmt.Fprintln(w)
		if h.Description != "" {
			fmt.Fprintf(w, "  why:    %s\n", safe(h.Description))
		}
		src := "analytics"
		if h.Rule != nil {
			src = h.Rule.Source
			if src != rules.Source {
				src = filepath.Base(src)
			}
		}
		fmt.Fprintf(w, "  rule:   %s (%s)\n", safe(h.RuleID), safe(src))
	}
}

func listText(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:n], ", ") + fmt.Sprintf(" (+%d more)", len(l)-n)
}

// writeFindingsCompact prints one line per finding, for the investigate
// summary, in the order they began, so the attack reads as a story;
// `harrier hunt` prints them in full, most severe first.
func writeFindingsCompact(e *env, res huntResult) {
	w := e.stdout
	fmt.Fprintf(w, "%-13s  %-20s  %7s  %-62s  %s\n", "SEVERITY", "FIRST SEEN", "EVENTS", "FINDING", "PRINCIPAL")
	hidden := 0
	byTime := append([]detect.Hit(nil), res.hits...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].FirstSeen.Before(byTime[j].FirstSeen) })
	for _, h := range byTime {
		if h.Severity.Rank() < detect.Low.Rank() {
			hidden++
			continue
		}
		fmt.Fprintf(w, "%-13s  %-20s  %7s  %-62s  %s\n", strings.ToUpper(string(h.Severity)), timeText(h.FirstSeen), num(int(h.Count)),
			clip(safe(h.Title), 62), clipMiddle(safe(h.Principal), 72))
	}
	s := summarize(res, res.hits)
	var parts []string
	for _, sev := range []string{"critical", "high", "medium", "low", "informational"} {
		if n := s.BySeverity[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	fmt.Fprintf(w, "%d findings (%s) from %d rules and the behavioural analytics, stored in the case", len(res.hits), strings.Join(parts, ", "), res.stats.Rules)
	if hidden > 0 {
		fmt.Fprintf(w, "; the %d informational ones are not listed here", hidden)
	}
	fmt.Fprintln(w)
}

// plural says "1 event", "3 events".
func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return num(int(n)) + " " + what + "s"
}
