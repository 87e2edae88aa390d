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
// came from ("builtin" or a folder).
func Build(c *sigma.Collection, source func(file string) string) (*RuleSet, error) {
	rs := &RuleSet{}
	byKey := map[string]int{}
	var errs []error
	add := func(m sigma.Meta, r *Rule) {
		if m.ID == "" {
			errs = append(errs, fmt.Errorf("%s:%d: rule %q has no id", m.File, m.Line, m.Title))
			return
		}
		if prev, ok := byKey[m.ID]; ok {
			errs = append(errs, fmt.Errorf("%s:%d: rule id %s is also used by %s:%d", m.File, m.Line, m.ID, rs.Rules[prev].File, rs.Rules[prev].Line))
			return
		}
		if m.Name != "" {
			if prev, ok := byKey["name:"+m.Name]; ok {
				errs = append(errs, fmt.Errorf("%s:%d: rule name %q is also used by %s:%d", m.File, m.Line, m.Name, rs.Rules[prev].File, rs.Rules[prev].Line))
				return
			}
			byKey["name:"+m.Name] = len(rs.Rules)
		}
		byKey[m.ID] = len(rs.Rules)
		r.ID, r.Name, r.Title, r.Description = m.ID, m.Name, m.Title, m.Description
		r.Severity = Severity(m.Level)
		if r.Severity == "" {
			r.Severity = Medium
		}
		r.Techniques, r.Tactics = attackTags(m.Tags)
		r.File, r.Line, r.Source = m.File, m.Line, source(m.File)
		rs.Rules = append(rs.Rules, r)
	}
	for _, d := range c.Rules {
		if !forCloudTrail(d.Logsource) {
			continue // a rule for another log source does not apply to CloudTrail
		}
		add(d.Meta, &Rule{Detection: d, Expr: d.Detection.Condition, Generate: true})
	}
	for _, k := range c.Correlations {
		add(k.Meta, &Rule{Correlation: k, Generate: true})
	}
	lookup := func(ref string) (int, bool) {
		if i, ok := byKey[ref]; ok {
			return i, true
		}
		i, ok := byKey["name:"+ref]
		return i, ok
	}
	// Correlations: resolve references; referenced rules are not findings of
	// their own unless a correlation says generate.
	for _, r := range rs.Rules {
		k := r.Correlation
		if k == nil {
			continue
		}
		for _, ref := range k.Rules {
			i, ok := lookup(ref)
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%d: correlation %q refers to rule %q, which is not loaded", r.File, r.Line, r.Title, ref))
				continue
			}
			r.Refs = append(r.Refs, i)
		}
		for alias, m := range k.Aliases {
			for name := range m {
				if _, ok := lookup(name); !ok {
					errs = append(errs, fmt.Errorf("%s:%d: alias %q names rule %q, which is not loaded", r.File, r.Line, alias, name))
				}
			}
		}
	}
	for _, r := range rs.Rules {
		if r.Correlation == nil {
			continue
		}
		for _, i := range r.Refs {
			if !r.Correlation.Generate {
				rs.Rules[i].Generate = false
			}
		}
	}
	// a referenced rule that another correlation generates stays a finding
	for _, r := range rs.Rules {
		if r.Correlation != nil && r.Correlation.Generate {
			for _, i := range r.Refs {
				rs.Rules[i].Generate = true
			}
		}
	}
	if err := rs.checkCycles(); err != nil {
		errs = append(errs, err)
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
			errs = append(errs, fmt.Errorf("%s:%d: filter %q applies to no loaded rule (%s)", f.File, f.Line, f.Title, strings.Join(f.Rules, ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rs, nil
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
