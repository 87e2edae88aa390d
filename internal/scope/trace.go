package scope

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// consoleSlack is how far a console session's creation time may sit from
// its sign-in event and still be that sign-in's session.
const consoleSlack = 60 * time.Second

// step follows one round of edges from the credentials, users and events
// added since the last round. It reports whether the scope grew.
func (t *tracer) step(ctx context.Context) (bool, error) {
	before := len(t.keys) + len(t.users) + len(t.extra) + len(t.idents) + len(t.edges)
	pending := t.pending
	t.pending = nil
	var extras []string
	for id := range t.extra {
		if !t.seenEv[id] {
			extras = append(extras, id)
		}
	}
	if len(pending) > 0 || len(extras) > 0 {
		if err := t.followCalls(ctx, pending, extras); err != nil {
			return false, err
		}
	}
	if err := t.followSourceIdentities(ctx); err != nil {
		return false, err
	}
	for _, u := range t.users {
		if u.done {
			continue
		}
		u.done = true
		if err := t.followConsole(ctx, u); err != nil {
			return false, err
		}
	}
	return len(t.keys)+len(t.users)+len(t.extra)+len(t.idents)+len(t.edges) > before || len(t.pending) > 0, nil
}

type call struct {
	id, name, source, account, shared, arn, userName, key string
	at                                                    time.Time
	newTemp, newKey, newUser, reqUser, srcIdent           string
	roleName, roleAccount                                 string
	principalID, profileUser, newRoleARN                  string
	sessionCreated                                        time.Time
}

// followCalls finds the credential-handing calls made with the given keys
// (or that are the given events) and follows each.
func (t *tracer) followCalls(ctx context.Context, keys, events []string) error {
	rows, err := t.query(ctx, `SELECT coalesce(event_id, ''), event_time, event_name, coalesce(event_source, ''),
  coalesce(recipient_account_id, identity_account_id, ''), coalesce(shared_event_id, ''), coalesce(identity_arn, ''),
  coalesce(user_name, ''), coalesce(access_key_id, ''),
  coalesce(response_elements->>'$.credentials.accessKeyId', ''),
  coalesce(response_elements->>'$.accessKey.accessKeyId', ''),
  coalesce(response_elements->>'$.user.userName', ''),
  coalesce(request_parameters->>'$.userName', ''),
  coalesce(request_parameters->>'$.sourceIdentity', ''),
  coalesce(request_parameters->>'$.roleName', ''),
  coalesce(request_parameters->>'$.accountId', ''),
  coalesce(principal_id, ''), coalesce(response_elements->>'$.loginProfile.userName', ''), session_created,
  coalesce(response_elements->>'$.role.arn', '')
FROM events
WHERE error_code IS NULL AND event_name IN (`+placeholders(len(edgeCalls))+`)
  AND (access_key_id IN (SELECT unnest(?::VARCHAR[])) OR event_id IN (SELECT unnest(?::VARCHAR[])))
  AND `+t.window+`
ORDER BY event_time, event_id`, append(anys(edgeCalls), keys, events)...)
	if err != nil {
		return fmt.Errorf("follow calls: %w", err)
	}
	var calls []call
	for rows.Next() {
		var c call
		var at, created sql.NullTime
		if err := rows.Scan(&c.id, &at, &c.name, &c.source, &c.account, &c.shared, &c.arn, &c.userName, &c.key,
			&c.newTemp, &c.newKey, &c.newUser, &c.reqUser, &c.srcIdent, &c.roleName, &c.roleAccount,
			&c.principalID, &c.profileUser, &created, &c.newRoleARN); err != nil {
			rows.Close()
			return err
		}
		c.at, c.sessionCreated = at.Time, created.Time
		calls = append(calls, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range events {
		t.seenEv[id] = true
	}
	for _, c := range calls {
		if c.id != "" && t.seenEv["call:"+c.id] {
			continue
		}
		t.seenEv["call:"+c.id] = true
		// who made the call: its key, else (federation calls carry none)
		// the caller as the record names it
		from := c.key
		for _, alt := range []string{c.arn, c.principalID, c.userName, "seed"} {
			if from == "" {
				from = alt
			}
		}
		edge := func(to, how string) *Edge {
			return &Edge{From: from, To: to, How: how, EventID: c.id, Time: timeText(c.at), Account: c.account}
		}
		switch c.name {
		case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetFederationToken":
			if c.newTemp == "" {
				t.notes = append(t.notes, fmt.Sprintf("%s at %s (event %s) by %s has no credentials in its record; the session it opened is not followed", c.name, timeText(c.at), c.id, from))
			}
			t.addKey(c.newTemp, edge(c.newTemp, c.name))
			if c.srcIdent != "" {
				if _, ok := t.idents[c.srcIdent]; !ok {
					t.idents[c.srcIdent] = &identSet{by: from, event: c.id, at: c.at}
				}
			}
			if c.shared != "" {
				// the other account's copy of a cross-account call
				if err := t.addExtra(ctx, `shared_event_id = ?`, c.shared); err != nil {
					return err
				}
			}
		case "CreateAccessKey":
			if c.newKey == "" {
				// the response was not logged: the user's first long-term
				// key used after the call is the likeliest new one
				name := c.reqUser
				if name == "" {
					name = c.userName
				}
				k, err := t.firstKeyAfter(ctx, c.account, name, c.at)
				if err != nil {
					return err
				}
				msg := fmt.Sprintf("CreateAccessKey at %s (event %s) has no key in its record", timeText(c.at), c.id)
				if k != "" {
					msg += fmt.Sprintf("; %s, the first long-term key of user %s used after it, is taken as the new key (inferred)", k, name)
					t.addKey(k, edge(k, "CreateAccessKey (inferred)"))
				}
				t.notes = append(t.notes, msg)
				continue
			}
			t.addKey(c.newKey, edge(c.newKey, c.name))
		case "CreateUser":
			name := c.newUser
			if name == "" {
				name = c.reqUser
			}
			t.addUser(c.account, name, c.at, edge(userNode(c.account, name), c.name))
		case "CreateLoginProfile", "UpdateLoginProfile":
			name := c.profileUser
			if name == "" {
				name = c.reqUser
			}
			if name == "" {
				name = c.userName // changing one's own password
			}
			t.addUser(c.account, name, c.at, edge(userNode(c.account, name), c.name))
		case "GetSigninToken":
			// the console session it opens is the same identity, keeps the
			// federated credentials' creation time, and lasts at most 36 h
			if c.sessionCreated.IsZero() {
				t.notes = append(t.notes, fmt.Sprintf("GetSigninToken at %s (event %s): the session's creation time is not in the record, so its console session is not followed", timeText(c.at), c.id))
				continue
			}
			cond := `identity_arn = ? AND session_created BETWEEN ? AND ? AND event_time <= ?`
			args := []any{c.arn, c.sessionCreated.Add(-consoleSlack), c.sessionCreated.Add(consoleSlack), c.at.Add(36 * time.Hour)}
			if err := t.followSessions(ctx, cond, args, c.at, c.key, edge, "GetSigninToken", false); err != nil {
				return err
			}
			// and the console sign-in it made
			if err := t.addExtra(ctx, `event_name = 'ConsoleLogin' AND identity_arn = ? AND event_time BETWEEN ? AND ?`, c.arn, c.at, c.at.Add(15*time.Minute)); err != nil {
				return err
			}
		case "GetRoleCredentials":
			// IAM Identity Center: the role session that the portal user's
			// credentials open in the account asked for
			if c.roleName == "" || c.roleAccount == "" || c.userName == "" {
				t.notes = append(t.notes, fmt.Sprintf("GetRoleCredentials at %s (event %s) does not name the role, account and user; the session it opened is not followed", timeText(c.at), c.id))
				continue
			}
			// AWSReservedSSO_<permission set>_<hex suffix>/<user>, exactly:
			// a longer permission set name sharing the prefix is another set
			re := "^arn:aws:sts::" + regexp.QuoteMeta(c.roleAccount) + ":assumed-role/AWSReservedSSO_" + regexp.QuoteMeta(c.roleName) + "_[0-9a-f]+/" + regexp.QuoteMeta(c.userName) + "$"
			if err := t.followSessions(ctx, `regexp_full_match(identity_arn, ?)`, []any{re}, c.at, "", edge, "GetRoleCredentials", true); err != nil {
				return err
			}
		case "CreateRole":
			// a role the attacker made is the attacker's: whoever assumes it
			// afterwards (the other account named in its trust policy) is
			if c.newRoleARN == "" {
				continue
			}
			if err := t.followRole(ctx, c.newRoleARN, c.at, edge); err != nil {
				return err
			}
		}
	}
	return nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// followSessions adds the temporary keys of sessions matching cond that were
// created at (or just after) at: the sessions a console sign-in or a
// federation call opened.
//
// created says whether the session must have been created at that moment
// (a sign-in opens a new session); a federation console session keeps the
// creation time of the credentials it came from, so it is matched by
// identity and time only.
func (t *tracer) followSessions(ctx context.Context, cond string, args []any, at time.Time, except string, edge func(to, how string) *Edge, how string, created bool) error {
	if at.IsZero() {
		return nil
	}
	when := "event_time >= ?"
	args = append(args, except, at.Add(-consoleSlack))
	if created {
		when += " AND session_created BETWEEN ? AND ?"
		args = append(args, at.Add(-consoleSlack), at.Add(consoleSlack))
	}
	rows, err := t.query(ctx, `SELECT access_key_id FROM events
WHERE `+cond+` AND access_key_id IS NOT NULL AND access_key_id <> ?
  AND `+when+`
  AND `+t.window+`
GROUP BY access_key_id ORDER BY min(event_time), access_key_id`, args...)
	if err != nil {
		return fmt.Errorf("follow sessions: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	for _, k := range keys {
		t.addKey(k, edge(k, how))
	}
	return rows.Err()
}

// followSourceIdentities adds sessions carrying a sourceIdentity that a
// scoped call set: AWS keeps it through every role chained after. Only
// sessions created after the call count, and a value already in use before
// it (an identity provider's user name, say) is not followed at all: it
// names a person, not the attacker's chain.
func (t *tracer) followSourceIdentities(ctx context.Context) error {
	for value, set := range t.idents {
		if set.done {
			continue
		}
		set.done = true
		var before int64
		if err := t.conn.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE source_identity = ? AND session_created < ?`,
			value, set.at.Add(-consoleSlack)).Scan(&before); err != nil {
			return err
		}
		if before > 0 {
			t.notes = append(t.notes, fmt.Sprintf("sourceIdentity %q set at %s (event %s) was in use before that by sessions outside the scope; sessions carrying it are not followed", value, timeText(set.at), set.event))
			continue
		}
		rows, err := t.query(ctx, `SELECT access_key_id, min(event_time), min(event_id) FROM events
WHERE source_identity = ? AND session_created >= ? AND access_key_id IS NOT NULL AND `+t.window+`
GROUP BY access_key_id ORDER BY 2, 1`, value, set.at.Add(-consoleSlack))
		if err != nil {
			return fmt.Errorf("follow source identities: %w", err)
		}
		type hit struct {
			key, id string
			at      time.Time
		}
		var hits []hit
		for rows.Next() {
			var h hit
			var at sql.NullTime
			if err := rows.Scan(&h.key, &at, &h.id); err != nil {
				rows.Close()
				return err
			}
			h.at = at.Time
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, h := range hits {
			t.addKey(h.key, &Edge{From: set.by, To: h.key, How: "sourceIdentity " + value + " (inferred)", EventID: h.id, Time: timeText(h.at)})
		}
	}
	return nil
}

// firstKeyAfter is the first long-term key of a user used after at.
func (t *tracer) firstKeyAfter(ctx context.Context, account, name string, at time.Time) (string, error) {
	var k sql.NullString
	err := t.conn.QueryRowContext(ctx, `SELECT access_key_id FROM events
WHERE lower(user_name) = lower(?) AND coalesce(identity_account_id, recipient_account_id) = ? AND access_key_id LIKE 'AKIA%' AND event_time >= ?
ORDER BY event_time, event_id LIMIT 1`, name, account, at).Scan(&k)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return k.String, err
}

// followConsole adds a controlled user's successful console sign-ins since
// it came under control, and the console sessions they opened.
func (t *tracer) followConsole(ctx context.Context, u *user) error {
	since := u.since
	rows, err := t.query(ctx, `SELECT event_id, event_time FROM events
WHERE event_name = 'ConsoleLogin' AND lower(user_name) = lower(?) AND coalesce(identity_account_id, recipient_account_id) = ?
  AND event_time >= ? AND coalesce(response_elements->>'$.ConsoleLogin', '') = 'Success' AND error_code IS NULL
  AND event_id IS NOT NULL AND `+t.window+`
ORDER BY event_time, event_id`, u.name, u.account, since)
	if err != nil {
		return fmt.Errorf("follow console: %w", err)
	}
	type login struct {
		id string
		at time.Time
	}
	var logins []login
	for rows.Next() {
		var l login
		if err := rows.Scan(&l.id, &l.at); err != nil {
			rows.Close()
			return err
		}
		logins = append(logins, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	node := userNode(u.account, u.name)
	for _, l := range logins {
		t.extra[l.id] = true
		t.seenEv[l.id] = true
		l := l
		edge := func(to, how string) *Edge {
			return &Edge{From: node, To: to, How: how, EventID: l.id, Time: timeText(l.at), Account: u.account}
		}
		if err := t.followSessions(ctx, `lower(user_name) = lower(?) AND coalesce(identity_account_id, recipient_account_id) = ? AND access_key_id LIKE 'ASIA%'`,
			[]any{u.name, u.account}, l.at, "", edge, "ConsoleLogin", true); err != nil {
			return err
		}
	}
	return nil
}

// followRole follows every successful AssumeRole into a role the scope
// created, after it was created: each copy's new credentials.
func (t *tracer) followRole(ctx context.Context, roleARN string, created time.Time, edge func(to, how string) *Edge) error {
	rows, err := t.query(ctx, `SELECT coalesce(event_id, ''), event_time, response_elements->>'$.credentials.accessKeyId' FROM events
WHERE event_name LIKE 'AssumeRole%' AND error_code IS NULL AND (request_parameters->>'$.roleArn') = ? AND event_time >= ?
  AND (response_elements->>'$.credentials.accessKeyId') IS NOT NULL AND `+t.window+`
ORDER BY event_time, event_id`, roleARN, created)
	if err != nil {
		return fmt.Errorf("follow role: %w", err)
	}
	type got struct {
		id, key string
		at      time.Time
	}
	var list []got
	for rows.Next() {
		var g got
		var at sql.NullTime
		if err := rows.Scan(&g.id, &at, &g.key); err != nil {
			rows.Close()
			return err
		}
		g.at = at.Time
		list = append(list, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range list {
		t.extra[g.id] = true
		t.seenEv["call:"+g.id] = true
		e := edge(g.key, "AssumeRole of a role the scope created")
		e.EventID, e.Time = g.id, timeText(g.at)
		t.addKey(g.key, e)
	}
	return nil
}
