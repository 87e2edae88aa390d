package detect

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// RefHit is one event a rule matched in the reference evaluation, with the
// group label of a correlation.
type RefHit struct {
	EventID string
	Group   string
}

// RefHunt evaluates a whole rule set in memory, detections with Match and
// correlations straight from their definition: for every matched event, the
// window of timespan that starts at it, per group; a window whose count (or
// distinct values, or sum ...) meets the condition contributes all the
// events in it. It is the reference Hunt's SQL is tested against; it keeps
// everything in memory and is meant for tests and small rule tests.
func RefHunt(rs *RuleSet, events []*Event) map[int][]RefHit {
	out := map[int][]RefHit{}
	byRule := map[int][]*Event{}
	for _, i := range rs.order() {
		r := rs.Rules[i]
		if r.Correlation == nil {
			for _, e := range events {
				if Match(r.Expr, e) {
					byRule[i] = append(byRule[i], e)
					out[i] = append(out[i], RefHit{EventID: e.ID()})
				}
			}
			continue
		}
		hits := refCorrelate(rs, i, byRule)
		seen := map[*Event]bool{}
		for _, h := range hits {
			out[i] = append(out[i], RefHit{EventID: h.e.ID(), Group: h.group})
			if !seen[h.e] {
				seen[h.e] = true
				byRule[i] = append(byRule[i], h.e)
			}
		}
	}
	return out
}

type refRow struct {
	e     *Event
	r     int
	t     time.Time
	v     *string
	g     []*string
	label string
}

type refHitE struct {
	e     *Event
	group string
}

func (e *Event) scalar(field string) *string {
	loc := locate(field)
	if loc.getter != nil {
		if s := loc.getter(e); s != "" {
			return &s
		}
		return nil
	}
	start := e.root
	if loc.jsonCol != "raw" {
		start = e.root.member(memberName(loc.jsonCol))
	}
	if s, ok := walk(start, loc.path).text(); ok {
		return &s
	}
	return nil
}

func sameGroup(a, b []*string) bool {
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || (a[i] != nil && *a[i] != *b[i]) {
			return false
		}
	}
	return true
}

func refCorrelate(rs *RuleSet, idx int, byRule map[int][]*Event) []refHitE {
	r := rs.Rules[idx]
	k := r.Correlation
	// m: one row per (event, referenced rule)
	var m []refRow
	seenRef := map[int]bool{}
	for _, j := range r.Refs {
		if seenRef[j] {
			continue
		}
		seenRef[j] = true
		for _, e := range byRule[j] {
			if e.ev.Time.IsZero() {
				continue
			}
			row := refRow{e: e, r: j, t: e.ev.Time}
			if k.Field != "" {
				row.v = e.scalar(k.Field)
			}
			var labels []string
			for _, f := range k.GroupBy {
				field := f
				if a, ok := k.Aliases[f]; ok {
					field = ""
					for name, af := range a {
						if rs.Find(name) == rs.Rules[j] {
							field = af
						}
					}
				}
				var g *string
				if field != "" {
					g = e.scalar(field)
				}
				row.g = append(row.g, g)
				lv := "(none)"
				if g != nil {
					lv = *g
				}
				labels = append(labels, f+"="+lv)
			}
			row.label = strings.Join(labels, ", ")
			absent := false
			for _, g := range row.g {
				absent = absent || g == nil
			}
			if absent {
				continue // no group
			}
			m = append(m, row)
		}
	}
	type window struct {
		g      []*string
		ws, we time.Time
	}
	var sat []window
	span := k.Timespan
	if k.Type == sigma.TemporalOrdered {
		type step struct {
			g     []*string
			t, st time.Time
		}
		var prev []step
		for _, row := range m {
			if row.r == r.Refs[0] {
				prev = append(prev, step{row.g, row.t, row.t})
			}
		}
		for i := 1; i < len(r.Refs); i++ {
			var next []step
			for _, row := range m {
				if row.r != r.Refs[i] {
					continue
				}
				var best *time.Time
				for _, p := range prev {
					if sameGroup(p.g, row.g) && !p.t.After(row.t) && (best == nil || p.st.After(*best)) {
						st := p.st
						best = &st
					}
				}
				if best != nil {
					next = append(next, step{row.g, row.t, *best})
				}
			}
			prev = next
		}
		for _, p := range prev {
			if !p.t.After(p.st.Add(span)) {
				sat = append(sat, window{p.g, p.st, p.t})
			}
		}
	} else {
		src := m
		if k.Type != sigma.Temporal { // an event counts once
			src = nil
			seen := map[*Event]bool{}
			for _, row := range m {
				if !seen[row.e] {
					seen[row.e] = true
					src = append(src, row)
				}
			}
		}
		for _, s := range src {
			end := s.t.Add(span)
			var in []refRow
			for _, o := range src {
				if sameGroup(o.g, s.g) && !o.t.Before(s.t) && !o.t.After(end) {
					in = append(in, o)
				}
			}
			n, ok := refAggregate(k.Type, in)
			if ok && sigma.Holds(k.Condition, n) {
				sat = append(sat, window{s.g, s.t, end})
			}
		}
	}
	var out []refHitE
	seen := map[string]bool{}
	for _, w := range sat {
		for _, row := range m {
			if sameGroup(row.g, w.g) && !row.t.Before(w.ws) && !row.t.After(w.we) {
				key := row.e.ID() + "\x00" + row.label
				if !seen[key] {
					seen[key] = true
					out = append(out, refHitE{row.e, row.label})
				}
			}
		}
	}
	return out
}

func refAggregate(t sigma.CorrelationType, rows []refRow) (float64, bool) {
	switch t {
	case sigma.EventCount:
		return float64(len(rows)), true
	case sigma.ValueCount:
		d := map[string]bool{}
		for _, r := range rows {
			if r.v != nil {
				d[*r.v] = true
			}
		}
		return float64(len(d)), true
	case sigma.Temporal:
		d := map[int]bool{}
		for _, r := range rows {
			d[r.r] = true
		}
		return float64(len(d)), true
	}
	var nums []float64
	for _, r := range rows {
		if r.v == nil {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(*r.v), 64); err == nil {
			nums = append(nums, f)
		}
	}
	if len(nums) == 0 {
		return 0, false
	}
	sort.Float64s(nums)
	switch t {
	case sigma.ValueSum, sigma.ValueAvg:
		s := 0.0
		for _, f := range nums {
			s += f
		}
		if t == sigma.ValueAvg {
			return s / float64(len(nums)), true
		}
		return s, true
	case sigma.ValueMin:
		return nums[0], true
	case sigma.ValueMax:
		return nums[len(nums)-1], true
	case sigma.ValueMedian:
		n := len(nums)
		if n%2 == 1 {
			return nums[n/2], true
		}
		return (nums[n/2-1] + nums[n/2]) / 2, true
	}
	return 0, false
}
