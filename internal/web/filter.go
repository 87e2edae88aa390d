package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// Filter is what the UI selects: exact pivot values (an access key, a
// principal, an IP, an event name, as the timeline shows them), free text,
// a time window, a finding's events or a scoped compromise. Values of one
// field are alternatives (OR); fields combine with AND. Pivots are exact,
// not globs, because they come from a click on a value the UI showed.
type Filter struct {
	AccessKeys []string
	Principals []string // as store.PrincipalSQL names them
	IPs        []string
	Events     []string
	Text       string // case-insensitive substring of the fields the timeline shows
	ErrorsOnly bool
	Since      time.Time // inclusive
	Until      time.Time // exclusive
	Finding    int64     // the latest hunt's finding; 0 for none
	Scope      string    // key:ID, principal:ARN or ip:ADDRESS; resolved by the server
	scopeSet   *store.ScopeSet
}

// errBadRequest marks a request the UI (or a hand-made URL) got wrong: 400.
var errBadRequest = errors.New("bad request")

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

// maxValues bounds each field's alternatives, so that a URL cannot build an
// arbitrarily large query.
const maxValues = 50

// parseFilter reads a Filter from a request's query parameters: key,
// principal, ip, event (each repeatable), q, errors=1, since, until
// (RFC 3339 or YYYY-MM-DD, UTC), finding and scope.
func parseFilter(q url.Values) (Filter, error) {
	f := Filter{AccessKeys: q["key"], Principals: q["principal"], IPs: q["ip"], Events: q["event"],
		Text: strings.TrimSpace(q.Get("q")), ErrorsOnly: q.Get("errors") == "1", Scope: q.Get("scope")}
	for name, vals := range map[string][]string{"key": f.AccessKeys, "principal": f.Principals, "ip": f.IPs, "event": f.Events} {
		if len(vals) > maxValues {
			return f, badRequest("%s: at most %d values", name, maxValues)
		}
	}
	if len(f.Text) > 500 {
		return f, badRequest("q: at most 500 characters")
	}
	var err error
	if f.Since, err = parseTime(q.Get("since")); err != nil {
		return f, badRequest("since: %v", err)
	}
	if f.Until, err = parseTime(q.Get("until")); err != nil {
		return f, badRequest("until: %v", err)
	}
	if v := q.Get("finding"); v != "" {
		if f.Finding, err = strconv.ParseInt(v, 10, 64); err != nil || f.Finding <= 0 {
			return f, badRequest("finding: %q is not a finding id", v)
		}
	}
	return f, nil
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: write RFC 3339 or YYYY-MM-DD", v)
	}
	return t, nil
}

// where is the filter as a SQL condition over the events table, with its
// arguments. The scope must have been resolved (scopeSet) by the caller.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	in := func(expr string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, expr+" IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("access_key_id", f.AccessKeys)
	in(store.PrincipalSQL, f.Principals)
	in("source_ip", f.IPs)
	in("event_name", f.Events)
	if f.Text != "" {
		var ors []string
		for _, col := range textColumns {
			ors = append(ors, col+" ILIKE ? ESCAPE '\\'")
			args = append(args, "%"+likeEscape(f.Text)+"%")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.ErrorsOnly {
		conds = append(conds, "error_code IS NOT NULL")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "event_time >= ?")
		args = append(args, f.Since)
	}
	if !f.Until.IsZero() {
		conds = append(conds, "event_time < ?")
		args = append(args, f.Until)
	}
	if f.Finding != 0 {
		conds = append(conds, "event_id IN (SELECT event_id FROM finding_events WHERE finding_id = ? AND hunt_id = (SELECT max(hunt_id) FROM hunts))")
		args = append(args, f.Finding)
	}
	if s := f.scopeSet; s != nil {
		ors := []string{"false"}
		if len(s.AccessKeys) > 0 {
			ors = append(ors, "access_key_id IN ("+placeholders(len(s.AccessKeys))+")")
			for _, v := range s.AccessKeys {
				args = append(args, v)
			}
		}
		if len(s.EventIDs) > 0 {
			ors = append(ors, "event_id IN ("+placeholders(len(s.EventIDs))+")")
			for _, v := range s.EventIDs {
				args = append(args, v)
			}
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// textColumns are what the search box looks in: what a row shows.
var textColumns = []string{"event_name", "event_source", store.PrincipalSQL, "access_key_id", "source_ip", "user_agent",
	"error_code", "resource", "event_id", "aws_region"}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// likeEscape makes s literal in a LIKE pattern with \ as its escape.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
