package analytics

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
)

// sep joins list values in one VARCHAR column; no identifier, address,
// region or event id contains it.
const sep = "\x1f"

// stdAggs is the select list every analytic ends with, aggregating the
// events behind one finding (alias x): when, how many, and the distinct
// keys, addresses, accounts and regions, and every event id in time order.
// scanRow reads it.
func stdAggs(x string) string {
	list := func(col string) string {
		return "coalesce(array_to_string(list_sort(list_distinct(list(" + x + "." + col + "))), chr(31)), '')"
	}
	return strings.Join([]string{
		"min(" + x + ".t)",
		"max(" + x + ".t)",
		"count(*)",
		list("akey"),
		list("ip"),
		list("acct"),
		list("region"),
		"coalesce(array_to_string(list(" + x + ".eid ORDER BY " + x + ".t, " + x + ".eid), chr(31)), '')",
	}, ",\n\t")
}

// std is stdAggs scanned.
type std struct {
	first, last time.Time
	count       int64
	keys        string
	ips         string
	accts       string
	regions     string
	eids        string
}

func (s *std) dests() []any {
	return []any{&s.first, &s.last, &s.count, &s.keys, &s.ips, &s.accts, &s.regions, &s.eids}
}

// scanRow scans lead columns, then stdAggs, then trailing columns.
func scanRow(rows *sql.Rows, s *std, lead []any, trail ...any) error {
	dests := append(append(append([]any{}, lead...), s.dests()...), trail...)
	return rows.Scan(dests...)
}

// hit is a finding with every event behind it.
type hit struct {
	detect.Finding
	all []string
}

// finding builds the finding for one principal from its aggregates.
func (s *std) finding(rule, title string, sev detect.Severity, principal string, techniques, tactics []string, desc string) hit {
	if techniques == nil {
		techniques = []string{}
	}
	if tactics == nil {
		tactics = []string{}
	}
	all := split(s.eids)
	listed := all
	if len(listed) > detect.MaxListedEvents {
		listed = listed[:detect.MaxListedEvents:detect.MaxListedEvents]
	}
	return hit{all: all, Finding: detect.Finding{
		RuleID:       rule,
		Title:        title,
		Severity:     sev,
		Techniques:   techniques,
		Tactics:      tactics,
		Principal:    principal,
		AccessKeyIDs: split(s.keys),
		SourceIPs:    split(s.ips),
		Accounts:     split(s.accts),
		Regions:      split(s.regions),
		EventIDs:     listed,
		FirstSeen:    s.first.UTC(),
		LastSeen:     s.last.UTC(),
		Count:        s.count,
		Description:  desc,
	}}
}

// split undoes a chr(31)-joined list; empty is an empty, non-nil list so the
// JSON form is [] rather than null.
func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// listText names up to n items and how many more there were.
func listText(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// plural returns "1 network" or "3 networks".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// who describes a principal and its keys for a description's opening.
func who(principal, baselinePrincipal string, keys []string) string {
	var long []string
	for _, k := range keys {
		if strings.HasPrefix(k, "AKIA") {
			long = append(long, k)
		}
	}
	s := principal
	if len(long) > 0 {
		s = "key " + strings.Join(long, ", ") + " of " + principal
	}
	if baselinePrincipal != "" && baselinePrincipal != principal {
		s += " (judged by the history of " + baselinePrincipal + ")"
	}
	return s
}
