package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
)

// newSourceIP: a principal with a baseline calls from a network (/24, /48)
// it never called from in the baseline. A leaked key is almost always used
// from somewhere its owner never was; one finding per principal collapses
// all its new addresses. Service names ("ec2.amazonaws.com", "AWS
// Internal") are not places and AWS services acting for themselves are not
// judged. Principals whose baseline addresses are volatile are skipped and
// named in the notes: for them a new network is the norm. Volatile is more
// than MaxBaselineNetworks networks, or, over three or more baseline days, a
// network never used before on more than half of the days after the first
// (CI runners, Lambda functions and NAT pools: every day somewhere new).
func newSourceIP(ctx context.Context, q querier, r *runner) ([]hit, error) {
	o := r.opts
	with := `WITH bnets AS (
	SELECT bp, net, min(date_trunc('day', t)) AS first_day
	FROM ` + tempEvents + ` WHERE NOT det AND NOT svc AND net IS NOT NULL GROUP BY bp, net
), days AS (
	SELECT bp, count(DISTINCT date_trunc('day', t)) AS days
	FROM ` + tempEvents + ` WHERE NOT det AND NOT svc AND net IS NOT NULL GROUP BY bp
), b AS (
	SELECT bp, n, coalesce(nets, 0) AS nets, coalesce(days.days, 0) AS days, coalesce(novel, 0) AS novel,
		coalesce(nets, 0) > ` + itoa(o.MaxBaselineNetworks) + ` OR (coalesce(days.days, 0) >= 3 AND 2 * coalesce(novel, 0) > days.days - 1) AS volatile
	FROM (SELECT bp, count(*) AS n FROM ` + tempEvents + ` WHERE NOT det AND NOT svc GROUP BY bp)
	LEFT JOIN (SELECT bp, count(*) AS nets, count(DISTINCT first_day) - 1 AS novel FROM bnets GROUP BY bp) USING (bp)
	LEFT JOIN days USING (bp)
), cand AS (
	SELECT a.* FROM ` + tempEvents + ` a
	LEFT JOIN bnets k ON k.bp = a.bp AND k.net = a.net
	WHERE a.det AND NOT a.svc AND a.net IS NOT NULL AND k.bp IS NULL
)`
	rows, err := q.QueryContext(ctx, with+`, x AS (
	SELECT cand.* FROM cand JOIN b USING (bp)
	WHERE b.n >= `+itoa(o.MinBaselineEvents)+` AND b.nets >= 1 AND NOT b.volatile
), known AS (
	SELECT bp, array_to_string(list_sort(list(net)), chr(31)) AS nets FROM bnets WHERE bp IN (SELECT bp FROM x) GROUP BY bp
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	array_to_string(list_sort(list_distinct(list(x.net || ' ' || x.ip))), chr(31)),
	any_value(b.n), any_value(known.nets),
	bool_or(x.ptype IN ('IAMUser', 'Root')),
	count_if(x.denied)
FROM x JOIN b USING (bp) JOIN known USING (bp)
GROUP BY x.bp, x.rp`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, netIPs, known string
		var baseN, denied int64
		var userLike bool
		if err := scanRow(rows, &s, []any{&bp, &rp}, &netIPs, &baseN, &known, &userLike, &denied); err != nil {
			return nil, err
		}
		sev := detect.Medium
		if userLike {
			sev = detect.High // a user's long-term key or console password, not a short-lived session
		}
		knownNets := split(known)
		desc := fmt.Sprintf("%s was used from %s, never seen in the baseline %s, where %s was used from %s: %s (%s)",
			who(rp, bp, split(s.keys)), describeNets(split(netIPs)), r.baseline, bp,
			plural(int64(len(knownNets)), "network"), listText(knownNets, 5), plural(baseN, "event"))
		if denied > 0 {
			desc += fmt.Sprintf("; %d of the %d calls from the new networks were denied", denied, s.count)
		}
		out = append(out, s.finding(RuleNewSourceIP, "Credentials used from a new network", sev, rp,
			[]string{"T1078.004"}, []string{"initial-access", "persistence", "defense-evasion"}, desc))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return out, noteVolatile(ctx, q, r, with)
}

// describeNets turns sorted "network address" pairs into
// "192.0.2.77, 192.0.2.144 (network 192.0.2.0/24)", one group per network.
func describeNets(pairs []string) string {
	var groups []string
	var net string
	var ips []string
	flush := func() {
		if net != "" {
			groups = append(groups, listText(ips, 5)+" (network "+net+")")
		}
	}
	for _, p := range pairs {
		n, ip, _ := strings.Cut(p, " ")
		if n != net {
			flush()
			net, ips = n, nil
		}
		ips = append(ips, ip)
	}
	flush()
	return listText(groups, 5)
}

// noteVolatile names the principals new-source-ip skipped although they
// called from new networks, so that a reader knows what was not judged.
func noteVolatile(ctx context.Context, q querier, r *runner, with string) error {
	rows, err := q.QueryContext(ctx, with+`
SELECT cand.bp, any_value(b.nets), any_value(b.novel), any_value(b.days), count(DISTINCT cand.net)
FROM cand JOIN b USING (bp)
WHERE b.volatile AND b.n >= `+itoa(r.opts.MinBaselineEvents)+`
GROUP BY cand.bp ORDER BY cand.bp`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var bp string
		var nets, novel, days, fresh int64
		if err := rows.Scan(&bp, &nets, &novel, &days, &fresh); err != nil {
			return err
		}
		names = append(names, fmt.Sprintf("%s (%s on %s, a new one on %d of the %d after the first; %d new now)",
			bp, plural(nets, "network"), plural(days, "day"), novel, max(days-1, 0), fresh))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(names) > 0 {
		r.notef("new-source-ip skipped %s whose baseline addresses are volatile (more than %d networks, or a new network on more than half of its days), where one more means little: %s",
			plural(int64(len(names)), "principal"), r.opts.MaxBaselineNetworks, listText(names, 10))
	}
	return nil
}
