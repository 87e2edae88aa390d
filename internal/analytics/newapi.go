package analytics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
)

// newAPI: an established principal (MinBaselineEvents or more baseline
// events) calls APIs (event source and name) it never called in the
// baseline. People and machines repeat themselves; credentials in other
// hands enumerate and then change things. Each principal's new APIs are
// weighed (a write 3, a read 1) and reported together once they reach
// NewAPIMinScore, or at once when one is sensitive (sensitive.go). A few new
// reads are low severity, sensitive reads medium, sensitive writes high.
func newAPI(ctx context.Context, q querier, r *runner) ([]hit, error) {
	rows, err := q.QueryContext(ctx, `WITH b AS (
	SELECT bp, count(*) AS n FROM `+tempEvents+` WHERE NOT det AND NOT svc GROUP BY bp
), ba AS (
	SELECT DISTINCT bp, api FROM `+tempEvents+` WHERE NOT det AND NOT svc
), x AS (
	SELECT a.*, `+sensitiveSQL("a.api")+` AS sens
	FROM `+tempEvents+` a
	JOIN b USING (bp)
	LEFT JOIN ba k ON k.bp = a.bp AND k.api = a.api
	WHERE a.det AND NOT a.svc AND k.bp IS NULL AND b.n >= `+itoa(r.opts.MinBaselineEvents)+`
), apis AS (
	SELECT bp, rp, api, bool_or(write) AS w, bool_or(sens) AS sens, count(*) AS n, count_if(denied) AS nd
	FROM x GROUP BY bp, rp, api
), keep AS (
	SELECT bp, rp,
		array_to_string(list(api || chr(30) || (CASE WHEN w THEN '1' ELSE '0' END) || chr(30) || (CASE WHEN sens THEN '1' ELSE '0' END)
			|| chr(30) || CAST(n AS VARCHAR) || chr(30) || CAST(nd AS VARCHAR) ORDER BY api), chr(31)) AS apis
	FROM apis GROUP BY bp, rp
	HAVING sum(CASE WHEN w THEN 3 ELSE 1 END) >= `+itoa(r.opts.NewAPIMinScore)+` OR bool_or(sens)
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	any_value(keep.apis), any_value(b.n)
FROM x JOIN keep USING (bp, rp) JOIN b USING (bp)
GROUP BY x.bp, x.rp`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, apiList string
		var baseN int64
		if err := scanRow(rows, &s, []any{&bp, &rp}, &apiList, &baseN); err != nil {
			return nil, err
		}
		sev := detect.Low
		var writes, reads []string
		var techs, tactics []string
		for _, item := range split(apiList) {
			f := strings.Split(item, "\x1e")
			if len(f) != 5 {
				continue
			}
			api, write, sens := f[0], f[1] == "1", f[2] == "1"
			n, _ := strconv.ParseInt(f[3], 10, 64)
			nd, _ := strconv.ParseInt(f[4], 10, 64)
			switch {
			case sens && write:
				sev = detect.High
			case sens && sev.Rank() < detect.Medium.Rank():
				sev = detect.Medium
			}
			for _, t := range techniquesFor(api, write) {
				techs, tactics = appendNew(techs, t.id), appendNew(tactics, t.tactic)
			}
			text := shortAPI(api)
			if sens {
				text += "*"
			}
			switch {
			case nd == n:
				text += " (denied)"
			case nd > 0:
				text += fmt.Sprintf(" (%d of %d denied)", nd, n)
			}
			if write {
				writes = append(writes, text)
			} else {
				reads = append(reads, text)
			}
		}
		slices.Sort(techs)
		slices.Sort(tactics)
		var parts []string
		if len(writes) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", plural(int64(len(writes)), "write API"), listText(writes, 25)))
		}
		if len(reads) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", plural(int64(len(reads)), "read-only API"), listText(reads, 25)))
		}
		desc := fmt.Sprintf("%s made %s to APIs %s never called in the baseline %s (%s): %s; * marks sensitive APIs",
			who(rp, bp, split(s.keys)), plural(s.count, "call"), bp, r.baseline, plural(baseN, "event"), strings.Join(parts, "; "))
		out = append(out, s.finding(RuleNewAPI, "Established principal calls APIs it never used", sev, rp, techs, tactics, desc))
	}
	return out, rows.Err()
}

// appendNew appends s unless list holds it already.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
