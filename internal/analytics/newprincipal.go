package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
)

// newPrincipal: a principal, or a long-term (AKIA) key of a known one, with
// no events at all in the baseline becomes active in the detection window.
// Backdoor users, keys an attacker minted and roles nobody uses are new;
// so are new staff, roles and deployments, so it is low severity and
// reported only when the principal did something notable: a write call or a
// call from a public address. Temporary (ASIA) keys are new every hour and
// never judged on their own.
func newPrincipal(ctx context.Context, q querier, r *runner) ([]hit, error) {
	rows, err := q.QueryContext(ctx, `WITH bps AS (
	SELECT DISTINCT bp FROM `+tempEvents+` WHERE NOT det AND NOT svc
), bkeys AS (
	SELECT DISTINCT akey FROM `+tempEvents+` WHERE NOT det AND akey IS NOT NULL
), x AS (
	SELECT a.*, p.bp IS NULL AS newp
	FROM `+tempEvents+` a
	LEFT JOIN bps p ON p.bp = a.bp
	LEFT JOIN bkeys k ON k.akey = a.akey
	WHERE a.det AND NOT a.svc AND (p.bp IS NULL OR (a.akey LIKE 'AKIA%' AND k.akey IS NULL))
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	bool_or(x.newp),
	count_if(x.write),
	coalesce(array_to_string(list_sort(list_distinct(list(x.api) FILTER (WHERE x.write))), chr(31)), ''),
	coalesce(array_to_string(list_sort(list_distinct(list(x.ip) FILTER (WHERE x.pub))), chr(31)), '')
FROM x
GROUP BY x.bp, x.rp
HAVING count_if(x.write) > 0 OR bool_or(x.pub)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, writeAPIs, public string
		var newp bool
		var writes int64
		if err := scanRow(rows, &s, []any{&bp, &rp}, &newp, &writes, &writeAPIs, &public); err != nil {
			return nil, err
		}
		var subject, title string
		if newp {
			subject = fmt.Sprintf("%s has no events in the baseline %s; it first appears at %s", rp, r.baseline, s.first.UTC().Format(timeLayout))
			if bp != rp {
				subject = fmt.Sprintf("%s (of %s, which has no events in the baseline %s) first appears at %s", rp, bp, r.baseline, s.first.UTC().Format(timeLayout))
			}
			title = "New principal active"
		} else {
			subject = fmt.Sprintf("long-term key %s of %s was never used in the baseline %s, although %s was active in it; the key first appears at %s",
				strings.Join(split(s.keys), ", "), rp, r.baseline, bp, s.first.UTC().Format(timeLayout))
			title = "New long-term access key active"
		}
		var did []string
		if writes > 0 {
			apis := split(writeAPIs)
			for i, a := range apis {
				apis[i] = shortAPI(a)
			}
			did = append(did, fmt.Sprintf("%s (%s)", plural(writes, "write call"), listText(apis, 15)))
		}
		if ips := split(public); len(ips) > 0 {
			did = append(did, "calls from public addresses "+listText(ips, 5))
		}
		desc := fmt.Sprintf("%s, and made %s in the detection window, including %s. New principals are routine (new staff, roles, deployments), hence low severity: judge it by what it did",
			subject, plural(s.count, "call"), strings.Join(did, " and "))
		out = append(out, s.finding(RuleNewPrincipal, title, detect.Low, rp,
			[]string{"T1078.004"}, []string{"initial-access", "persistence"}, desc))
	}
	return out, rows.Err()
}
