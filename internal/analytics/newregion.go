package analytics

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
)

// newRegion: activity in a region the account (the trail's, recipient
// account) never saw in the baseline, or that a principal with a baseline
// never used. Attackers sweep every region looking for what the defenders
// forgot, and launch miners where nobody looks; a region the whole account
// never used is high severity, one only new to the principal low. Accounts
// without a baseline of their own are not judged by the account test (a
// trail that only starts in the detection window would flag everything).
// Denied calls count: trying a region is activity there.
func newRegion(ctx context.Context, q querier, r *runner) ([]hit, error) {
	acctRegions, err := accountRegions(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `WITH b AS (
	SELECT bp, count(*) AS n FROM `+tempEvents+` WHERE NOT det AND NOT svc GROUP BY bp
), ar AS (
	SELECT DISTINCT acct, region FROM `+tempEvents+` WHERE NOT det AND acct IS NOT NULL AND region IS NOT NULL
), br AS (
	SELECT DISTINCT bp, region FROM `+tempEvents+` WHERE NOT det AND NOT svc AND region IS NOT NULL
), x AS (
	SELECT a.*, (a.acct IN (SELECT acct FROM ar) AND k.acct IS NULL) AS acct_new
	FROM `+tempEvents+` a
	LEFT JOIN ar k ON k.acct = a.acct AND k.region = a.region
	LEFT JOIN br p ON p.bp = a.bp AND p.region = a.region
	LEFT JOIN b ON b.bp = a.bp
	WHERE a.det AND NOT a.svc AND a.region IS NOT NULL
		AND ((a.acct IN (SELECT acct FROM ar) AND k.acct IS NULL) OR (p.bp IS NULL AND coalesce(b.n, 0) >= `+itoa(r.opts.MinBaselineEvents)+`))
), known AS (
	SELECT bp, array_to_string(list_sort(list(region)), chr(31)) AS regions FROM br WHERE bp IN (SELECT bp FROM x) GROUP BY bp
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	coalesce(array_to_string(list_sort(list_distinct(list(x.region) FILTER (WHERE x.acct_new))), chr(31)), ''),
	coalesce(array_to_string(list_sort(list_distinct(list(x.acct) FILTER (WHERE x.acct_new))), chr(31)), ''),
	count_if(x.denied),
	coalesce(any_value(known.regions), ''),
	coalesce(any_value(b.n), 0)
FROM x LEFT JOIN b USING (bp) LEFT JOIN known USING (bp)
GROUP BY x.bp, x.rp`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, acctNew, accts, known string
		var denied, baseN int64
		if err := scanRow(rows, &s, []any{&bp, &rp}, &acctNew, &accts, &denied, &known, &baseN); err != nil {
			return nil, err
		}
		forAcct := split(acctNew)
		var forPrincipal []string
		for _, reg := range split(s.regions) {
			if !slices.Contains(forAcct, reg) {
				forPrincipal = append(forPrincipal, reg)
			}
		}
		var parts []string
		title, sev := "Principal active in a region it never used", detect.Low
		if len(forAcct) > 0 {
			title, sev = "Activity in a region the account never used", detect.High
			var used []string
			for _, a := range split(accts) {
				used = append(used, fmt.Sprintf("account %s used %s", a, listText(acctRegions[a], 8)))
			}
			parts = append(parts, fmt.Sprintf("in %s the account never used in the baseline %s (%s)",
				listText(forAcct, 20), r.baseline, strings.Join(used, "; ")))
		}
		if len(forPrincipal) > 0 {
			before := "no region"
			if k := split(known); len(k) > 0 {
				before = listText(k, 8)
			}
			parts = append(parts, fmt.Sprintf("in %s, which %s never used in the baseline %s (it used %s in %s)",
				listText(forPrincipal, 20), bp, r.baseline, before, plural(baseN, "event")))
		}
		desc := who(rp, bp, split(s.keys)) + " was active " + strings.Join(parts, ", and ")
		if denied > 0 {
			desc += fmt.Sprintf("; %d of its %d calls there were denied", denied, s.count)
		}
		out = append(out, s.finding(RuleNewRegion, title, sev, rp,
			[]string{"T1535"}, []string{"defense-evasion"}, desc))
	}
	return out, rows.Err()
}

// accountRegions lists, per account, the regions its baseline shows.
func accountRegions(ctx context.Context, q querier) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT acct, array_to_string(list_sort(list(DISTINCT region)), chr(31))
FROM `+tempEvents+` WHERE NOT det AND acct IS NOT NULL AND region IS NOT NULL GROUP BY acct`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string][]string{}
	for rows.Next() {
		var a, regs string
		if err := rows.Scan(&a, &regs); err != nil {
			return nil, err
		}
		m[a] = split(regs)
	}
	return m, rows.Err()
}
