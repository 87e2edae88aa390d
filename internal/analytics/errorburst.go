package analytics

import (
	"context"
	"fmt"

	"github.com/harrier-ir/harrier/internal/detect"
)

// errorBurst: a principal collects AccessDenied, Unauthorized* or Forbidden
// errors far faster than it ever did. Someone who does not know what the
// credentials may do tries everything (Pacu, enumerate-iam, a region
// sweep); owners rarely hit walls, and when they do (a misconfigured
// policy) the baseline shows it.
//
// Rates are counted over a sliding hour per principal (the baseline's
// key: a role, not each session): every denied call carries the number of
// denied calls of its principal in the hour up to it. A detection-window
// call whose count reaches ErrorBurstMin and ErrorBurstFactor times the
// principal's highest baseline count is a peak; overlapping hours before
// peaks merge into one span, and every denied call in a span is behind the
// finding (one per reported principal).
func errorBurst(ctx context.Context, q querier, r *runner) ([]hit, error) {
	o := r.opts
	rows, err := q.QueryContext(ctx, `WITH den AS (
	SELECT bp, t, det,
		count(*) OVER (PARTITION BY bp ORDER BY t RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW) AS n1h
	FROM `+tempEvents+` WHERE denied AND NOT svc
), bmax AS (
	SELECT bp, max(n1h) AS m FROM den WHERE NOT det GROUP BY bp
), peaks AS (
	SELECT d.bp, d.t, d.n1h FROM den d LEFT JOIN bmax USING (bp)
	WHERE d.det AND d.n1h >= `+itoa(o.ErrorBurstMin)+` AND d.n1h >= `+itoa(o.ErrorBurstFactor)+` * coalesce(bmax.m, 0)
), islands AS (
	SELECT bp, t, n1h,
		sum(CASE WHEN prev IS NULL OR t - INTERVAL 1 HOUR > prev THEN 1 ELSE 0 END)
			OVER (PARTITION BY bp ORDER BY t ROWS UNBOUNDED PRECEDING) AS island
	FROM (SELECT *, lag(t) OVER (PARTITION BY bp ORDER BY t) AS prev FROM peaks)
), spans AS (
	SELECT bp, min(t) - INTERVAL 1 HOUR AS s, max(t) AS e, max(n1h) AS peak FROM islands GROUP BY bp, island
), x AS (
	SELECT a.*, sp.peak FROM `+tempEvents+` a JOIN spans sp ON a.bp = sp.bp AND a.t >= sp.s AND a.t <= sp.e
	WHERE a.det AND a.denied AND NOT a.svc
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	array_to_string(list_sort(list_distinct(list(x.api))), chr(31)),
	array_to_string(list_sort(list_distinct(list(x.err))), chr(31)),
	max(x.peak), coalesce(any_value(bmax.m), 0)
FROM x LEFT JOIN bmax USING (bp)
GROUP BY x.bp, x.rp`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, apiList, codes string
		var peak, baseMax int64
		if err := scanRow(rows, &s, []any{&bp, &rp}, &apiList, &codes, &peak, &baseMax); err != nil {
			return nil, err
		}
		apis := split(apiList)
		short := make([]string, len(apis))
		for i, a := range apis {
			short[i] = shortAPI(a)
		}
		sev := detect.Medium
		if len(apis) >= 10 {
			sev = detect.High // many different APIs refused: enumeration, not a broken job
		}
		desc := fmt.Sprintf("%s was refused %s (%s; up to %d within an hour) across %s: %s. In the baseline %s the busiest hour of %s had %d such errors; a burst needs at least %d in an hour and %d times that",
			who(rp, bp, split(s.keys)), plural(s.count, "call"), listText(split(codes), 5), peak,
			plural(int64(len(apis)), "API"), listText(short, 25), r.baseline, bp, baseMax, o.ErrorBurstMin, o.ErrorBurstFactor)
		out = append(out, s.finding(RuleErrorBurst, "Burst of denied calls", sev, rp,
			[]string{"T1526", "T1580"}, []string{"discovery"}, desc))
	}
	return out, rows.Err()
}
