package detect

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/sigma"
	"github.com/harrier-ir/harrier/internal/store"
)

// batchSize is how many detection rules share one pass over the events.
const batchSize = 48

// MaxListedEvents caps the event ids a finding lists in its JSON; the case's
// finding_events table holds them all, and Count is always the true number.
const MaxListedEvents = 1000

// Hit is a finding as the hunt produced it, with everything behind it.
type Hit struct {
	Finding
	Rule   *Rule
	AllIDs []string // a finding made elsewhere (analytics): every event behind it
	Group  string   // a correlation's group-by values

	// where a rule's finding is in its Run's scratch table
	ruleIdx int
	key     string
	fromRun bool
}

// Stats says what a hunt did.
type Stats struct {
	Rules        int // detection and correlation rules run
	Skipped      int // detection rules whose event names never occur in the case
	Passes       int // scans of the events table
	Correlations int
	Events       int64 // events in the case
}

// Run is a finished hunt that still holds its connection and scratch
// tables: every event behind each finding is there for Save and EventIDs,
// without holding them all in memory. Close it when done.
type Run struct {
	h     *hunter
	Hits  []Hit
	Stats Stats
	// Problems are rules that could not run (their SQL failed, or a rule
	// they correlate did), each naming the rule's file and line; the other
	// rules ran.
	Problems []error
}

// Hunt runs a rule set over a case's events. It works on one connection of
// its own (its scratch tables are temporary) and leaves the case unchanged;
// Run.Save stores the result.
func Hunt(ctx context.Context, st *store.Store, rs *RuleSet) (*Run, error) {
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	h := &hunter{conn: conn, rs: rs, d: DuckDB{}}
	hits, err := h.run(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Run{h: h, Hits: hits, Stats: h.stats, Problems: h.problems}, nil
}

// Close releases the hunt's connection and scratch tables.
func (r *Run) Close() error {
	r.h.conn.ExecContext(context.Background(), `DROP VIEW IF EXISTS hunt_keyed; DROP TABLE IF EXISTS hunt_hits`)
	return r.h.conn.Close()
}

// EventIDs lists every event behind a finding of this run, oldest first.
func (r *Run) EventIDs(ctx context.Context, hit Hit) ([]string, error) {
	if !hit.fromRun {
		return hit.AllIDs, nil
	}
	return queryStrings(ctx, r.h.conn, `SELECT `+eidSQL+` FROM hunt_keyed x JOIN events e ON e.rowid = x.rid
WHERE x.rule = ? AND x.k = ? ORDER BY e.event_time NULLS LAST, 1`, hit.ruleIdx, hit.key)
}

// queryStrings runs a query of one string column and returns its rows.
func queryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// eidSQL names an event: its eventID, or where it is for a record without.
const eidSQL = `coalesce(e.event_id, e.evidence_file || '#' || e.record_index)`

type hunter struct {
	conn     *sql.Conn
	rs       *RuleSet
	d        Dialect
	stats    Stats
	problems []error
	failed   map[int]bool
}

// fail records that rule i could not run.
func (h *hunter) fail(i int, err error) {
	if h.failed == nil {
		h.failed = map[int]bool{}
	}
	h.failed[i] = true
	r := h.rs.Rules[i]
	h.problems = append(h.problems, fmt.Errorf("%s:%d: rule %s did not run: %w", r.File, r.Line, r.ID, err))
}

func (h *hunter) exec(ctx context.Context, q string, args ...any) error {
	if _, err := h.conn.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("%w\n-- in:\n%s", err, clip(q))
	}
	return nil
}

func clip(q string) string {
	if len(q) > 2000 {
		return q[:2000] + "…"
	}
	return q
}

func (h *hunter) run(ctx context.Context) ([]Hit, error) {
	if err := h.exec(ctx, `CREATE OR REPLACE TEMP TABLE hunt_hits (rid BIGINT, rule INTEGER, grp VARCHAR)`); err != nil {
		return nil, err
	}
	if err := h.conn.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&h.stats.Events); err != nil {
		return nil, err
	}
	present, err := h.eventNames(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.detections(ctx, present); err != nil {
		return nil, err
	}
	for _, i := range h.rs.order() {
		if h.rs.Rules[i].Correlation == nil {
			continue
		}
		var broken []string
		for _, j := range h.rs.Rules[i].Refs {
			if h.failed[j] {
				broken = append(broken, h.rs.Rules[j].ID)
			}
		}
		if len(broken) > 0 {
			h.fail(i, fmt.Errorf("it correlates %s, which did not run", strings.Join(broken, ", ")))
			continue
		}
		if err := h.correlate(ctx, i); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			h.fail(i, err)
			continue
		}
		h.stats.Correlations++
	}
	h.stats.Rules = len(h.rs.Rules)
	return h.collect(ctx)
}

func (h *hunter) eventNames(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, h.conn, `SELECT DISTINCT event_name FROM events WHERE event_name IS NOT NULL ORDER BY 1`)
}

type compiled struct {
	idx   int
	where string // the rule's condition
	prune string // a cheap necessary condition, or "" to read every event
}

// DetectionSQL compiles one detection rule for DuckDB.
func DetectionSQL(r *Rule) (string, error) {
	return Compile(DuckDB{}, r.Expr)
}

func (h *hunter) detections(ctx context.Context, present []string) error {
	var pruned, full []compiled
	for i, r := range h.rs.Rules {
		if r.Detection == nil {
			continue
		}
		where, err := Compile(h.d, r.Expr)
		if err != nil {
			h.fail(i, err)
			continue
		}
		names, ok := eventNames(r.Expr, present)
		switch {
		case !ok:
			full = append(full, compiled{idx: i, where: where})
		case len(names) == 0:
			h.stats.Skipped++
		default:
			pruned = append(pruned, compiled{idx: i, where: where, prune: inList("event_name", sortedKeys(names))})
		}
	}
	for start := 0; start < len(pruned); start += batchSize {
		if err := h.pass(ctx, pruned[start:min(start+batchSize, len(pruned))]); err != nil {
			return err
		}
	}
	for start := 0; start < len(full); start += batchSize {
		if err := h.pass(ctx, full[start:min(start+batchSize, len(full))]); err != nil {
			return err
		}
	}
	return nil
}

// pass evaluates a batch of rules in one scan of the events table. When
// the batch fails (a rule whose SQL DuckDB refuses), it is split until the
// failing rule is alone, which is then reported and left out.
func (h *hunter) pass(ctx context.Context, batch []compiled) error {
	err := h.passOnce(ctx, batch)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if len(batch) == 1 {
		h.fail(batch[0].idx, err)
		return nil
	}
	mid := len(batch) / 2
	if err := h.pass(ctx, batch[:mid]); err != nil {
		return err
	}
	return h.pass(ctx, batch[mid:])
}

func (h *hunter) passOnce(ctx context.Context, batch []compiled) error {
	var cases, prunes []string
	all := false
	for _, c := range batch {
		cond := c.where
		if c.prune != "" {
			cond = c.prune + " AND " + cond
			prunes = append(prunes, c.prune)
		} else {
			all = true
		}
		cases = append(cases, fmt.Sprintf("CASE WHEN %s THEN %d END", cond, c.idx))
	}
	where := ""
	if !all {
		where = " WHERE " + strings.Join(prunes, " OR ")
	}
	q := `INSERT INTO hunt_hits (rid, rule)
SELECT rid, rule FROM (SELECT rowid AS rid, unnest([` + strings.Join(cases, ",\n") + `]) AS rule FROM events` + where + `) WHERE rule IS NOT NULL`
	h.stats.Passes++
	return h.exec(ctx, q)
}

// groupExpr is the SQL of a correlation's group-by field for the events of
// referenced rule ref (aliases may name a different field per rule).
func (h *hunter) groupExpr(k *sigma.Correlation, field string) (string, error) {
	if m, ok := k.Aliases[field]; ok {
		var whens []string
		for name, f := range m {
			r := h.rs.Find(name)
			if r == nil {
				return "", fmt.Errorf("alias %q: no rule %q", field, name)
			}
			e, err := h.scalar(f)
			if err != nil {
				return "", err
			}
			whens = append(whens, fmt.Sprintf("WHEN %d THEN %s", h.index(r), e))
		}
		sort.Strings(whens)
		return "(CASE h.rule " + strings.Join(whens, " ") + " END)", nil
	}
	return h.scalar(field)
}

func (h *hunter) index(r *Rule) int {
	for i, x := range h.rs.Rules {
		if x == r {
			return i
		}
	}
	return -1
}

// scalar is a field's one value (the value at the exact path) as SQL over e.
func (h *hunter) scalar(field string) (string, error) {
	loc := locate(field)
	if loc.column != "" {
		return "e." + loc.column, nil
	}
	for _, p := range loc.path {
		if p == "" || strings.ContainsAny(p, `"'\`) {
			return "", fmt.Errorf("field %q: a path part may not be empty or hold quotes or backslashes", field)
		}
	}
	return h.d.JSONText("e."+loc.jsonCol, loc.path), nil
}

func (h *hunter) correlate(ctx context.Context, idx int) error {
	r := h.rs.Rules[idx]
	k := r.Correlation
	var gcols, gsel, gjoin, glabel []string
	for i, f := range k.GroupBy {
		e, err := h.groupExpr(k, f)
		if err != nil {
			return err
		}
		c := fmt.Sprintf("g%d", i)
		gcols = append(gcols, c)
		gsel = append(gsel, e+" AS "+c)
		gjoin = append(gjoin, "m."+c+" IS NOT DISTINCT FROM s."+c)
		glabel = append(glabel, sqlString(f+"=")+" || coalesce(m."+c+", '(none)')")
	}
	val := "NULL"
	if k.Field != "" {
		v, err := h.scalar(k.Field)
		if err != nil {
			return err
		}
		val = v
	}
	refs := make([]string, len(r.Refs))
	for i, j := range r.Refs {
		refs[i] = fmt.Sprint(j)
	}
	sel := append([]string{"h.rid", "h.rule AS r", "e.event_time AS t", val + " AS v"}, gsel...)
	// events whose group-by fields are absent belong to no group (as in a
	// SIEM's `stats ... by`): pooling them would join unrelated callers
	notNull := ""
	for _, c := range gcols {
		notNull += " AND " + c + " IS NOT NULL"
	}
	m := `m AS (SELECT * FROM (SELECT DISTINCT ` + strings.Join(sel, ", ") + ` FROM hunt_hits h JOIN events e ON e.rowid = h.rid WHERE h.rule IN (` + strings.Join(refs, ", ") + `) AND e.event_time IS NOT NULL) WHERE true` + notNull + `)`
	span := fmt.Sprintf("INTERVAL %d SECOND", int64(k.Timespan/time.Second))
	part := ""
	if len(gcols) > 0 {
		part = "PARTITION BY " + strings.Join(gcols, ", ") + " "
	}
	gl := strings.Join(gcols, ", ")
	if gl != "" {
		gl += ", "
	}
	var sat string // windows that satisfy the condition: ws, we, group columns
	switch k.Type {
	case sigma.TemporalOrdered:
		if len(k.Condition) != 1 || k.Condition[0].Op != "gte" || int(k.Condition[0].Value) != len(r.Refs) {
			return fmt.Errorf("temporal_ordered takes no condition other than all its rules: %w", sigma.ErrUnsupported)
		}
		steps := []string{fmt.Sprintf(`s0 AS (SELECT %st, t AS st FROM m WHERE r = %d)`, gl, r.Refs[0])}
		for i := 1; i < len(r.Refs); i++ {
			steps = append(steps, fmt.Sprintf(`s%d AS (SELECT %st, pst AS st FROM (
  SELECT k, %st, max(st) FILTER (WHERE k = 0) OVER (%sORDER BY t, k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS pst
  FROM (SELECT 0 AS k, %st, st FROM s%d UNION ALL SELECT 1 AS k, %st, NULL AS st FROM m WHERE r = %d)
) WHERE k = 1 AND pst IS NOT NULL)`, i, gl, gl, part, gl, i-1, gl, r.Refs[i]))
		}
		last := len(r.Refs) - 1
		sat = strings.Join(steps, ",\n") + fmt.Sprintf(`,
sat AS (SELECT DISTINCT %sst AS ws, t AS we FROM s%d WHERE t <= st + %s)`, gl, last, span)
	default:
		var agg string
		switch k.Type {
		case sigma.EventCount:
			agg = "count(*)"
		case sigma.ValueCount:
			agg = "count(DISTINCT v)"
		case sigma.Temporal:
			agg = "count(DISTINCT r)"
		case sigma.ValueSum:
			agg = "sum(TRY_CAST(v AS DOUBLE))"
		case sigma.ValueAvg:
			agg = "avg(TRY_CAST(v AS DOUBLE))"
		case sigma.ValueMin:
			agg = "min(TRY_CAST(v AS DOUBLE))"
		case sigma.ValueMax:
			agg = "max(TRY_CAST(v AS DOUBLE))"
		case sigma.ValueMedian:
			agg = "median(TRY_CAST(v AS DOUBLE))"
		default:
			return fmt.Errorf("correlation type %s: %w", k.Type, sigma.ErrUnsupported)
		}
		var conds []string
		for _, b := range k.Condition {
			op := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}[b.Op]
			conds = append(conds, "n "+op+" "+sqlNum(b.Value))
		}
		// an event counts once, even when it matched several referenced
		// rules (temporal counts the rules, so keeps them apart)
		src := "m"
		if k.Type != sigma.Temporal {
			src = "(SELECT DISTINCT rid, t, v" + strings.TrimSuffix(", "+strings.Join(gcols, ", "), ", ") + " FROM m)"
		}
		sat = fmt.Sprintf(`w AS (SELECT %st AS ws, t + %s AS we, %s OVER (%sORDER BY t RANGE BETWEEN CURRENT ROW AND %s FOLLOWING) AS n FROM %s),
sat AS (SELECT DISTINCT %sws, we FROM w WHERE %s)`, gl, span, agg, part, span, src, gl, strings.Join(conds, " AND "))
	}
	label := "''" // no group-by: one group, one finding
	if len(glabel) > 0 {
		label = strings.Join(glabel, " || ', ' || ")
	}
	join := "m.t BETWEEN s.ws AND s.we"
	if len(gjoin) > 0 {
		join = strings.Join(gjoin, " AND ") + " AND " + join
	}
	q := `INSERT INTO hunt_hits (rid, rule, grp)
WITH ` + m + `,
` + sat + `
SELECT DISTINCT m.rid, ` + fmt.Sprint(idx) + `, ` + label + ` FROM m JOIN sat s ON ` + join
	return h.exec(ctx, q)
}

// collect turns the hits of rules that generate findings into findings: one
// per rule and principal, or per rule and group for a correlation. The
// grouping is the scratch view hunt_keyed (rule, k, rid), so a rule
// matching millions of events never has them all in memory: only the
// aggregates and the first MaxListedEvents ids of each finding come back.
func (h *hunter) collect(ctx context.Context) ([]Hit, error) {
	var gen []string
	for i, r := range h.rs.Rules {
		if r.Generate {
			gen = append(gen, fmt.Sprint(i))
		}
	}
	if len(gen) == 0 {
		gen = []string{"-1"}
	}
	// a view, not a table: the grouping key is recomputed by each query
	// that reads it instead of being held (in memory) for the whole run
	if err := h.exec(ctx, `CREATE OR REPLACE TEMP VIEW hunt_keyed AS
SELECT DISTINCT h.rule, coalesce(h.grp, `+store.PrincipalSQLOf("e.")+`) AS k, h.rid
FROM hunt_hits h JOIN events e ON e.rowid = h.rid
WHERE h.rule IN (`+strings.Join(gen, ", ")+`)`); err != nil {
		return nil, err
	}
	q := `SELECT x.rule, x.k, mode(p) AS principal, count(DISTINCT p) AS principals,
  coalesce(list(DISTINCT access_key_id) FILTER (WHERE access_key_id IS NOT NULL), []),
  coalesce(list(DISTINCT source_ip) FILTER (WHERE source_ip IS NOT NULL), []),
  coalesce(list(DISTINCT recipient_account_id) FILTER (WHERE recipient_account_id IS NOT NULL), []),
  coalesce(list(DISTINCT aws_region) FILTER (WHERE aws_region IS NOT NULL), []),
  min(event_time), max(event_time), count(*)
FROM hunt_keyed x JOIN (SELECT rowid AS rid, ` + store.PrincipalSQL + ` AS p, access_key_id, source_ip, recipient_account_id, aws_region, event_time FROM events) e
  ON e.rid = x.rid
GROUP BY x.rule, x.k
ORDER BY x.rule, x.k`
	rows, err := h.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("collect findings: %w", err)
	}
	defer rows.Close()
	var hits []Hit
	index := map[[2]string]int{}
	for rows.Next() {
		var (
			rule                   int
			key, principal         sql.NullString
			principals             int64
			keys, ips, accts, regs []any
			first, last            sql.NullTime
			count                  int64
		)
		if err := rows.Scan(&rule, &key, &principal, &principals, &keys, &ips, &accts, &regs, &first, &last, &count); err != nil {
			return nil, err
		}
		r := h.rs.Rules[rule]
		f := Finding{
			RuleID: r.ID, Title: r.Title, Severity: r.Severity,
			Techniques: nonNil(r.Techniques), Tactics: nonNil(r.Tactics),
			Principal:    principal.String,
			AccessKeyIDs: strs(keys), SourceIPs: strs(ips), Accounts: strs(accts), Regions: strs(regs),
			FirstSeen: first.Time.UTC(), LastSeen: last.Time.UTC(), Count: count,
		}
		hit := Hit{Finding: f, Rule: r, ruleIdx: rule, key: key.String, fromRun: true}
		if r.Correlation != nil {
			hit.Group = key.String
		}
		hit.Description = describe(r, hit, principals)
		index[[2]string{fmt.Sprint(rule), key.String}] = len(hits)
		hits = append(hits, hit)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// the first event ids of each finding, oldest first
	idRows, err := h.conn.QueryContext(ctx, `SELECT rule, k, eid FROM (
  SELECT x.rule, x.k, `+eidSQL+` AS eid,
         row_number() OVER (PARTITION BY x.rule, x.k ORDER BY e.event_time NULLS LAST, `+eidSQL+`) AS n
  FROM hunt_keyed x JOIN events e ON e.rowid = x.rid)
WHERE n <= `+fmt.Sprint(MaxListedEvents)+` ORDER BY rule, k, n`)
	if err != nil {
		return nil, fmt.Errorf("collect finding events: %w", err)
	}
	defer idRows.Close()
	for idRows.Next() {
		var rule int
		var k, eid string
		if err := idRows.Scan(&rule, &k, &eid); err != nil {
			return nil, err
		}
		if i, ok := index[[2]string{fmt.Sprint(rule), k}]; ok {
			hits[i].EventIDs = append(hits[i].EventIDs, eid)
		}
	}
	if err := idRows.Err(); err != nil {
		return nil, err
	}
	SortHits(hits)
	return hits, nil
}

func describe(r *Rule, h Hit, principals int64) string {
	d := strings.TrimSpace(strings.Join(strings.Fields(r.Description), " "))
	var extra []string
	if h.Group != "" {
		extra = append(extra, "group: "+h.Group)
	}
	if principals > 1 {
		extra = append(extra, fmt.Sprintf("%d principals; the most active is named", principals))
	}
	if len(r.Filters) > 0 {
		extra = append(extra, "filters applied: "+strings.Join(r.Filters, "; "))
	}
	if len(extra) > 0 {
		if d != "" {
			d += " "
		}
		d += "(" + strings.Join(extra, "; ") + ")"
	}
	return d
}

// SortHits orders findings most severe first, then by first seen, rule and
// principal, so that output is the same on every run.
func SortHits(hits []Hit) {
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if a.Principal != b.Principal {
			return a.Principal < b.Principal
		}
		return a.Group < b.Group
	})
}

// strs reads a SQL list of strings, sorted.
func strs(l []any) []string {
	out := []string{}
	for _, v := range l {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
