package analytics

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
)

// newUserAgent: a principal with a baseline calls with a client family
// (useragent.go) it never used in the baseline. Versions change weekly and
// are ignored; the family changes when someone else, or something else,
// holds the credentials: a developer's aws-cli key suddenly speaking
// through Kali's boto3 or a secret scanner.
func newUserAgent(ctx context.Context, q querier, r *runner) ([]hit, error) {
	rows, err := q.QueryContext(ctx, `WITH b AS (
	SELECT bp, count(*) AS n FROM `+tempEvents+` WHERE NOT det AND NOT svc GROUP BY bp
), bf AS (
	SELECT DISTINCT bp, fam FROM `+tempEvents+` WHERE NOT det AND NOT svc AND fam IS NOT NULL
), x AS (
	SELECT a.* FROM `+tempEvents+` a
	JOIN b USING (bp)
	LEFT JOIN bf ON bf.bp = a.bp AND bf.fam = a.fam
	WHERE a.det AND NOT a.svc AND a.fam IS NOT NULL AND bf.bp IS NULL AND b.n >= `+itoa(r.opts.MinBaselineEvents)+`
), known AS (
	SELECT bp, array_to_string(list_sort(list(fam)), chr(31)) AS fams FROM bf WHERE bp IN (SELECT bp FROM x) GROUP BY bp
), fams AS (
	SELECT bp, rp, array_to_string(list(fam || chr(30) || example || chr(30) || CAST(n AS VARCHAR) ORDER BY fam), chr(31)) AS fams
	FROM (SELECT x.bp, x.rp, x.fam, min(u.ua) AS example, count(*) AS n
		FROM x JOIN `+tempUserAgents+` u USING (uaid) GROUP BY x.bp, x.rp, x.fam)
	GROUP BY bp, rp
)
SELECT x.bp, x.rp,
	`+stdAggs("x")+`,
	any_value(fams.fams), any_value(b.n), coalesce(any_value(known.fams), '')
FROM x JOIN b USING (bp) JOIN fams USING (bp, rp) LEFT JOIN known USING (bp)
GROUP BY x.bp, x.rp`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var s std
		var bp, rp, fams, known string
		var baseN int64
		if err := scanRow(rows, &s, []any{&bp, &rp}, &fams, &baseN, &known); err != nil {
			return nil, err
		}
		sev := detect.Low
		var parts []string
		for _, f := range split(fams) {
			fields := strings.SplitN(f, "\x1e", 3)
			if len(fields) != 3 {
				continue
			}
			name, example := fields[0], fields[1]
			n, _ := strconv.ParseInt(fields[2], 10, 64)
			switch off, transfer := familyKind(name); {
			case off:
				sev = detect.High
			case transfer && sev.Rank() < detect.Medium.Rank():
				sev = detect.Medium
			}
			parts = append(parts, fmt.Sprintf("%s (%s, e.g. %q)", name, plural(n, "call"), truncate(example, 120)))
		}
		knownFams := split(known)
		before := "no user agent at all"
		if len(knownFams) > 0 {
			before = listText(knownFams, 8)
		}
		desc := fmt.Sprintf("%s called with %s: never seen in the baseline %s, where %s used %s (%s)",
			who(rp, bp, split(s.keys)), strings.Join(parts, ", "), r.baseline, bp, before, plural(baseN, "event"))
		out = append(out, s.finding(RuleNewUserAgent, "Credentials used with a new kind of client", sev, rp,
			[]string{"T1078.004"}, []string{"initial-access", "defense-evasion"}, desc))
	}
	return out, rows.Err()
}
