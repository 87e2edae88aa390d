package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond"
)

// respondFlags are the flags contain and undo share.
type respondFlags struct {
	caseDir, format, account string
	apply                    bool
	target                   awsTarget
}

// register adds the flags contain, undo and collect instance share; the
// case, --apply and --region help say what each does with them (no
// --region when regionHelp is "").
func (f *respondFlags) register(fs *flag.FlagSet, caseHelp, applyHelp, regionHelp string) {
	fs.StringVar(&f.caseDir, "case", "", caseHelp)
	fs.BoolVar(&f.apply, "apply", false, applyHelp)
	fs.StringVar(&f.format, "format", "text", "the plan as text or json")
	fs.StringVar(&f.account, "account", "", "the account the credentials must be for (refused otherwise)")
	if regionHelp != "" {
		fs.StringVar(&f.target.region, "region", "", regionHelp)
	}
	fs.StringVar(&f.target.profile, "profile", "", "the AWS profile to use (default: the standard credential chain)")
	fs.StringVar(&f.target.roleARN, "role-arn", "", "assume this responder role first")
}

func runContain(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "contain", "key AKIA... | user NAME | role NAME | instance i-... --case DIR [--apply] [--format text|json]")
	var f respondFlags
	f.register(fs, "the case folder (its id names the policies and tags; actions.jsonl records what is done); or HARRIER_CASE", "make the changes (without it, only the plan is printed)", "the region of the regional calls (EC2, Auto Scaling, ELB); default the configuration's")
	nacl := fs.Bool("nacl", false, "instance: also replace the subnet's network ACL with a deny-all one (cuts tracked connections, and the whole subnet)")
	detachProfile := fs.Bool("detach-profile", false, "instance: also detach its IAM instance profile")
	detachProfiles := fs.Bool("detach-profiles", false, "role: also take the role out of every instance profile")
	allowSelf := fs.Bool("allow-self", false, "contain even the credentials running harrier (your own user, key, role or instance): refused otherwise")
	printPolicy := fs.Bool("print-iam-policy", false, "print the least-privilege IAM policy contain and undo need, and stop")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *printPolicy {
		fmt.Fprint(e.stdout, respond.IAMPolicy)
		return nil
	}
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return err
	}
	if err := needAccount(f); err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("contain needs what to contain: key AKIA... | user NAME | role NAME | instance i-...")
	}
	kind, name := pos[0], pos[1]
	switch kind {
	case "key", "user", "role", "instance":
	default:
		return usageErr("contain %s: unknown target (key, user, role or instance)", kind)
	}
	if *nacl && kind != "instance" || *detachProfile && kind != "instance" || *detachProfiles && kind != "role" {
		return usageErr("--nacl and --detach-profile are for instances, --detach-profiles for roles")
	}
	dir, err := e.caseDir(f.caseDir)
	if err != nil {
		return err
	}
	c, err := casefile.Open(dir, version(), true)
	if err != nil {
		return err
	}
	defer c.Close()
	f.target.session = "harrier-contain"
	_, clients, err := f.target.respondSetup(ctx)
	if err != nil {
		return err
	}
	now := c.Now().UTC().Truncate(time.Second)
	p, err := respond.Begin(ctx, clients, c.Meta.ID, kind+" "+name, now)
	if err != nil {
		return err
	}
	p.AllowSelf = *allowSelf
	if f.account != "" && f.account != p.Account {
		return fmt.Errorf("%w: --account %s, the credentials are for %s (%s); nothing was done", respond.ErrWrongAccount, f.account, p.Account, safe(p.Caller))
	}
	switch kind {
	case "key":
		err = respond.PlanKey(ctx, clients, p, name)
		if errors.Is(err, respond.ErrTemporaryKey) {
			return temporaryKey(ctx, e, dir, name, err)
		}
	case "user":
		err = respond.PlanUser(ctx, clients, p, name)
	case "role":
		var sessions []respond.Session
		sessions, err = roleSessions(ctx, dir, name)
		if err != nil {
			fmt.Fprintf(e.stderr, "harrier: note: the role's sessions in the case could not be listed: %s\n", safe(err.Error()))
		}
		err = respond.PlanRole(ctx, clients, p, name, respond.RoleOptions{Now: now, DetachProfiles: *detachProfiles, Sessions: sessions})
	case "instance":
		err = respond.PlanInstance(ctx, clients, p, name, respond.InstanceOptions{NACL: *nacl, DetachProfile: *detachProfile})
	}
	if err != nil {
		return err
	}
	if kind == "key" || kind == "user" {
		if err := noteKeySessions(ctx, dir, p); err != nil {
			fmt.Fprintf(e.stderr, "harrier: note: the role sessions the keys obtained could not be listed from the case: %s\n", safe(err.Error()))
		}
	}
	for _, n := range p.Notes {
		if strings.HasPrefix(n, "WARNING: ") {
			fmt.Fprintf(e.stderr, "harrier: %s\n", safe(n))
		}
	}
	return showAndApply(ctx, e, c, clients, p, f, "contain")
}

// needAccount refuses --apply without --account: the plan is rebuilt from
// live state when applied, with whatever credentials the environment
// gives, and a wrong default profile must not change another account.
func needAccount(f respondFlags) error {
	if f.apply && f.account == "" {
		return usageErr("--apply needs --account ID, the account the changes are for: the plan is rebuilt and re-checked live when applied, and other credentials must not act on another account")
	}
	return nil
}

// showAndApply prints the plan, and with --apply applies it, recording each
// action in the case, then prints what was and was not done.
func showAndApply(ctx context.Context, e *env, c *casefile.Case, clients *respond.Clients, p *respond.Plan, f respondFlags, kind string) error {
	if f.format == "json" {
		b, err := p.JSON()
		if err != nil {
			return err
		}
		e.stdout.Write(b)
	} else {
		writePlan(e.stdout, p)
	}
	if !f.apply {
		fmt.Fprintln(e.stderr, "harrier: nothing was changed: this is the plan; run again with --apply to make these calls")
		return nil
	}
	res, err := respond.Apply(ctx, clients, p, respond.ApplyOptions{Operator: c.Op, Now: c.Now, Record: func(a respond.Action) error { return c.AppendAction(a) }, Kind: kind})
	writeOutcomes(e.stderr, c, res)
	recordActionsHead(e, c, p.ID, res)
	return err
}

// recordActionsHead records the audit log's head in the case after a run
// that recorded anything (casefile.RecordActionsHead), so a later undo can
// tell the log was edited consistently to its end. A failure is a warning:
// the actions themselves are on record.
func recordActionsHead(e *env, c *casefile.Case, run string, res respond.Result) {
	for _, o := range res.Outcomes {
		if o.ActionID == "" {
			continue
		}
		if _, err := c.RecordActionsHead(run); err != nil {
			fmt.Fprintf(e.stderr, "harrier: warning: the audit log's head could not be recorded in the case: %s\n", safe(err.Error()))
		}
		return
	}
}

// writePlan prints a plan for a responder: who and where, then each step
// with its state before, its effect and its undo, then what to know.
func writePlan(w io.Writer, p *respond.Plan) {
	fmt.Fprintf(w, "== Plan %s: %s\n", p.ID, safe(p.Target))
	fmt.Fprintf(w, "as %s (account %s), region %s, case %s, %s\n", safe(p.Caller), p.Account, p.Region, safe(p.Case), p.Created.Format(time.RFC3339))
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, "\nno AWS call to make")
	}
	for _, s := range p.Steps {
		fmt.Fprintf(w, "\n%s. %s:%s on %s\n", s.ID, s.Service, s.API, safe(s.Resource))
		shown := respond.RedactParams(s.Params)
		var params []string
		for _, k := range sortedKeys(shown) {
			params = append(params, k+"="+safe(shown[k]))
		}
		for _, k := range sortedKeys(s.From) {
			params = append(params, k+"=<"+s.From[k]+" of step "+strings.Split(s.From[k], ".")[0]+">")
		}
		fmt.Fprintf(w, "   request: %s\n", strings.Join(params, " "))
		if s.Before != nil {
			fmt.Fprintf(w, "   before:  %s\n", clip(safe(s.Before.String()), 300))
		} else {
			fmt.Fprintf(w, "   before:  made by an earlier step (read when applied)\n")
		}
		fmt.Fprintf(w, "   effect:  %s\n", safe(s.Effect))
		if s.Undo != "" {
			fmt.Fprintf(w, "   undo:    %s\n", safe(s.Undo))
		}
		if s.Skip != "" {
			fmt.Fprintf(w, "   SKIPPED: %s\n", safe(s.Skip))
		}
	}
	if len(p.Reach) > 0 {
		fmt.Fprintf(w, "\nwhat the principal is granted (the deny-all overrides it; review before lifting it):\n")
		for _, r := range p.Reach {
			fmt.Fprintf(w, "  %s\n", safe(r))
		}
	}
	if len(p.Sessions) > 0 {
		fmt.Fprintf(w, "\nsessions seen in the case that the revocation cuts off (%d):\n", len(p.Sessions))
		t := newTable(w, "  ISSUED", "EVENT", "SESSION", "KEY", "SOURCE IPS")
		for _, s := range p.Sessions {
			t.row("  "+s.Issued.Format(time.RFC3339), s.Event, s.ARN, s.AccessKeyID, strings.Join(s.SourceIPs, ","))
		}
		t.flush()
	}
	if len(p.Neighbours) > 0 {
		fmt.Fprintf(w, "\nother network interfaces in the subnet (a network ACL would cut them off too: the blast radius of --nacl):\n")
		for _, n := range p.Neighbours {
			fmt.Fprintf(w, "  %s\n", safe(n))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", safe(n))
	}
}

// writeOutcomes says, step by step, what was done (with action ids) and
// what was not.
func writeOutcomes(w io.Writer, c *casefile.Case, res respond.Result) {
	if len(res.Outcomes) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== Applied (recorded in %s)\n", c.Path(casefile.ActionsFile))
	for _, o := range res.Outcomes {
		line := fmt.Sprintf("%-9s %s. %s:%s on %s", o.Status, o.Step.ID, o.Step.Service, o.Step.API, safe(o.Step.Resource))
		if o.ActionID != "" {
			line += "  [action " + o.ActionID + "]"
		}
		if o.Note != "" {
			line += ": " + safe(o.Note)
		}
		fmt.Fprintln(w, line)
	}
	if ids := res.Applied(); len(ids) > 0 {
		fmt.Fprintf(w, "undo one with: harrier undo ACTION_ID --case %s; all of this run (latest first): harrier undo %s --case %s\n",
			safe(c.Dir), strings.SplitN(ids[0], ".", 2)[0], safe(c.Dir))
	}
}

// temporaryKey explains why an ASIA key cannot be deactivated and names
// the role to revoke, from the case's events when they say.
func temporaryKey(ctx context.Context, e *env, dir, key string, cause error) error {
	roles, err := keyRoles(ctx, dir, key)
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "harrier: the case's events could not be asked which role issued %s: %s\n", safe(key), safe(err.Error()))
	case len(roles) == 0:
		fmt.Fprintf(e.stderr, "harrier: the case's events do not say which role issued %s: find it (harrier scope %s) and run harrier contain role NAME\n", safe(key), safe(key))
	default:
		for _, r := range roles {
			fmt.Fprintf(e.stderr, "harrier: %s was issued for role %s: harrier contain role %s --case %s\n", safe(key), safe(r), safe(r[strings.LastIndex(r, "/")+1:]), safe(dir))
		}
	}
	return cause
}

// storeExists says whether the case has events to ask.
func storeExists(dir string) bool {
	c, err := casefile.Open(dir, version(), false)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = os.Stat(c.StorePath())
	return err == nil
}

// keyRoles finds the roles a temporary key's session was issued for: its
// own events' session issuer, or the AssumeRole* call that returned it.
func keyRoles(ctx context.Context, dir, key string) ([]string, error) {
	if !storeExists(dir) {
		return nil, nil
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	defer st.Close()
	rows, err := st.DB().QueryContext(ctx, `
SELECT DISTINCT role FROM (
  SELECT session_issuer_arn AS role FROM events WHERE access_key_id = ? AND session_issuer_type = 'Role'
  UNION ALL
  SELECT regexp_replace((response_elements->>'$.assumedRoleUser.arn'), '^arn:([^:]+):sts::([0-9]+):assumed-role/([^/]+)/.*$', 'arn:\1:iam::\2:role/\3')
  FROM events WHERE event_name LIKE 'AssumeRole%' AND (response_elements->>'$.credentials.accessKeyId') = ?
) WHERE role IS NOT NULL AND role <> '' ORDER BY role`, key, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// noteKeySessions adds to a key's or user's plan the role sessions its
// keys obtained (successful AssumeRole* calls in the case's events): they
// carry the role's permissions, not the user's, so neither the
// deactivation nor the deny-all cuts them; contain role does.
func noteKeySessions(ctx context.Context, dir string, p *respond.Plan) error {
	var keys []string
	for _, s := range p.Steps {
		if s.Op == "iam:UpdateAccessKey" {
			keys = append(keys, s.Params["AccessKeyId"])
		}
	}
	sessions, err := keySessions(ctx, dir, keys)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		_, rest, _ := strings.Cut(s.ARN, ":assumed-role/")
		role, _, _ := strings.Cut(rest, "/")
		p.Notes = append(p.Notes, fmt.Sprintf("%s obtained role session %s (key %s, %s, %s): this containment does not cut it; harrier contain role %s",
			s.Event, s.ARN, s.AccessKeyID, s.Issued.Format(time.RFC3339), strings.Join(s.SourceIPs, ","), role))
	}
	return nil
}

// keySessions lists the role sessions the given access keys obtained:
// successful AssumeRole* calls made with them, oldest first. Event names
// the calling key here ("AssumeRole by AKIA...").
func keySessions(ctx context.Context, dir string, keys []string) ([]respond.Session, error) {
	if len(keys) == 0 || !storeExists(dir) {
		return nil, nil
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	defer st.Close()
	var out []respond.Session
	for _, key := range keys {
		rows, err := st.DB().QueryContext(ctx, `
SELECT event_time, event_name, response_elements->>'$.assumedRoleUser.arn', coalesce(response_elements->>'$.credentials.accessKeyId', ''), coalesce(source_ip, '')
FROM events
WHERE access_key_id = ? AND event_name LIKE 'AssumeRole%' AND coalesce(error_code, '') = ''
  AND (response_elements->>'$.assumedRoleUser.arn') LIKE '%:assumed-role/%'
ORDER BY 1, 3`, key)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s respond.Session
			var ip string
			if err := rows.Scan(&s.Issued, &s.Event, &s.ARN, &s.AccessKeyID, &ip); err != nil {
				rows.Close()
				return nil, err
			}
			s.Issued, s.Event = s.Issued.UTC(), s.Event+" by "+key
			if ip != "" {
				s.SourceIPs = []string{ip}
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// roleSessions lists the role's sessions the case's events saw issued
// (AssumeRole* calls that succeeded, by the assumed-role ARN they
// returned), with the source IPs of the call and of the session's use.
func roleSessions(ctx context.Context, dir, role string) ([]respond.Session, error) {
	if !storeExists(dir) {
		return nil, nil
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	defer st.Close()
	rows, err := st.DB().QueryContext(ctx, `
WITH issued AS (
  SELECT event_time, event_name, response_elements->>'$.assumedRoleUser.arn' AS arn,
         coalesce(response_elements->>'$.credentials.accessKeyId', '') AS key, coalesce(source_ip, '') AS ip
  FROM events
  WHERE event_name LIKE 'AssumeRole%' AND coalesce(error_code, '') = ''
    AND split_part((response_elements->>'$.assumedRoleUser.arn'), '/', 2) = ?
    AND (response_elements->>'$.assumedRoleUser.arn') LIKE '%:assumed-role/%'
)
SELECT i.event_time, i.event_name, i.arn, i.key, i.ip, coalesce(string_agg(DISTINCT e.source_ip, ','), '')
FROM issued i LEFT JOIN events e ON i.key <> '' AND e.access_key_id = i.key
GROUP BY i.event_time, i.event_name, i.arn, i.key, i.ip ORDER BY 1, 3`, role)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []respond.Session
	for rows.Next() {
		var s respond.Session
		var issuer, used string
		if err := rows.Scan(&s.Issued, &s.Event, &s.ARN, &s.AccessKeyID, &issuer, &used); err != nil {
			return nil, err
		}
		s.Issued = s.Issued.UTC()
		seen := map[string]bool{}
		for _, ip := range append(strings.Split(used, ","), issuer) {
			if ip != "" && !seen[ip] {
				seen[ip] = true
				s.SourceIPs = append(s.SourceIPs, ip)
			}
		}
		sort.Strings(s.SourceIPs)
		out = append(out, s)
	}
	return out, rows.Err()
}
