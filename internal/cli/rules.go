package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/harrier-ir/harrier/internal/attack"
	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/rules"
	"github.com/harrier-ir/harrier/internal/sigma"
)

func runRules(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("harrier rules list | show RULE_ID | test DIR | coverage")
	}
	sub, args := args[0], args[1:]
	fs := flagSet(e, "rules "+sub, "[--rules DIR]... [--format table|json]")
	var o ruleOptions
	o.register(fs)
	format := fs.String("format", "table", "output: table or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	switch sub {
	case "list":
		return rulesList(e, &o, *format)
	case "show":
		if len(pos) != 1 {
			return usageErr("harrier rules show RULE_ID")
		}
		return rulesShow(e, &o, pos[0])
	case "test":
		if len(pos) != 1 {
			return usageErr("harrier rules test DIR (rules, with testdata/<rule file name>/tp_N.jsonl and tn_N.jsonl)")
		}
		return rulesTest(e, pos[0], o.placeholders, *format)
	case "coverage":
		return rulesCoverage(e, &o, *format)
	}
	return usageErr("unknown rules command %q: list, show, test or coverage", sub)
}

type ruleJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Techniques  []string `json:"techniques"`
	Tactics     []string `json:"tactics"`
	Type        string   `json:"type"` // detection or the correlation type
	Generate    bool     `json:"generates_findings"`
	Source      string   `json:"source"`
	File        string   `json:"file"`
	Description string   `json:"description"`
}

func describeRule(r *detect.Rule) ruleJSON {
	t := "detection"
	if r.Correlation != nil {
		t = string(r.Correlation.Type)
	}
	return ruleJSON{ID: r.ID, Title: r.Title, Severity: string(r.Severity), Techniques: nonNilList(r.Techniques), Tactics: nonNilList(r.Tactics),
		Type: t, Generate: r.Generate, Source: r.Source, File: r.File, Description: strings.TrimSpace(r.Description)}
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func rulesList(e *env, o *ruleOptions, format string) error {
	rs, _, problems, err := o.loadRules()
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "harrier: rule not loaded: %s\n", safe(p.Error()))
	}
	list := append([]*detect.Rule(nil), rs.Rules...)
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Severity.Rank() != list[j].Severity.Rank() {
			return list[i].Severity.Rank() > list[j].Severity.Rank()
		}
		return list[i].Title < list[j].Title
	})
	if format == "json" {
		out := []ruleJSON{}
		for _, r := range list {
			out = append(out, describeRule(r))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tTYPE\tTECHNIQUES\tTITLE")
		for _, r := range list {
			d := describeRule(r)
			t := d.Type
			if !r.Generate {
				t += " (used by a correlation)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safe(r.ID), r.Severity, t, strings.Join(r.Techniques, " "), safe(r.Title))
		}
		tw.Flush()
		fmt.Fprintf(e.stderr, "(%d rules)\n", len(list))
	}
	if len(problems) > 0 {
		return errPartial
	}
	return nil
}

func rulesShow(e *env, o *ruleOptions, key string) error {
	rs, _, _, err := o.loadRules()
	if err != nil {
		return err
	}
	r := rs.Find(key)
	if r == nil {
		return usageErr("no rule with id or name %q (harrier rules list)", key)
	}
	var text []byte
	if strings.HasPrefix(r.File, "builtin/") {
		text, err = rules.Read(strings.TrimPrefix(r.File, "builtin/"))
	} else {
		text, err = os.ReadFile(r.File)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "# %s (%s)\n%s\n", safe(r.File), safe(r.Source), safeLines(strings.TrimRight(string(text), "\n")))
	if r.Detection != nil {
		fmt.Fprintf(e.stdout, "\n# condition, as evaluated\n%s\n", safe(sigma.String(r.Expr)))
		q, err := detect.DetectionSQL(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\n# compiled to DuckDB SQL\nSELECT * FROM events WHERE %s\n", q)
	} else {
		var refs []string
		for _, i := range r.Refs {
			refs = append(refs, rs.Rules[i].ID+" ("+rs.Rules[i].Title+")")
		}
		fmt.Fprintf(e.stdout, "\n# correlates\n%s\n", safe(strings.Join(refs, "\n")))
	}
	return nil
}

// rulesTest checks a folder of rules against their test events, the way the
// built-in pack is tested: every tp_N.jsonl under testdata/<rule file>/
// must fire the file's rule (its last document), no tn_N.jsonl may.
func rulesTest(e *env, dir, placeholders, format string) error {
	o := ruleOptions{dirs: listFlag{dir}, noBuiltin: true, placeholders: placeholders}
	rs, _, problems, err := o.loadRules()
	if err != nil {
		return err
	}
	type result struct {
		File     string   `json:"file"`
		Rule     string   `json:"rule_id"`
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}
	var results []result
	for _, p := range problems {
		results = append(results, result{File: "", OK: false, Problems: []string{p.Error()}})
	}
	primary := map[string]*detect.Rule{}
	var files []string
	for _, r := range rs.Rules {
		if _, ok := primary[r.File]; !ok {
			files = append(files, r.File)
		}
		primary[r.File] = r
	}
	sort.Strings(files)
	failed := len(problems)
	for _, f := range files {
		r := primary[f]
		res := result{File: f, Rule: r.ID, OK: true, Problems: []string{}}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".yml"), ".yaml")
		tdir := filepath.Join(dir, "testdata", name)
		tps, _ := filepath.Glob(filepath.Join(tdir, "tp_*.jsonl"))
		tns, _ := filepath.Glob(filepath.Join(tdir, "tn_*.jsonl"))
		if len(tps) == 0 || len(tns) == 0 {
			res.Problems = append(res.Problems, fmt.Sprintf("%s needs tp_N.jsonl and tn_N.jsonl", tdir))
		}
		for _, kind := range [][]string{tps, tns} {
			for _, tf := range kind {
				evs, err := readEvents(tf)
				if err != nil {
					res.Problems = append(res.Problems, err.Error())
					continue
				}
				n := firedOn(rs, r, evs)
				isTP := strings.HasPrefix(filepath.Base(tf), "tp_")
				if isTP && n == 0 {
					res.Problems = append(res.Problems, filepath.Base(tf)+": does not fire")
				}
				if !isTP && n > 0 {
					res.Problems = append(res.Problems, fmt.Sprintf("%s: fires on %d events", filepath.Base(tf), n))
				}
			}
		}
		if len(res.Problems) > 0 {
			res.OK = false
			failed++
		}
		results = append(results, res)
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			status := "ok  "
			if !r.OK {
				status = "FAIL"
			}
			fmt.Fprintf(e.stdout, "%s %s\n", status, safe(r.File))
			for _, p := range r.Problems {
				fmt.Fprintf(e.stdout, "     %s\n", safe(p))
			}
		}
		fmt.Fprintf(e.stdout, "%d rule files, %d failed\n", len(files), failed)
	}
	if failed > 0 {
		return fmt.Errorf("%d rule files failed their tests", failed)
	}
	return nil
}

func readEvents(path string) ([]*detect.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*detect.Event
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		ev, err := detect.NewEvent([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func firedOn(rs *detect.RuleSet, r *detect.Rule, evs []*detect.Event) int {
	ref := detect.RefHunt(rs, evs)
	for i, x := range rs.Rules {
		if x == r {
			return len(ref[i])
		}
	}
	return 0
}

func rulesCoverage(e *env, o *ruleOptions, format string) error {
	rs, _, problems, err := o.loadRules()
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "harrier: rule not loaded: %s\n", safe(p.Error()))
	}
	var items []attack.Item
	for _, r := range rs.Rules {
		if !r.Generate {
			continue // a correlation's building block is counted through the correlation
		}
		items = append(items, attack.Item{ID: r.ID, Title: r.Title, Techniques: r.Techniques, Tactics: r.Tactics})
	}
	cov, err := attack.Enterprise().Coverage(items)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cov)
	}
	return cov.WriteText(e.stdout)
}

// safeLines escapes each line of a text for the terminal, keeping the line
// breaks.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe(strings.TrimSuffix(l, "\r"))
	}
	return strings.Join(lines, "\n")
}
