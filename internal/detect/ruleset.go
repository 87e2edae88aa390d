package detect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// Rule is one loaded rule, ready to run: a detection rule (with the filters
// that apply to it folded into its condition) or a correlation rule.
type Rule struct {
	ID          string
	Name        string
	Title       string
	Description string
	Severity    Severity
	Techniques  []string
	Tactics     []string
	Source      string // "builtin" or the rule file's path
	File        string
	Line        int

	Detection   *sigma.Rule        // nil for a correlation
	Correlation *sigma.Correlation // nil for a detection
	Expr        sigma.Expr         // the condition with filters applied
	Filters     []string           // the filters applied, by title
	Refs        []int              // a correlation's rules, as indexes into RuleSet.Rules
	Generate    bool               // its matches are findings
}

// IsCorrelation says whether the rule correlates other rules' matches.
func (r *Rule) IsCorrelation() bool { return r.Correlation != nil }

// RuleSet is a set of rules resolved against each other: every correlation's
// references found, filters applied, ids unique.
type RuleSet struct {
	Rules []*Rule
}

// LoadDir parses every .yml/.yaml file under dir.
func LoadDir(dir string, opts sigma.Options) (*sigma.Collection, error) {
	out := &sigma.Collection{}
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c, err := sigma.Parse(p, data, opts)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		out.Add(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

var (
	techniqueTag = regexp.MustCompile(`(?i)^attack\.(t\d{4}(\.\d{3})?)$`)
	tacticNames  = []string{"reconnaissance", "resource-development", "initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement", "collection", "command-and-control", "exfiltration", "impact"}
)

// attackTags reads ATT&CK techniques and tactics from Sigma tags.
func attackTags(tags []string) (techniques, tactics []string) {
	seenT := map[string]bool{}
	has := map[string]bool{}
	for _, t := range tags {
		if m := techniqueTag.FindStringSubmatch(t); m != nil {
			id := strings.ToUpper(m[1])
			if !seenT[id] {
				seenT[id] = true
				techniques = append(techniques, id)
			}
			continue
		}
		l := strings.ToLower(t)
		if strings.HasPrefix(l, "attack.") {
			has[strings.ReplaceAll(strings.TrimPrefix(l, "attack."), "_", "-")] = true
		}
	}
	sort.Strings(techniques)
	for _, n := range tacticNames {
		if has[n] {
			tactics = append(tactics, n)
		}
	}
	return techniques, tactics
}

// Build resolves a collection into a rule set. source labels where the rules
// came from ("builtin" or a folder). Any problem (a duplicate id, a
// correlation naming a rule that is not loaded, a filter that applies to
// nothing, a cycle) is an error: the built-in pack must be whole.
func Build(c *sigma.Collection, source func(file string) string) (*RuleSet, error) {
	rs, problems := BuildLenient(c, source)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return rs, nil
}

// BuildLenient is Build for rules a responder brings: a rule with a problem
// is left out and the problem returned, and the others run.
func BuildLenient(c *sigma.Collection, source func(file string) string) (*RuleSet, []error) {
	var problems []error
	type doc struct {
		meta sigma.Meta
		rule *Rule
		refs []string
		ok   bool
	}
	var docs []*doc
	for _, d := range c.Rules {
		if !forCloudTrail(d.Logsource) {
			continue // a rule for another log source does not apply to CloudTrail
		}
		docs = append(docs, &doc{meta: d.Meta, rule: &Rule{Detection: d, Expr: d.Detection.Condition, Generate: true}, ok: true})
	}
	for _, k := range c.Correlations {
		docs = append(docs, &doc{meta: k.Meta, rule: &Rule{Correlation: k, Generate: true}, refs: k.Rules, ok: true})
	}
	// ids and names must be unique; the first keeps them
	byKey := map[string]*doc{}
	for _, d := range docs {
		m := d.meta
		if m.ID == "" {
			problems = append(problems, fmt.Errorf("%s:%d: rule %q has no id", m.File, m.Line, m.Title))
			d.ok = false
			continue
		}
		if prev, ok := byKey[m.ID]; ok {
			problems = append(problems, fmt.Errorf("%s:%d: rule id %s is also used by %s:%d; this one is left out", m.File, m.Line, m.ID, prev.meta.File, prev.meta.Line))
			d.ok = false
			continue
		}
		if m.Name != "" {
			if prev, ok := byKey["name:"+m.Name]; ok {
				problems = append(problems, fmt.Errorf("%s:%d: rule name %q is also used by %s:%d; this one is left out", m.File, m.Line, m.Name, prev.meta.File, prev.meta.Line))
				d.ok = false
				continue
			}
			byKey["name:"+m.Name] = d
		}
		byKey[m.ID] = d
	}
	lookup := func(ref string) *doc {
		if d, ok := byKey[ref]; ok && d.ok {
			return d
		}
		if d, ok := byKey["name:"+ref]; ok && d.ok {
			return d
		}
		return nil
	}
	// a correlation whose rules are not all there is left out, and so on
	// up the chain
	for changed := true; changed; {
		changed = false
		for _, d := range docs {
			if !d.ok || d.refs == nil {
				continue
			}
			for _, ref := range d.refs {
				if lookup(ref) == nil {
					problems = append(problems, fmt.Errorf("%s:%d: correlation %q refers to rule %q, which is not loaded; it is left out", d.meta.File, d.meta.Line, d.meta.Title, ref))
					d.ok, changed = false, true
					break
				}
			}
		}
	}
	rs := &RuleSet{}
	index := map[*doc]int{}
	for _, d := range docs {
		if !d.ok {
			continue
		}
		r, m := d.rule, d.meta
		r.ID, r.Name, r.Title, r.Description = m.ID, m.Name, m.Title, m.Description
		r.Severity = Severity(m.Level)
		if r.Severity == "" {
			r.Severity = Medium
		}
		r.Techniques, r.Tactics = attackTags(m.Tags)
		r.File, r.Line, r.Source = m.File, m.Line, source(m.File)
		index[d] = len(rs.Rules)
		rs.Rules = append(rs.Rules, r)
	}
	for _, d := range docs {
		if !d.ok || d.refs == nil {
			continue
		}
		r := d.rule
		for _, ref := range d.refs {
			r.Refs = append(r.Refs, index[lookup(ref)])
		}
		for alias, m := range r.Correlation.Aliases {
			for name := range m {
				if lookup(name) == nil {
					problems = append(problems, fmt.Errorf("%s:%d: alias %q names rule %q, which is not loaded", r.File, r.Line, alias, name))
				}
			}
		}
	}
	if err := rs.checkCycles(); err != nil {
		// rare enough to refuse the correlations outright
		problems = append(problems, err)
		var kept []*Rule
		for _, r := range rs.Rules {
			if r.Correlation == nil {
				kept = append(kept, r)
			}
		}
		rs.Rules = kept
	}
	// Referenced rules are not findings of their own unless a correlation
	// referring to them says generate.
	for _, r := range rs.Rules {
		if r.Correlation != nil && !r.Correlation.Generate {
			for _, i := range r.Refs {
				rs.Rules[i].Generate = false
			}
		}
	}
	for _, r := range rs.Rules {
		if r.Correlation != nil && r.Correlation.Generate {
			for _, i := range r.Refs {
				rs.Rules[i].Generate = true
			}
		}
	}
	// Filters.
	for _, f := range c.Filters {
		matched := false
		for _, r := range rs.Rules {
			if r.Detection == nil {
				continue
			}
			applies := f.AnyRule
			for _, ref := range f.Rules {
				if ref == r.ID || (r.Name != "" && ref == r.Name) || ref == r.Title {
					applies = true
				}
			}
			if !applies || !logsourceCovers(f.Logsource, r.Detection.Logsource) {
				continue
			}
			matched = true
			r.Expr = sigma.And{Xs: []sigma.Expr{r.Expr, f.Detection.Condition}}
			r.Filters = append(r.Filters, f.Title)
		}
		if !matched && !f.AnyRule {
			problems = append(problems, fmt.Errorf("%s:%d: filter %q applies to no loaded rule (%s)", f.File, f.Line, f.Title, strings.Join(f.Rules, ", ")))
		}
	}
	return rs, problems
}

// forCloudTrail reports whether a rule's log source is AWS CloudTrail (or
// says nothing narrower that excludes it).
func forCloudTrail(ls sigma.Logsource) bool {
	if ls.Product != "" && !strings.EqualFold(ls.Product, "aws") {
		return false
	}
	if ls.Service != "" && !strings.EqualFold(ls.Service, "cloudtrail") {
		return false
	}
	return ls.Product != "" || ls.Service != ""
}

// logsourceCovers reports whether a filter's log source includes a rule's:
// every attribute the filter sets, the rule has the same.
func logsourceCovers(f, r sigma.Logsource) bool {
	eq := func(a, b string) bool { return a == "" || strings.EqualFold(a, b) }
	return eq(f.Product, r.Product) && eq(f.Service, r.Service) && eq(f.Category, r.Category)
}

func (rs *RuleSet) checkCycles() error {
	state := make([]int, len(rs.Rules)) // 0 new, 1 visiting, 2 done
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("%s:%d: correlation %q refers to itself through other correlations", rs.Rules[i].File, rs.Rules[i].Line, rs.Rules[i].Title)
		case 2:
			return nil
		}
		state[i] = 1
		for _, j := range rs.Rules[i].Refs {
			if err := visit(j); err != nil {
				return err
			}
		}
		state[i] = 2
		return nil
	}
	for i := range rs.Rules {
		if err := visit(i); err != nil {
			return err
		}
	}
	return nil
}

// Find returns the rule with the given id (or name).
func (rs *RuleSet) Find(key string) *Rule {
	for _, r := range rs.Rules {
		if r.ID == key || (r.Name != "" && r.Name == key) {
			return r
		}
	}
	return nil
}

// order lists rule indexes so that every correlation comes after the rules
// it refers to.
func (rs *RuleSet) order() []int {
	done := make([]bool, len(rs.Rules))
	var out []int
	var visit func(i int)
	visit = func(i int) {
		if done[i] {
			return
		}
		done[i] = true
		for _, j := range rs.Rules[i].Refs {
			visit(j)
		}
		out = append(out, i)
	}
	for i := range rs.Rules {
		visit(i)
	}
	return out
}
