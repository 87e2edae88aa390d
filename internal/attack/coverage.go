package attack

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Item is a detection rule as the coverage matrix sees it.
type Item struct {
	ID         string   // the rule's id, as reported in Coverage
	Title      string   // the rule's title, to name it in errors
	Techniques []string // technique ids, as ParseTags returns them
	Tactics    []string // tactic short names, as ParseTags returns them
}

// Coverage is the tactic-by-technique matrix of a set of rules: for each
// tactic, the techniques rules cover there and the cloud techniques none
// does. Its JSON form is `--format json`'s; keep the keys stable.
type Coverage struct {
	Tactics []TacticCoverage `json:"tactics"` // every tactic, matrix order
	// Covered counts the cloud techniques at least one rule covers, under
	// any tactic; Total counts the catalogue's cloud techniques.
	Covered int `json:"covered"`
	Total   int `json:"total"`
}

// TacticCoverage is one column of the matrix.
type TacticCoverage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ShortName string `json:"short_name"`
	// Techniques are those rules cover under this tactic, cloud or not, in
	// id order.
	Techniques []TechniqueCoverage `json:"techniques"`
	// Uncovered are the cloud techniques of this tactic that no rule covers
	// under it, in id order: the gaps.
	Uncovered []TechniqueRef `json:"uncovered"`
}

// TechniqueCoverage is a covered cell of the matrix.
type TechniqueCoverage struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Rules []string `json:"rules"` // ids of the rules covering it, sorted
	Count int      `json:"count"` // len(Rules)
}

// TechniqueRef names a technique.
type TechniqueRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Coverage places each rule's techniques in the matrix. A technique goes
// under each of its tactics the rule is also tagged with: a rule tagged
// attack.persistence and attack.t1078.004 covers Valid Accounts: Cloud
// Accounts as persistence, not as initial access. When the rule is tagged
// with none of the technique's tactics, the technique goes under all of them.
// A parent and its sub-techniques are separate cells: covering T1098.001
// does not cover T1098. Rules with tactics but no technique cover no cell. A
// technique or tactic the catalogue does not know is an error naming the
// rule, as is a rule without an id.
func (c *Catalog) Coverage(items []Item) (*Coverage, error) {
	// cells[tactic index][technique index] = rule ids
	cells := make([]map[int][]string, len(c.tactics))
	for i := range cells {
		cells[i] = make(map[int][]string)
	}
	covered := make(map[int]bool)
	for n, it := range items {
		if it.ID == "" {
			return nil, fmt.Errorf("rule %d (%q): no id", n+1, it.Title)
		}
		tagged := make([]bool, len(c.tactics))
		for _, short := range it.Tactics {
			t, ok := c.Tactic(short)
			if !ok {
				return nil, fmt.Errorf("rule %s (%q): %w %q", it.ID, it.Title, ErrUnknownTactic, short)
			}
			tagged[c.tacticAt[t.ShortName]] = true
		}
		for _, id := range it.Techniques {
			ti, ok := c.techAt[strings.ToUpper(id)]
			if !ok {
				return nil, fmt.Errorf("rule %s (%q): %w %q", it.ID, it.Title, ErrUnknownTechnique, id)
			}
			tech := c.techniques[ti]
			var under []int
			for _, short := range tech.Tactics {
				if at := c.tacticAt[short]; tagged[at] {
					under = append(under, at)
				}
			}
			if len(under) == 0 {
				for _, short := range tech.Tactics {
					under = append(under, c.tacticAt[short])
				}
			}
			for _, at := range under {
				if !slices.Contains(cells[at][ti], it.ID) {
					cells[at][ti] = append(cells[at][ti], it.ID)
				}
			}
			if tech.Cloud {
				covered[ti] = true
			}
		}
	}

	cov := &Coverage{Tactics: make([]TacticCoverage, len(c.tactics)), Covered: len(covered)}
	for at, tactic := range c.tactics {
		col := TacticCoverage{
			ID: tactic.ID, Name: tactic.Name, ShortName: tactic.ShortName,
			Techniques: []TechniqueCoverage{}, Uncovered: []TechniqueRef{},
		}
		// Walking the techniques in id order keeps both lists sorted.
		for ti, tech := range c.techniques {
			if rules, ok := cells[at][ti]; ok {
				rules = slices.Clone(rules)
				slices.Sort(rules)
				col.Techniques = append(col.Techniques, TechniqueCoverage{ID: tech.ID, Name: tech.Name, Rules: rules, Count: len(rules)})
			} else if tech.Cloud && slices.Contains(tech.Tactics, tactic.ShortName) {
				col.Uncovered = append(col.Uncovered, TechniqueRef{ID: tech.ID, Name: tech.Name})
			}
		}
		cov.Tactics[at] = col
	}
	for _, tech := range c.techniques {
		if tech.Cloud {
			cov.Total++
		}
	}
	return cov, nil
}

// WriteText renders the matrix for a terminal: a block per tactic that has
// anything to show, its covered techniques with their rule counts and then
// its gaps, and a closing line with the totals.
func (cov *Coverage) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	tacticsCovered := 0
	first := true
	for _, col := range cov.Tactics {
		if len(col.Techniques) > 0 {
			tacticsCovered++
		}
		if len(col.Techniques) == 0 && len(col.Uncovered) == 0 {
			continue
		}
		if !first {
			ew.printf("\n")
		}
		first = false
		ew.printf("%s (%s)\n", col.Name, col.ID)
		for _, t := range col.Techniques {
			ew.printf("  %-9s  %s  (%s)\n", t.ID, t.Name, plural(t.Count, "rule"))
		}
		for _, t := range col.Uncovered {
			ew.printf("  %-9s  %s  (no rules)\n", t.ID, t.Name)
		}
	}
	if !first {
		ew.printf("\n")
	}
	ew.printf("covered %d of %d cloud techniques across %s\n", cov.Covered, cov.Total, plural(tacticsCovered, "tactic"))
	return ew.err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// errWriter keeps the first write error so that rendering code need not
// check every line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
