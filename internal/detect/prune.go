package detect

import (
	"sort"
	"strings"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// eventNames works out which of the event names present in the case an
// expression can match at all: the compiled query then reads only those
// events (event_name IN (...), which DuckDB pushes into its scan). ok is
// false when the expression does not constrain eventName.
func eventNames(x sigma.Expr, present []string) (names map[string]bool, ok bool) {
	switch x := x.(type) {
	case sigma.And:
		var acc map[string]bool
		for _, c := range x.Xs {
			s, ok := eventNames(c, present)
			if !ok {
				continue
			}
			if acc == nil {
				acc = s
				continue
			}
			for n := range acc {
				if !s[n] {
					delete(acc, n)
				}
			}
		}
		return acc, acc != nil
	case sigma.Or:
		acc := map[string]bool{}
		for _, c := range x.Xs {
			s, ok := eventNames(c, present)
			if !ok {
				return nil, false
			}
			for n := range s {
				acc[n] = true
			}
		}
		return acc, true
	case *sigma.Match:
		if x.Field != "eventName" {
			return nil, false
		}
		if x.Op == sigma.OpRegex && cachedRegexp(x.Regex) == nil {
			return nil, false
		}
		switch x.Op {
		case sigma.OpGlob, sigma.OpRegex:
			out := map[string]bool{}
			for _, n := range present {
				if leafValue(x, n) {
					out[n] = true
				}
			}
			return out, true
		}
	}
	return nil, false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func inList(col string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = sqlString(v)
	}
	return col + " IN (" + strings.Join(q, ", ") + ")"
}
