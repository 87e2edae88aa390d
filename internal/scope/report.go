package scope

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/harrier-ir/harrier/internal/analytics"
	"github.com/harrier-ir/harrier/internal/store"
)

// Report is a scoped compromise. Its JSON keys are a public interface
// (docs/CLI.md, `scope --format json`): keep them stable.
type Report struct {
	Seed             SeedInfo     `json:"seed"`
	AccessKeyIDs     []string     `json:"access_key_ids"`
	Principals       []string     `json:"principals"`
	Credentials      []Credential `json:"credentials"`
	SourceIPs        []IPUse      `json:"source_ips"`
	Accounts         []Tally      `json:"accounts"`
	Regions          []Tally      `json:"regions"`
	UserAgents       []Tally      `json:"user_agents"`
	Edges            []Edge       `json:"edges"`
	APICalls         []APICall    `json:"api_calls"`
	WriteEvents      []WriteEvent `json:"write_events"`
	WriteEventCount  int64        `json:"write_event_count"`
	ResourcesChanged []Resource   `json:"resources_changed"`
	DataAccess       []DataAccess `json:"data_access"`
	FirstSeen        string       `json:"first_seen"`
	LastSeen         string       `json:"last_seen"`
	EventCount       int64        `json:"event_count"`
	EventIDs         []string     `json:"-"` // events in scope that no scoped key made (sign-ins, cross-account copies)
	Notes            []string     `json:"notes"`
	Graph            Graph        `json:"-"`
}

// SeedInfo says what was scoped.
type SeedInfo struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
	Since string `json:"since"`
	Until string `json:"until"`
}

// Credential is an access key in scope.
type Credential struct {
	AccessKeyID string   `json:"access_key_id"`
	Kind        string   `json:"kind"` // long-term, temporary
	Principal   string   `json:"principal"`
	ObtainedBy  *Edge    `json:"obtained_by"` // null for the seed's own keys
	FirstSeen   string   `json:"first_seen"`
	LastSeen    string   `json:"last_seen"`
	Events      int64    `json:"events"`
	Errors      int64    `json:"errors"`
	SourceIPs   []string `json:"source_ips"`
	Note        string   `json:"note"`
}

// IPUse is a source address and what came from it.
type IPUse struct {
	IP           string   `json:"ip"`
	FirstSeen    string   `json:"first_seen"`
	LastSeen     string   `json:"last_seen"`
	Events       int64    `json:"events"`
	AccessKeyIDs []string `json:"access_key_ids"`
}

// Tally counts events per value.
type Tally struct {
	Value  string `json:"value"`
	Events int64  `json:"events"`
}

// APICall counts one API's calls and failures.
type APICall struct {
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	Events      int64  `json:"events"`
	Errors      int64  `json:"errors"`
}

// WriteEvent is one call in scope that changed something (or tried to).
type WriteEvent struct {
	Time        string `json:"time"`
	EventID     string `json:"event_id"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	Principal   string `json:"principal"`
	AccessKeyID string `json:"access_key_id"`
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	Resource    string `json:"resource"`
	ErrorCode   string `json:"error_code"`
}

// Resource is something the scope created or changed: the persistence
// inventory.
type Resource struct {
	Kind      string `json:"kind"` // user, access-key, login-profile, policy, role, trust-policy, instance, ...
	Name      string `json:"name"`
	Action    string `json:"action"` // the event name
	EventID   string `json:"event_id"`
	Time      string `json:"time"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	Principal string `json:"principal"`
	// Detail is what was granted or changed, from the request: the policy
	// attached, the accounts a snapshot or image was shared with, a trust
	// or bucket policy, security group rules (JSON text, at most 1,000
	// characters).
	Detail string `json:"detail"`
}

// DataAccess is data read in scope: S3 objects per bucket, secrets,
// parameters.
type DataAccess struct {
	Service    string   `json:"service"` // s3, secretsmanager, ssm
	Container  string   `json:"container"`
	Objects    int64    `json:"objects"` // distinct objects (keys, secrets, parameters)
	Requests   int64    `json:"requests"`
	Bytes      int64    `json:"bytes"` // bytesTransferredOut of S3 data events; 0 when not logged
	FirstSeen  string   `json:"first_seen"`
	LastSeen   string   `json:"last_seen"`
	SampleKeys []string `json:"sample_keys"` // up to 20 of the objects read
}

// persistence maps the calls that create or change lasting things to the
// kind of thing, by event name prefix.
var persistence = []struct{ prefix, kind string }{
	{"CreateUser", "user"}, {"CreateAccessKey", "access-key"}, {"UpdateAccessKey", "access-key"},
	{"CreateLoginProfile", "login-profile"}, {"UpdateLoginProfile", "login-profile"},
	{"AttachUserPolicy", "policy"}, {"AttachRolePolicy", "policy"}, {"AttachGroupPolicy", "policy"},
	{"PutUserPolicy", "policy"}, {"PutRolePolicy", "policy"}, {"PutGroupPolicy", "policy"},
	{"CreatePolicy", "policy"}, {"CreatePolicyVersion", "policy"}, {"SetDefaultPolicyVersion", "policy"},
	{"AddUserToGroup", "group-membership"}, {"CreateRole", "role"}, {"UpdateAssumeRolePolicy", "trust-policy"},
	{"UploadSSHPublicKey", "ssh-key"}, {"CreateServiceSpecificCredential", "service-credential"}, {"UploadSigningCertificate", "signing-certificate"},
	{"PutKeyPolicy", "kms-key"}, {"CreateGrant", "kms-key"}, {"SendCommand", "ssm-command"}, {"StartSession", "ssm-session"},
	{"SendSSHPublicKey", "instance-connect-key"}, {"AddPermission20", "function"},
	{"CreateInstanceProfile", "instance-profile"}, {"AddRoleToInstanceProfile", "instance-profile"},
	{"CreateVirtualMFADevice", "mfa-device"}, {"EnableMFADevice", "mfa-device"},
	{"CreateSAMLProvider", "identity-provider"}, {"UpdateSAMLProvider", "identity-provider"}, {"CreateOpenIDConnectProvider", "identity-provider"},
	{"RunInstances", "instance"}, {"ModifyInstanceAttribute", "instance"}, {"AssociateIamInstanceProfile", "instance"},
	{"CreateSecurityGroup", "security-group"}, {"AuthorizeSecurityGroupIngress", "security-group-rule"}, {"AuthorizeSecurityGroupEgress", "security-group-rule"},
	{"ImportKeyPair", "key-pair"}, {"CreateKeyPair", "key-pair"},
	{"CreateSnapshot", "snapshot"}, {"CopySnapshot", "snapshot"}, {"ModifySnapshotAttribute", "snapshot"},
	{"CreateImage", "image"}, {"ModifyImageAttribute", "image"},
	{"CreateBucket", "bucket"}, {"PutBucketPolicy", "bucket"}, {"PutBucketAcl", "bucket"}, {"DeleteBucketPublicAccessBlock", "bucket"},
	{"PutBucketPublicAccessBlock", "bucket"}, {"PutBucketReplication", "bucket"}, {"PutBucketLifecycle", "bucket"}, {"PutBucketVersioning", "bucket"},
	{"CreateFunction", "function"}, {"UpdateFunctionCode", "function"}, {"UpdateFunctionConfiguration", "function"}, {"AddPermission20", "function"}, {"CreateFunctionUrlConfig", "function"},
	{"StopLogging", "trail"}, {"DeleteTrail", "trail"}, {"UpdateTrail", "trail"}, {"PutEventSelectors", "trail"}, {"CreateTrail", "trail"},
	{"DeleteDetector", "guardduty"}, {"UpdateDetector", "guardduty"}, {"DeleteFlowLogs", "flow-logs"},
	{"StopConfigurationRecorder", "config"}, {"DeleteConfigurationRecorder", "config"},
	{"CreateDBSnapshot", "db-snapshot"}, {"ModifyDBSnapshotAttribute", "db-snapshot"},
	{"PutSecretValue", "secret"}, {"CreateSecret", "secret"}, {"ScheduleKeyDeletion", "kms-key"}, {"DisableKey", "kms-key"},
}

func persistenceKind(name string) string {
	for _, p := range persistence {
		if strings.HasPrefix(name, p.prefix) {
			return p.kind
		}
	}
	return ""
}

// report materializes the scope and aggregates it.
func (t *tracer) report(ctx context.Context) (*Report, error) {
	keys := make([]string, 0, len(t.keys))
	for k := range t.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	extra := make([]string, 0, len(t.extra))
	for id := range t.extra {
		extra = append(extra, id)
	}
	sort.Strings(extra)
	if _, err := t.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE scope_rows AS
SELECT rowid AS rid FROM events
WHERE (access_key_id IN (SELECT unnest(?::VARCHAR[])) OR event_id IN (SELECT unnest(?::VARCHAR[]))) AND `+t.window,
		append([]any{keys, extra}, t.args...)...); err != nil {
		return nil, fmt.Errorf("scope: %w", err)
	}
	r := &Report{AccessKeyIDs: keys, EventIDs: extra, Notes: t.notes}
	seed := t.opts.Seeds[0]
	r.Seed = SeedInfo{Kind: seed.Kind, Value: seed.Value, Since: timeText(t.opts.Since), Until: timeText(t.opts.Until)}
	const from = ` FROM scope_rows s JOIN events e ON e.rowid = s.rid `
	principal := store.PrincipalSQLOf("e.")

	var first, last sql.NullTime
	if err := t.conn.QueryRowContext(ctx, `SELECT count(*), min(e.event_time), max(e.event_time)`+from).Scan(&r.EventCount, &first, &last); err != nil {
		return nil, err
	}
	r.FirstSeen, r.LastSeen = timeText(first.Time), timeText(last.Time)

	// principals
	err := t.each(ctx, `SELECT p FROM (SELECT `+principal+` AS p, min(e.event_time) AS f`+from+`GROUP BY 1) ORDER BY f NULLS LAST, p`, func(rows *sql.Rows) error {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		r.Principals = append(r.Principals, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// credentials
	byKey := map[string]*Credential{}
	instances := map[string]bool{}
	err = t.each(ctx, `SELECT e.access_key_id, mode(`+principal+`), min(e.event_time), max(e.event_time), count(*), count(e.error_code),
  coalesce(list(DISTINCT e.source_ip) FILTER (WHERE e.source_ip IS NOT NULL), []),
  bool_or(e.principal_id LIKE '%:i-%' AND e.identity_type = 'AssumedRole')`+from+`WHERE e.access_key_id IS NOT NULL GROUP BY 1`, func(rows *sql.Rows) error {
		var c Credential
		var f, l sql.NullTime
		var ips []any
		var instance sql.NullBool
		if err := rows.Scan(&c.AccessKeyID, &c.Principal, &f, &l, &c.Events, &c.Errors, &ips, &instance); err != nil {
			return err
		}
		c.FirstSeen, c.LastSeen, c.SourceIPs = timeText(f.Time), timeText(l.Time), strs(ips)
		if instance.Bool {
			instances[c.AccessKeyID] = true
		}
		byKey[c.AccessKeyID] = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k := range instances {
		if err := t.instanceNote(ctx, byKey[k], keys); err != nil {
			return nil, err
		}
	}
	order := make([]string, 0, len(t.keys))
	for k := range t.keys {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return t.keys[order[i]].order < t.keys[order[j]].order })
	for _, k := range order {
		c := byKey[k]
		if c == nil {
			c = &Credential{AccessKeyID: k, SourceIPs: []string{}, Note: "not used in the window"}
		}
		c.Kind = "temporary"
		if strings.HasPrefix(k, "AKIA") {
			c.Kind = "long-term"
		}
		c.ObtainedBy = t.keys[k].via
		r.Credentials = append(r.Credentials, *c)
	}
	// source IPs
	err = t.each(ctx, `SELECT e.source_ip, min(e.event_time), max(e.event_time), count(*),
  coalesce(list(DISTINCT e.access_key_id) FILTER (WHERE e.access_key_id IS NOT NULL), [])`+from+`WHERE e.source_ip IS NOT NULL
GROUP BY 1 ORDER BY min(e.event_time), 1`, func(rows *sql.Rows) error {
		var u IPUse
		var f, l sql.NullTime
		var ks []any
		if err := rows.Scan(&u.IP, &f, &l, &u.Events, &ks); err != nil {
			return err
		}
		u.FirstSeen, u.LastSeen, u.AccessKeyIDs = timeText(f.Time), timeText(l.Time), strs(ks)
		r.SourceIPs = append(r.SourceIPs, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	tally := func(expr string, dst *[]Tally) error {
		return t.each(ctx, `SELECT `+expr+`, count(*)`+from+`WHERE `+expr+` IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1`, func(rows *sql.Rows) error {
			var v Tally
			if err := rows.Scan(&v.Value, &v.Events); err != nil {
				return err
			}
			*dst = append(*dst, v)
			return nil
		})
	}
	if err := tally(`coalesce(e.recipient_account_id, e.identity_account_id)`, &r.Accounts); err != nil {
		return nil, err
	}
	if err := tally(`e.aws_region`, &r.Regions); err != nil {
		return nil, err
	}
	if err := tally(`e.user_agent`, &r.UserAgents); err != nil {
		return nil, err
	}
	err = t.each(ctx, `SELECT coalesce(e.event_source, ''), coalesce(e.event_name, ''), count(*), count(e.error_code)`+from+`GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`, func(rows *sql.Rows) error {
		var a APICall
		if err := rows.Scan(&a.EventSource, &a.EventName, &a.Events, &a.Errors); err != nil {
			return err
		}
		r.APICalls = append(r.APICalls, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := t.writes(ctx, r, from, principal); err != nil {
		return nil, err
	}
	if err := t.data(ctx, r, from); err != nil {
		return nil, err
	}
	r.Graph = t.graph(r)
	r.Edges = append([]Edge{}, t.edges...)
	sort.SliceStable(r.Edges, func(i, j int) bool { return r.Edges[i].Time < r.Edges[j].Time })
	r.fill()
	return r, nil
}

func (t *tracer) writes(ctx context.Context, r *Report, from, principal string) error {
	if err := t.conn.QueryRowContext(ctx, `SELECT count(*)`+from+`WHERE e.read_only = false`).Scan(&r.WriteEventCount); err != nil {
		return err
	}
	if r.WriteEventCount > int64(t.opts.MaxListed) {
		r.Notes = append(r.Notes, fmt.Sprintf("write_events lists the first %d of %d write calls", t.opts.MaxListed, r.WriteEventCount))
	}
	return t.each(ctx, `SELECT e.event_time, coalesce(e.event_id, e.evidence_file || '#' || e.record_index), coalesce(coalesce(e.recipient_account_id, e.identity_account_id), ''),
  coalesce(e.aws_region, ''), `+principal+`, coalesce(e.access_key_id, ''), coalesce(e.event_source, ''), coalesce(e.event_name, ''),
  coalesce(e.resource, e.request_parameters->>'$.keyName', e.request_parameters->>'$.functionName', e.request_parameters->>'$.roleName',
    e.request_parameters->>'$.bucketName', e.request_parameters->>'$.groupName', e.request_parameters->>'$.userName',
    e.request_parameters->>'$.policyArn', e.request_parameters->>'$.name', ''), coalesce(e.error_code, ''),
  coalesce(e.response_elements->>'$.accessKey.accessKeyId', ''),
  coalesce(array_to_string(json_extract_string(e.response_elements, '$.instancesSet.items[*].instanceId'), ', '), ''),
  left(coalesce(e.request_parameters->>'$.policyArn', e.request_parameters->>'$.createVolumePermission', e.request_parameters->>'$.launchPermission',
    e.request_parameters->>'$.policyDocument', e.request_parameters->>'$.ipPermissions', e.request_parameters->>'$.policy',
    e.request_parameters->>'$.accessControlPolicy', e.request_parameters->>'$.AccessControlPolicy', e.request_parameters->>'$.attributes',
    e.request_parameters->>'$.instanceType', e.request_parameters->>'$.groupName', ''), 1000)`+from+`
WHERE e.read_only = false ORDER BY e.event_time NULLS LAST, 2`, func(rows *sql.Rows) error {
		var w WriteEvent
		var at sql.NullTime
		var newKey, instances, detail string
		if err := rows.Scan(&at, &w.EventID, &w.Account, &w.Region, &w.Principal, &w.AccessKeyID, &w.EventSource, &w.EventName, &w.Resource, &w.ErrorCode, &newKey, &instances, &detail); err != nil {
			return err
		}
		w.Time = timeText(at.Time)
		if len(r.WriteEvents) < t.opts.MaxListed {
			r.WriteEvents = append(r.WriteEvents, w)
		}
		if w.ErrorCode != "" {
			return nil
		}
		if kind := persistenceKind(w.EventName); kind != "" {
			name := w.Resource
			switch {
			case newKey != "":
				name = newKey + " (" + w.Resource + ")"
			case instances != "":
				name = instances
			}
			r.ResourcesChanged = append(r.ResourcesChanged, Resource{Kind: kind, Name: name, Action: w.EventName, EventID: w.EventID,
				Time: w.Time, Account: w.Account, Region: w.Region, Principal: w.Principal, Detail: detail})
		}
		return nil
	})
}

func (t *tracer) data(ctx context.Context, r *Report, from string) error {
	type src struct{ service, cond, container, object, bytes string }
	for _, s := range []src{
		{"s3", `e.event_source = 's3.amazonaws.com' AND e.event_name = 'GetObject'`, `e.request_parameters->>'$.bucketName'`, `e.request_parameters->>'$.key'`, `TRY_CAST(e.additional_event_data->>'$.bytesTransferredOut' AS DOUBLE)`},
		{"secretsmanager", `e.event_source = 'secretsmanager.amazonaws.com' AND e.event_name IN ('GetSecretValue', 'BatchGetSecretValue')`, `coalesce(e.aws_region, '')`, `coalesce(e.request_parameters->>'$.secretId', e.request_parameters->>'$.secretIdList')`, `NULL`},
		{"ssm", `e.event_source = 'ssm.amazonaws.com' AND e.event_name IN ('GetParameter', 'GetParameters', 'GetParametersByPath') AND coalesce(e.request_parameters->>'$.withDecryption', '') = 'true'`, `coalesce(e.aws_region, '')`, `coalesce(e.request_parameters->>'$.name', e.request_parameters->>'$.names', e.request_parameters->>'$.path')`, `NULL`},
	} {
		err := t.each(ctx, `SELECT coalesce(`+s.container+`, ''), count(DISTINCT `+s.object+`), count(*), coalesce(sum(`+s.bytes+`), 0)::BIGINT,
  min(e.event_time), max(e.event_time), coalesce(list(DISTINCT `+s.object+`) FILTER (WHERE `+s.object+` IS NOT NULL), [])[1:20]`+from+`
WHERE `+s.cond+` AND e.error_code IS NULL GROUP BY 1 ORDER BY 3 DESC, 1`, func(rows *sql.Rows) error {
			d := DataAccess{Service: s.service}
			var f, l sql.NullTime
			var sample []any
			if err := rows.Scan(&d.Container, &d.Objects, &d.Requests, &d.Bytes, &f, &l, &sample); err != nil {
				return err
			}
			d.FirstSeen, d.LastSeen, d.SampleKeys = timeText(f.Time), timeText(l.Time), strs(sample)
			r.DataAccess = append(r.DataAccess, d)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tracer) each(ctx context.Context, q string, fn func(*sql.Rows) error) error {
	rows, err := t.conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("scope report: %w\n%s", err, q)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// graph draws the credential chain.
func (t *tracer) graph(r *Report) Graph {
	// a key seed is its own node; an IP or a principal is a node of its own
	var g Graph
	seen := map[string]bool{}
	if r.Seed.Kind != "key" {
		g.Nodes = append(g.Nodes, Node{ID: "seed", Kind: "seed", Label: r.Seed.Kind + " " + r.Seed.Value})
		seen["seed"] = true
	}
	for _, c := range r.Credentials {
		kind := "temporary-key"
		if c.Kind == "long-term" {
			kind = "long-term-key"
		}
		if r.Seed.Kind == "key" && c.AccessKeyID == r.Seed.Value {
			kind = "seed"
		}
		label := c.AccessKeyID
		if c.Principal != "" {
			label += "\n" + c.Principal
		}
		g.Nodes = append(g.Nodes, Node{ID: c.AccessKeyID, Kind: kind, Label: label, Principal: c.Principal, Events: c.Events})
		seen[c.AccessKeyID] = true
	}
	ids := make([]string, 0, len(t.users))
	for id := range t.users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		u := t.users[id]
		n := userNode(u.account, u.name)
		g.Nodes = append(g.Nodes, Node{ID: n, Kind: "principal", Label: "user " + u.name + " (" + u.account + ")"})
		seen[n] = true
	}
	for _, e := range t.edges {
		for _, end := range []string{e.From, e.To} {
			if !seen[end] {
				seen[end] = true
				g.Nodes = append(g.Nodes, Node{ID: end, Kind: "principal", Label: end})
			}
		}
		g.Edges = append(g.Edges, e)
	}
	// the seed's own keys hang off the seed
	for _, c := range r.Credentials {
		if c.ObtainedBy == nil && r.Seed.Kind != "key" {
			g.Edges = append(g.Edges, Edge{From: "seed", To: c.AccessKeyID, How: "seed"})
		}
	}
	return g
}

// fill gives every list key a list (never null).
func (r *Report) fill() {
	if r.AccessKeyIDs == nil {
		r.AccessKeyIDs = []string{}
	}
	for _, l := range []*[]string{&r.Principals, &r.Notes} {
		if *l == nil {
			*l = []string{}
		}
	}
	if r.Credentials == nil {
		r.Credentials = []Credential{}
	}
	if r.SourceIPs == nil {
		r.SourceIPs = []IPUse{}
	}
	for _, l := range []*[]Tally{&r.Accounts, &r.Regions, &r.UserAgents} {
		if *l == nil {
			*l = []Tally{}
		}
	}
	if r.Edges == nil {
		r.Edges = []Edge{}
	}
	if r.APICalls == nil {
		r.APICalls = []APICall{}
	}
	if r.WriteEvents == nil {
		r.WriteEvents = []WriteEvent{}
	}
	if r.ResourcesChanged == nil {
		r.ResourcesChanged = []Resource{}
	}
	if r.DataAccess == nil {
		r.DataAccess = []DataAccess{}
	}
}

func strs(l []any) []string {
	out := []string{}
	for _, v := range l {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// instanceNote flags EC2 instance credentials used from addresses the
// instance's own sessions (outside the scope) never used: credentials
// taken off the instance and used elsewhere. Without such sessions to
// compare with, it says so rather than guess.
func (t *tracer) instanceNote(ctx context.Context, c *Credential, scoped []string) error {
	var pid string
	if err := t.conn.QueryRowContext(ctx, `SELECT principal_id FROM events WHERE access_key_id = ? AND principal_id LIKE '%:i-%' LIMIT 1`, c.AccessKeyID).Scan(&pid); err != nil {
		return nil
	}
	instance := pid[strings.LastIndex(pid, ":")+1:]
	var own []any
	if err := t.conn.QueryRowContext(ctx, `SELECT coalesce(list(DISTINCT source_ip) FILTER (WHERE source_ip IS NOT NULL), []) FROM events
WHERE principal_id LIKE ? AND access_key_id NOT IN (SELECT unnest(?::VARCHAR[]))`, "%:"+instance, scoped).Scan(&own); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, ip := range strs(own) {
		known[ip] = true
	}
	var foreign []string
	for _, ip := range c.SourceIPs {
		if _, _, ok := analytics.Network(ip); ok && !known[ip] {
			foreign = append(foreign, ip)
		}
	}
	switch {
	case len(foreign) == 0:
	case len(known) == 0:
		c.Note = fmt.Sprintf("EC2 instance credentials of %s, used from %s; the case has none of the instance's own calls to compare with, so whether that is the instance cannot be told here", instance, strings.Join(foreign, ", "))
	default:
		c.Note = fmt.Sprintf("EC2 instance credentials of %s used from %s, where the instance's own sessions never called from (they used %s): not from the instance", instance, strings.Join(foreign, ", "), strings.Join(strs(own), ", "))
	}
	return nil
}
