package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Filter selects events for a timeline. Empty fields select everything;
// several values in one field are alternatives (OR), fields combine with AND.
type Filter struct {
	AccessKeys []string // access key ids, exact
	Principals []string // ARN globs (*, ?), matched against the caller's ARN and its session issuer's
	IPs        []string // addresses or CIDR blocks
	Events     []string // event name globs, case-insensitive
	Sources    []string // event source globs (iam.amazonaws.com, iam*), case-insensitive
	Accounts   []string // recipient (or caller) account ids
	Regions    []string
	ErrorsOnly bool
	Since      time.Time // inclusive
	Until      time.Time // exclusive
	Limit      int       // 0 means no limit
	// Scope, when set, keeps only the events of a scope (internal/scope):
	// those made with its access keys, and the other events it names.
	Scope *ScopeSet
}

// ScopeSet is the events of a scoped compromise, as a filter.
type ScopeSet struct {
	AccessKeys []string
	EventIDs   []string
}

// TimelineEvent is one event as a timeline shows it.
type TimelineEvent struct {
	Time         time.Time
	EventID      string
	Account      string
	Region       string
	IdentityType string
	ARN          string
	PrincipalID  string
	IdentityAcct string
	UserName     string
	IssuerARN    string
	InvokedBy    string
	AccessKeyID  string
	SourceIP     string
	UserAgent    string
	EventSource  string
	EventName    string
	Resource     string
	ReadOnly     sql.NullBool
	ErrorCode    string
	ErrorMessage string
	EvidenceFile string
	RecordIndex  int64
	Integrity    string // what verify found of the evidence file; "" if never verified
}

// PrincipalSQL is Principal as a SQL expression over the events table.
var PrincipalSQL = PrincipalSQLOf("")

// PrincipalSQLOf is PrincipalSQL with the events table's columns qualified
// by alias ("e." gives e.identity_arn ...).
func PrincipalSQLOf(alias string) string {
	return strings.NewReplacer("$", alias).Replace(`(CASE
    WHEN $identity_arn IS NOT NULL THEN $identity_arn
    WHEN $identity_type = 'AWSService' AND $invoked_by IS NOT NULL THEN $invoked_by
    WHEN $identity_type = 'AWSAccount' AND $identity_account_id IS NOT NULL
        THEN 'account/' || $identity_account_id || coalesce(' (' || $principal_id || ')', '')
    WHEN $user_name IS NOT NULL THEN $user_name
    WHEN $principal_id IS NOT NULL THEN $principal_id
    WHEN $invoked_by IS NOT NULL THEN $invoked_by
    ELSE coalesce($identity_type, '') END)`)
}

// Principal names who acted, in the most specific form the record offers.
// PrincipalSQL says the same in SQL.
// Outcome is the event's result in a few words, as the timeline and the
// report print it: OK, or the error code and message, after a mark for
// evidence that verify could not vouch for (said first, not hidden at the
// end of a long error message).
func (e *TimelineEvent) Outcome() string {
	mark := ""
	switch e.Integrity {
	case "", "verified":
	default:
		mark = "[evidence " + e.Integrity + "] "
	}
	if e.ErrorCode == "" {
		return mark + "OK"
	}
	if e.ErrorMessage == "" {
		return mark + e.ErrorCode
	}
	return mark + e.ErrorCode + ": " + e.ErrorMessage
}

func (e *TimelineEvent) Principal() string {
	switch {
	case e.ARN != "":
		return e.ARN
	case e.IdentityType == "AWSService" && e.InvokedBy != "":
		return e.InvokedBy
	case e.IdentityType == "AWSAccount" && e.IdentityAcct != "":
		if e.PrincipalID != "" {
			return "account/" + e.IdentityAcct + " (" + e.PrincipalID + ")"
		}
		return "account/" + e.IdentityAcct
	case e.UserName != "":
		return e.UserName
	case e.PrincipalID != "":
		return e.PrincipalID
	case e.InvokedBy != "":
		return e.InvokedBy
	}
	return e.IdentityType
}

// where builds the SQL condition and arguments of a filter, and the
// predicates SQL cannot express portably (IPv6 CIDR blocks), checked in Go.
func (f Filter) where() (string, []any, func(ip string) bool, error) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = "?"
			args = append(args, v)
		}
		conds = append(conds, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	globs := func(cols []string, vals []string, op string) {
		if len(vals) == 0 {
			return
		}
		var ors []string
		for _, v := range vals {
			for _, c := range cols {
				ors = append(ors, c+" "+op+" ? ESCAPE '\\'")
				args = append(args, globToLike(v))
			}
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	in("access_key_id", f.AccessKeys)
	if f.Scope != nil {
		ors := []string{"false"}
		for _, l := range []struct {
			col  string
			vals []string
		}{{"access_key_id", f.Scope.AccessKeys}, {"event_id", f.Scope.EventIDs}} {
			if len(l.vals) == 0 {
				continue
			}
			ph := make([]string, len(l.vals))
			for i, v := range l.vals {
				ph[i] = "?"
				args = append(args, v)
			}
			ors = append(ors, l.col+" IN ("+strings.Join(ph, ", ")+")")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	globs([]string{"identity_arn", "session_issuer_arn"}, f.Principals, "LIKE")
	globs([]string{"event_name"}, f.Events, "ILIKE")
	globs([]string{"event_source"}, f.Sources, "ILIKE")
	in(accountExpr, f.Accounts)
	in("aws_region", f.Regions)
	if f.ErrorsOnly {
		conds = append(conds, "error_code IS NOT NULL")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "event_time >= ?")
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "event_time < ?")
		args = append(args, f.Until.UTC())
	}
	var goIP func(string) bool
	if len(f.IPs) > 0 {
		var ors []string
		var v6 []netip.Prefix
		for _, s := range f.IPs {
			if !strings.Contains(s, "/") {
				ors = append(ors, "source_ip = ?")
				args = append(args, s)
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return "", nil, nil, fmt.Errorf("--ip %q: %w", s, err)
			}
			p = p.Masked()
			if p.Addr().Is4() {
				lo := ipv4Int(p.Addr())
				hi := lo | (1<<(32-p.Bits()) - 1)
				ors = append(ors, fmt.Sprintf("(regexp_full_match(source_ip, '[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}') AND %s BETWEEN %d AND %d)", ipv4SQL, lo, hi))
				continue
			}
			v6 = append(v6, p)
			ors = append(ors, "source_ip LIKE '%:%'")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
		if len(v6) > 0 {
			exact := map[string]bool{}
			var v4 []netip.Prefix
			for _, s := range f.IPs {
				if !strings.Contains(s, "/") {
					exact[s] = true
				} else if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
					v4 = append(v4, p.Masked())
				}
			}
			goIP = func(ip string) bool {
				if exact[ip] {
					return true
				}
				a, err := netip.ParseAddr(ip)
				if err != nil {
					return false
				}
				for _, p := range append(v6, v4...) {
					if p.Contains(a.Unmap()) || p.Contains(a) {
						return true
					}
				}
				return false
			}
		}
	}
	if len(conds) == 0 {
		return "true", args, goIP, nil
	}
	return strings.Join(conds, " AND "), args, goIP, nil
}

// ipv4SQL is a dotted IPv4 source_ip as an integer.
const ipv4SQL = `(TRY_CAST(split_part(source_ip, '.', 1) AS BIGINT) * 16777216 + TRY_CAST(split_part(source_ip, '.', 2) AS BIGINT) * 65536 + TRY_CAST(split_part(source_ip, '.', 3) AS BIGINT) * 256 + TRY_CAST(split_part(source_ip, '.', 4) AS BIGINT))`

func ipv4Int(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// globToLike turns a shell-style glob (* and ?, with \ escaping) into a LIKE
// pattern with \ as its escape character.
func globToLike(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\\':
			if i+1 < len(g) {
				i++
				if g[i] == '%' || g[i] == '_' || g[i] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(g[i])
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Timeline calls fn for each event that f selects, oldest first (events
// without a time last; ties broken by evidence position, so output is
// reproducible).
func (s *Store) Timeline(ctx context.Context, f Filter, fn func(*TimelineEvent) error) error {
	cond, args, goIP, err := f.where()
	if err != nil {
		return err
	}
	q := `SELECT event_time, coalesce(event_id, ''), coalesce(recipient_account_id, identity_account_id, ''), coalesce(aws_region, ''), coalesce(identity_type, ''),
	coalesce(identity_arn, ''), coalesce(principal_id, ''), coalesce(identity_account_id, ''), coalesce(user_name, ''),
	coalesce(session_issuer_arn, ''), coalesce(invoked_by, ''), coalesce(access_key_id, ''), coalesce(source_ip, ''),
	coalesce(user_agent, ''), coalesce(event_source, ''), coalesce(event_name, ''), coalesce(resource, ''), read_only,
	coalesce(error_code, ''), coalesce(error_message, ''), evidence_file, record_index, coalesce(i.status, '')
	FROM events LEFT JOIN evidence_integrity i USING (evidence_file)
	WHERE ` + cond + ` ORDER BY event_time NULLS LAST, evidence_file, record_index`
	if f.Limit > 0 && goIP == nil {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var e TimelineEvent
		var t sql.NullTime
		if err := rows.Scan(&t, &e.EventID, &e.Account, &e.Region, &e.IdentityType, &e.ARN, &e.PrincipalID, &e.IdentityAcct,
			&e.UserName, &e.IssuerARN, &e.InvokedBy, &e.AccessKeyID, &e.SourceIP, &e.UserAgent, &e.EventSource, &e.EventName,
			&e.Resource, &e.ReadOnly, &e.ErrorCode, &e.ErrorMessage, &e.EvidenceFile, &e.RecordIndex, &e.Integrity); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		if goIP != nil && !goIP(e.SourceIP) {
			continue
		}
		if t.Valid {
			e.Time = t.Time.UTC()
		}
		if err := fn(&e); err != nil {
			return err
		}
		n++
		if f.Limit > 0 && n >= f.Limit {
			break
		}
	}
	return rows.Err()
}

// Query runs SQL and returns its rows for the caller to format; the store
// must have been opened read-only for ad-hoc SQL.
func (s *Store) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, q, args...)
}
