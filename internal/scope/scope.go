// Package scope follows a compromise from one indicator (an access key, a
// principal, a source IP) to every credential derived from it: the
// temporary keys of AssumeRole and its kin, long-term keys created with
// CreateAccessKey, users created or taken over and their console sessions,
// role chains across accounts. It follows credentials, not role names: other
// callers' sessions of the same role stay out. Then it reports what the
// credentials in scope did: from where, with what, which writes, which
// resources changed, which data was read.
package scope

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// Seed is where scoping starts.
type Seed struct {
	Kind  string `json:"kind"` // "key", "principal" or "ip"
	Value string `json:"value"`
}

// Options say what to scope.
type Options struct {
	Seeds        []Seed
	Since, Until time.Time // the window: [Since, Until), zero for open
	// MaxListed caps the lists of events in the report (write events);
	// the counts are always whole. Default 1000.
	MaxListed int
}

// ErrNoSeed means the seed matched nothing in the case's events.
var ErrNoSeed = errors.New("the seed matches no event in the case")

// maxRounds bounds the traversal; a real chain is a handful of hops.
const maxRounds = 64

// edgeCalls are the calls that hand out a credential or a principal.
var edgeCalls = []string{
	"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetFederationToken",
	"CreateAccessKey", "CreateUser", "CreateLoginProfile", "UpdateLoginProfile", "GetSigninToken", "GetRoleCredentials",
	"CreateRole",
}

// tracer is one scoping in progress on its own connection (its scratch
// tables are temporary).
type tracer struct {
	conn   *sql.Conn
	opts   Options
	window string // SQL condition of the time window
	args   []any  // its arguments

	keys    map[string]*cred // credentials in scope, by access key id
	users   map[string]*user // users the attacker controls, by account/name
	extra   map[string]bool  // events in scope that no scoped key made
	edges   []Edge
	seenEv  map[string]bool      // edge events already taken
	idents  map[string]*identSet // sourceIdentity values set by scoped credentials
	portal  map[string]bool      // Identity Center role sessions already followed
	notes   []string
	pending []string // keys whose calls are still to be examined
}

type cred struct {
	key   string
	via   *Edge
	order int
}

// identSet is a sourceIdentity a scoped call set: who set it, and when.
type identSet struct {
	by, event string
	at        time.Time
	done      bool
}

type user struct {
	account, name string
	since         time.Time
	via           *Edge
	done          bool
}

// Run scopes a compromise in a case.
func Run(ctx context.Context, st *store.Store, opts Options) (*Report, error) {
	if len(opts.Seeds) == 0 {
		return nil, errors.New("scope needs a seed: an access key, a principal or an IP")
	}
	if opts.MaxListed <= 0 {
		opts.MaxListed = 1000
	}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	t := &tracer{conn: conn, opts: opts, keys: map[string]*cred{}, users: map[string]*user{}, extra: map[string]bool{},
		seenEv: map[string]bool{}, idents: map[string]*identSet{}, portal: map[string]bool{}}
	t.window, t.args = "true", nil
	if !opts.Since.IsZero() {
		t.window += " AND event_time >= ?"
		t.args = append(t.args, opts.Since.UTC())
	}
	if !opts.Until.IsZero() {
		t.window += " AND event_time < ?"
		t.args = append(t.args, opts.Until.UTC())
	}
	if err := t.seed(ctx); err != nil {
		return nil, err
	}
	if len(t.keys) == 0 && len(t.extra) == 0 && len(t.users) == 0 {
		return nil, ErrNoSeed
	}
	for round := 0; ; round++ {
		if round == maxRounds {
			t.notes = append(t.notes, fmt.Sprintf("stopped following after %d rounds; the chain may go on", maxRounds))
			break
		}
		grew, err := t.step(ctx)
		if err != nil {
			return nil, err
		}
		if !grew {
			break
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS scope_rows`)
	return t.report(ctx)
}

// q runs a query with the window's arguments after its own.
func (t *tracer) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, q, append(args, t.args...)...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *tracer) addKey(key string, via *Edge) bool {
	if key == "" {
		return false
	}
	if _, ok := t.keys[key]; ok {
		return false
	}
	t.keys[key] = &cred{key: key, via: via, order: len(t.keys)}
	t.pending = append(t.pending, key)
	if via != nil {
		t.edges = append(t.edges, *via)
	}
	return true
}

func (t *tracer) addUser(account, name string, since time.Time, via *Edge) bool {
	if account == "" || name == "" {
		return false
	}
	// IAM user names are unique regardless of case
	id := account + "/" + strings.ToLower(name)
	if via != nil {
		t.edges = append(t.edges, *via)
	}
	if u, ok := t.users[id]; ok {
		if since.Before(u.since) {
			u.since, u.done = since, false
		}
		return false
	}
	t.users[id] = &user{account: account, name: name, since: since, via: via}
	return true
}

func userNode(account, name string) string { return "user:" + account + "/" + strings.ToLower(name) }

// seed turns the seeds into the first credentials.
func (t *tracer) seed(ctx context.Context) error {
	for _, s := range t.opts.Seeds {
		switch s.Kind {
		case "key":
			var all int64
			var first, last sql.NullTime
			if err := t.conn.QueryRowContext(ctx, `SELECT count(*), min(event_time), max(event_time) FROM events WHERE access_key_id = ?`, s.Value).Scan(&all, &first, &last); err != nil {
				return err
			}
			if all == 0 {
				return ErrNoSeed
			}
			n, err := t.count(ctx, `access_key_id = ?`, s.Value)
			if err != nil {
				return err
			}
			if n == 0 {
				t.notes = append(t.notes, fmt.Sprintf("access key %s made no call in the window; it was used from %s to %s", s.Value, timeText(first.Time), timeText(last.Time)))
			}
			t.addKey(s.Value, nil)
		case "principal":
			// the principal's own keys; for a role ARN, the sessions of
			// that role (asked for by name, so taken whole)
			rows, err := t.query(ctx, `SELECT access_key_id, min(event_time), min(event_id) FROM events
WHERE (identity_arn = ? OR session_issuer_arn = ?) AND access_key_id IS NOT NULL AND `+t.window+`
GROUP BY access_key_id ORDER BY 2, 1`, s.Value, s.Value)
			if err != nil {
				return err
			}
			err = t.seedRows(rows, "principal "+s.Value, "used-by-principal")
			if err != nil {
				return err
			}
			if acct, name, ok := iamUser(s.Value); ok {
				t.addUser(acct, name, t.opts.Since, nil)
			}
			if err := t.addExtra(ctx, `(identity_arn = ? OR session_issuer_arn = ?) AND access_key_id IS NULL`, s.Value, s.Value); err != nil {
				return err
			}
			// another account's copy of a cross-account call names a role
			// session only as AWSAccount with principalId ROLEID:SESSION:
			// with only that account's logs, it is the link
			if acct, session, ok := roleSession(s.Value); ok {
				if err := t.addExtra(ctx, `identity_type = 'AWSAccount' AND identity_account_id = ? AND principal_id LIKE ? ESCAPE '\'`, acct, "%:"+likeEscape(session)); err != nil {
					return err
				}
			}
		case "ip":
			// calls without a key from there first (sign-ins, SAML and web
			// identity federation, Identity Center), so that the sessions
			// they opened are shown as obtained by them
			if err := t.addExtra(ctx, `source_ip = ? AND access_key_id IS NULL`, s.Value); err != nil {
				return err
			}
			if _, err := t.step(ctx); err != nil {
				return err
			}
			rows, err := t.query(ctx, `SELECT access_key_id, min(event_time), min(event_id) FROM events
WHERE source_ip = ? AND access_key_id IS NOT NULL AND `+t.window+`
GROUP BY access_key_id ORDER BY 2, 1`, s.Value)
			if err != nil {
				return err
			}
			if err := t.seedRows(rows, "ip "+s.Value, "used-from-ip"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown seed kind %q", s.Kind)
		}
	}
	return nil
}

func (t *tracer) seedRows(rows *sql.Rows, from, how string) error {
	defer rows.Close()
	for rows.Next() {
		var key, id string
		var at sql.NullTime
		if err := rows.Scan(&key, &at, &id); err != nil {
			return err
		}
		t.addKey(key, &Edge{From: "seed", To: key, How: how, EventID: id, Time: timeText(at.Time)})
	}
	return rows.Err()
}

func (t *tracer) count(ctx context.Context, cond string, args ...any) (int64, error) {
	var n int64
	err := t.conn.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+cond+` AND `+t.window, append(args, t.args...)...).Scan(&n)
	return n, err
}

// addExtra puts events no scoped key made into the scope.
func (t *tracer) addExtra(ctx context.Context, cond string, args ...any) error {
	rows, err := t.query(ctx, `SELECT event_id FROM events WHERE `+cond+` AND event_id IS NOT NULL AND `+t.window, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		t.extra[id] = true
	}
	return rows.Err()
}

// iamUser reads an IAM user's ARN.
func iamUser(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "user/") {
		return "", "", false
	}
	p := strings.TrimPrefix(parts[5], "user/")
	return parts[4], p[strings.LastIndex(p, "/")+1:], true
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// roleSession reads an assumed-role session's ARN
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
func roleSession(arn string) (account, session string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return "", "", false
	}
	segs := strings.Split(parts[5], "/")
	if len(segs) < 3 || segs[len(segs)-1] == "" {
		return "", "", false
	}
	return parts[4], segs[len(segs)-1], true
}
