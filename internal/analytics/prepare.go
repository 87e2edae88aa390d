package analytics

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The analytics read one narrow, connection-local table instead of events:
// each event of the two windows once, with who it was (as the baseline keys
// principals and as findings report them), where from, with what client,
// and what it did. Expensive parsing (user agents, addresses) is done once
// per distinct value, not once per event.
//
// Columns of tempEvents:
//
//	t       event_time
//	eid     event_id (evidence_file#record_index without one, as hunts name it)
//	det     in the detection window (else the baseline)
//	svc     AWS acting for itself (identity AWSService, or an AwsServiceEvent)
//	bp      the principal as the baseline knows it: a role session's role
//	rp      the principal as findings report it: the session itself
//	ptype   identity_type
//	akey    access_key_id
//	ip      source_ip; net its /24 or /48 (NULL for service names); pub public
//	uaid    the user agent's row in tempUserAgents; fam its family
//	region  aws_region; acct recipient_account_id
//	api     event_source:event_name; ename event_name
//	write   read_only is false
//	denied  the error is AccessDenied*, *Unauthorized* or *Forbidden*
//	err     error_code

// principalSQL returns the expressions for bp and rp. A role session is
// judged by its role's history (sessions are born and die within hours) but
// reported as the session. The AWSAccount copy a target account records of
// a cross-account call names only the caller's principal id; when that is a
// role session seen elsewhere in the case it is resolved to the same role
// and session ARN the caller's own copy shows. Events without an ARN
// (CheckMfa) are resolved through their principal id. Everything else is
// named as store.PrincipalSQL names it, so analytics and rules agree on who
// did what (a test checks that).
func principalSQL() (bp, rp string) {
	// storePrincipal is store.PrincipalSQL over the alias e; the store's
	// package is not imported here, so that this one builds without cgo.
	storePrincipal := `(CASE
		WHEN e.identity_arn IS NOT NULL THEN e.identity_arn
		WHEN e.identity_type = 'AWSService' AND e.invoked_by IS NOT NULL THEN e.invoked_by
		WHEN e.identity_type = 'AWSAccount' AND e.identity_account_id IS NOT NULL
			THEN 'account/' || e.identity_account_id || coalesce(' (' || e.principal_id || ')', '')
		WHEN e.user_name IS NOT NULL THEN e.user_name
		WHEN e.principal_id IS NOT NULL THEN e.principal_id
		WHEN e.invoked_by IS NOT NULL THEN e.invoked_by
		ELSE coalesce(e.identity_type, '') END)`
	resolved := `WHEN e.identity_arn IS NULL AND us.arn IS NOT NULL THEN us.arn`
	bp = `CASE
	WHEN e.identity_type IN ('AssumedRole', 'FederatedUser') AND e.session_issuer_arn IS NOT NULL THEN e.session_issuer_arn
	WHEN e.identity_type = 'AWSAccount' AND ro.role_arn IS NOT NULL THEN ro.role_arn
	WHEN e.identity_type = 'AWSAccount' AND e.identity_account_id IS NOT NULL AND e.principal_id IS NOT NULL
		THEN 'account/' || e.identity_account_id || ' (' || split_part(e.principal_id, ':', 1) || ')'
	` + resolved + `
	ELSE ` + storePrincipal + ` END`
	rp = `CASE
	WHEN e.identity_type = 'AWSAccount' AND ro.role_arn IS NOT NULL AND contains(e.principal_id, ':')
		THEN 'arn:' || split_part(ro.role_arn, ':', 2) || ':sts::' || split_part(ro.role_arn, ':', 5) || ':assumed-role/'
			|| regexp_extract(ro.role_arn, '[^/]+$') || '/' || split_part(e.principal_id, ':', 2)
	` + resolved + `
	ELSE ` + storePrincipal + ` END`
	return bp, rp
}

// deniedPattern recognises the error codes of a refused call:
// AccessDenied, AccessDeniedException, Client.UnauthorizedOperation,
// UnauthorizedAccess, Forbidden, ...
const deniedPattern = `(?i)accessdenied|unauthorized|forbidden`

func prepare(ctx context.Context, q querier, r *runner) error {
	o := r.opts
	bs, be, ds, de := sqlTime(o.BaselineStart), sqlTime(o.BaselineEnd), sqlTime(o.DetectStart), sqlTime(o.DetectEnd)
	inWindows := fmt.Sprintf("((event_time >= %s AND event_time < %s) OR (event_time >= %s AND event_time < %s))", bs, be, ds, de)
	uas := `CREATE OR REPLACE TEMP TABLE ` + tempUserAgents + ` AS
SELECT row_number() OVER (ORDER BY ua) AS uaid, ua, ` + familySQL("ua") + ` AS fam
FROM (SELECT DISTINCT user_agent AS ua FROM events WHERE user_agent IS NOT NULL AND ` + inWindows + `)`
	if _, err := q.ExecContext(ctx, uas); err != nil {
		return fmt.Errorf("analytics: user agents: %w", err)
	}
	bp, rp := principalSQL()
	evs := `CREATE OR REPLACE TEMP TABLE ` + tempEvents + ` AS
WITH roles AS (
	SELECT split_part(principal_id, ':', 1) AS role_id, min(session_issuer_arn) AS role_arn
	FROM events
	WHERE identity_type = 'AssumedRole' AND session_issuer_arn IS NOT NULL AND contains(principal_id, ':')
	GROUP BY 1
), users AS (
	SELECT principal_id, min(identity_arn) AS arn
	FROM events
	WHERE identity_type IN ('IAMUser', 'Root') AND identity_arn IS NOT NULL AND principal_id IS NOT NULL
	GROUP BY 1
), addrs AS (
	SELECT ip, net, ` + publicSQL("ip", "net") + ` AS pub
	FROM (SELECT ip, ` + networkSQL("ip") + ` AS net
		FROM (SELECT DISTINCT source_ip AS ip FROM events WHERE source_ip IS NOT NULL AND ` + inWindows + `))
), w AS ( -- the columns read, named: DuckDB does not prune a SELECT * here
	SELECT event_time, event_id, evidence_file, record_index, identity_type, event_type, session_issuer_arn, principal_id,
		identity_account_id, identity_arn, invoked_by, user_name, access_key_id, source_ip, user_agent, aws_region,
		recipient_account_id, event_source, event_name, read_only, error_code
	FROM events WHERE ` + inWindows + `
)
SELECT
	e.event_time AS t,
	coalesce(e.event_id, e.evidence_file || '#' || CAST(e.record_index AS VARCHAR)) AS eid,
	e.event_time >= ` + ds + ` AS det,
	coalesce(e.identity_type = 'AWSService' OR e.event_type = 'AwsServiceEvent', false) AS svc,
	` + bp + ` AS bp,
	` + rp + ` AS rp,
	e.identity_type AS ptype,
	e.access_key_id AS akey,
	e.source_ip AS ip,
	a.net,
	coalesce(a.pub, false) AS pub,
	u.uaid,
	u.fam,
	e.aws_region AS region,
	e.recipient_account_id AS acct,
	coalesce(e.event_source, '?') || ':' || coalesce(e.event_name, '?') AS api,
	e.event_name AS ename,
	coalesce(NOT e.read_only, false) AS write,
	coalesce(regexp_matches(e.error_code, ` + sqlString(deniedPattern) + `), false) AS denied,
	e.error_code AS err
FROM w e
LEFT JOIN addrs a ON a.ip = e.source_ip
LEFT JOIN ` + tempUserAgents + ` u ON u.ua = e.user_agent
LEFT JOIN roles ro ON e.identity_type = 'AWSAccount' AND ro.role_id = split_part(e.principal_id, ':', 1)
LEFT JOIN users us ON e.identity_arn IS NULL AND us.principal_id = e.principal_id`
	if _, err := q.ExecContext(ctx, evs); err != nil {
		return fmt.Errorf("analytics: prepare events: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT det, count(*), count(DISTINCT bp) FILTER (WHERE NOT svc) FROM `+tempEvents+` GROUP BY det`)
	if err != nil {
		return fmt.Errorf("analytics: window sizes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var det bool
		var n, p int64
		if err := rows.Scan(&det, &n, &p); err != nil {
			return fmt.Errorf("analytics: window sizes: %w", err)
		}
		w := &r.baseline
		if det {
			w = &r.detect
		}
		w.Events, w.Principals = n, p
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics: window sizes: %w", err)
	}
	if r.baseline.Events == 0 {
		r.notef("the baseline %s holds no events: every principal is new, so only new-principal and error-burst can say anything", r.baseline)
	}
	return nil
}

// dropTemp removes the temporary tables, even when ctx was cancelled, so a
// pooled connection does not carry them to its next user.
func dropTemp(ctx context.Context, q querier) {
	ctx = context.WithoutCancel(ctx)
	for _, t := range []string{tempEvents, tempUserAgents} {
		_, _ = q.ExecContext(ctx, `DROP TABLE IF EXISTS `+t) // best effort: nothing to report it to
	}
}

// sqlTime is a TIMESTAMP literal for t (UTC, microseconds).
func sqlTime(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func itoa(n int) string { return strconv.Itoa(n) }
