package scope

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// rec builds one CloudTrail record; fields override the defaults.
type rec map[string]any

func at(min int) string { return t0.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }

func iamUserID(name, key string) map[string]any {
	return map[string]any{"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(name), "arn": "arn:aws:iam::" + acctA + ":user/" + name,
		"accountId": acctA, "accessKeyId": key, "userName": name}
}

func roleID(acct, role, session, key string, created int, sourceIdentity string) map[string]any {
	ctx := map[string]any{
		"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROA" + strings.ToUpper(role), "arn": "arn:aws:iam::" + acct + ":role/" + role, "accountId": acct, "userName": role},
		"attributes":    map[string]any{"creationDate": at(created), "mfaAuthenticated": "false"},
	}
	if sourceIdentity != "" {
		ctx["sourceIdentity"] = sourceIdentity
	}
	return map[string]any{"type": "AssumedRole", "principalId": "AROA" + strings.ToUpper(role) + ":" + session,
		"arn": "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session, "accountId": acct, "accessKeyId": key, "sessionContext": ctx}
}

func (r rec) json(id string, min int) []byte {
	m := map[string]any{"eventVersion": "1.08", "eventID": id, "eventTime": at(min), "awsRegion": "us-east-1",
		"sourceIPAddress": "203.0.113.5", "userAgent": "aws-cli/2.15", "eventType": "AwsApiCall", "recipientAccountId": acctA, "readOnly": true}
	for k, v := range r {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func creds(key string) map[string]any {
	return map[string]any{"credentials": map[string]any{"accessKeyId": key, "sessionToken": "x", "expiration": "Mar 14, 2026, 11:00:00 AM"}}
}

// scenario is a crafted compromise with every kind of edge, and benign
// activity around it.
func scenario() [][]byte {
	seed := iamUserID("alice", "AKIASEED")
	admin := roleID(acctA, "Admin", "alice", "ASIAADMIN1", 2, "")
	var out [][]byte
	add := func(id string, min int, r rec) { out = append(out, r.json(id, min)) }
	add("e01", 1, rec{"userIdentity": seed, "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity"})
	add("e02", 2, rec{"userIdentity": seed, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Admin", "roleSessionName": "alice"}, "responseElements": creds("ASIAADMIN1")})
	add("e03", 3, rec{"userIdentity": admin, "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "readOnly": false,
		"requestParameters": map[string]any{"userName": "backdoor"}, "responseElements": map[string]any{"user": map[string]any{"userName": "backdoor", "arn": "arn:aws:iam::" + acctA + ":user/backdoor"}}})
	add("e04", 4, rec{"userIdentity": admin, "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "readOnly": false,
		"requestParameters": map[string]any{"userName": "backdoor"}, "responseElements": map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIABACKDOOR", "userName": "backdoor", "status": "Active"}}})
	add("e05", 5, rec{"userIdentity": admin, "eventSource": "iam.amazonaws.com", "eventName": "CreateLoginProfile", "readOnly": false,
		"requestParameters": map[string]any{"userName": "backdoor", "passwordResetRequired": false}})
	add("e06", 6, rec{"userIdentity": admin, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "sharedEventID": "shared-1",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctB + ":role/Cross", "roleSessionName": "hop"}, "responseElements": creds("ASIACROSS"),
		"resources": []any{map[string]any{"accountId": acctB, "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::" + acctB + ":role/Cross"}}})
	add("e06b", 6, rec{"userIdentity": map[string]any{"type": "AWSAccount", "principalId": "AROAADMIN:alice", "accountId": acctA},
		"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "sharedEventID": "shared-1", "recipientAccountId": acctB,
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctB + ":role/Cross", "roleSessionName": "hop"}, "responseElements": creds("ASIACROSS")})
	add("e07", 7, rec{"userIdentity": roleID(acctB, "Cross", "hop", "ASIACROSS", 6, ""), "recipientAccountId": acctB, "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	add("e08", 8, rec{"userIdentity": iamUserID("backdoor", "AKIABACKDOOR"), "sourceIPAddress": "198.51.100.77", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "readOnly": false,
		"awsRegion": "ap-south-1", "responseElements": map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-0123"}, map[string]any{"instanceId": "i-0456"}}}}})
	// a sign-in by the backdoor user before the attacker set its password is
	// not the attacker's
	add("e00", 0, rec{"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDABACKDOOR", "arn": "arn:aws:iam::" + acctA + ":user/backdoor", "accountId": acctA, "userName": "backdoor"},
		"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "responseElements": map[string]any{"ConsoleLogin": "Success"}, "sourceIPAddress": "192.0.2.1"})
	add("e09", 9, rec{"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDABACKDOOR", "arn": "arn:aws:iam::" + acctA + ":user/backdoor", "accountId": acctA, "userName": "backdoor"},
		"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "responseElements": map[string]any{"ConsoleLogin": "Success"}, "sourceIPAddress": "198.51.100.77"})
	console := iamUserID("backdoor", "ASIACONSOLE")
	console["sessionContext"] = map[string]any{"attributes": map[string]any{"creationDate": at(9), "mfaAuthenticated": "false"}}
	add("e10", 10, rec{"userIdentity": console, "sourceIPAddress": "198.51.100.77", "eventSource": "iam.amazonaws.com", "eventName": "AttachUserPolicy", "readOnly": false,
		"requestParameters": map[string]any{"userName": "backdoor", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}})
	add("e11", 11, rec{"userIdentity": seed, "eventSource": "sts.amazonaws.com", "eventName": "GetSessionToken", "responseElements": creds("ASIASESS")})
	sess := iamUserID("alice", "ASIASESS")
	add("e12", 12, rec{"userIdentity": sess, "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	add("e13", 13, rec{"userIdentity": seed, "eventSource": "sts.amazonaws.com", "eventName": "GetFederationToken",
		"requestParameters": map[string]any{"name": "fed"}, "responseElements": creds("ASIAFED")})
	fed := map[string]any{"type": "FederatedUser", "principalId": acctA + ":fed", "arn": "arn:aws:sts::" + acctA + ":federated-user/fed", "accountId": acctA, "accessKeyId": "ASIAFED",
		"sessionContext": map[string]any{"attributes": map[string]any{"creationDate": at(13)}}}
	add("e14", 14, rec{"userIdentity": fed, "eventSource": "signin.amazonaws.com", "eventName": "GetSigninToken"})
	fedConsole := map[string]any{"type": "FederatedUser", "principalId": acctA + ":fed", "arn": "arn:aws:sts::" + acctA + ":federated-user/fed", "accountId": acctA, "accessKeyId": "ASIAFEDCONSOLE",
		"sessionContext": map[string]any{"attributes": map[string]any{"creationDate": at(13)}}}
	add("e15", 15, rec{"userIdentity": fedConsole, "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances"})
	add("e16", 16, rec{"userIdentity": admin, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Ops", "roleSessionName": "x", "sourceIdentity": "si-evil"}, "responseElements": creds("ASIASI1")})
	add("e17", 17, rec{"userIdentity": roleID(acctA, "Ops", "x", "ASIASI1", 16, "si-evil"), "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Deep", "roleSessionName": "y"}, "responseElements": creds("ASIASI2")})
	add("e18", 18, rec{"userIdentity": roleID(acctA, "Elsewhere", "z", "ASIASI3", 18, "si-evil"), "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	add("e19", 19, rec{"userIdentity": admin, "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventCategory": "Data",
		"requestParameters": map[string]any{"bucketName": "data", "key": "a.txt"}, "additionalEventData": map[string]any{"bytesTransferredOut": 100}})
	add("e20", 20, rec{"userIdentity": admin, "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventCategory": "Data",
		"requestParameters": map[string]any{"bucketName": "data", "key": "b.txt"}, "additionalEventData": map[string]any{"bytesTransferredOut": 200.0}})
	// from another place: SAML federation and Identity Center
	add("e21", 21, rec{"userIdentity": map[string]any{"type": "SAMLUser", "principalId": "okta:jdoe", "userName": "jdoe", "identityProvider": "arn:aws:iam::" + acctA + ":saml-provider/Okta"},
		"sourceIPAddress": "198.51.100.9", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithSAML", "responseElements": creds("ASIASAML")})
	add("e22", 22, rec{"userIdentity": roleID(acctA, "SamlRole", "jdoe", "ASIASAML", 21, ""), "sourceIPAddress": "198.51.100.9", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	add("e23", 23, rec{"userIdentity": map[string]any{"type": "Unknown", "principalId": "jdoe-id", "accountId": acctA, "userName": "jdoe"},
		"sourceIPAddress": "198.51.100.9", "eventSource": "sso.amazonaws.com", "eventName": "GetRoleCredentials",
		"requestParameters": map[string]any{"roleName": "AdministratorAccess", "accountId": acctB}})
	add("e24", 24, rec{"userIdentity": roleID(acctB, "AWSReservedSSO_AdministratorAccess_abc123", "jdoe", "ASIASSO", 23, ""), "recipientAccountId": acctB, "sourceIPAddress": "198.51.100.9", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers"})
	// stolen instance credentials, used from the attacker's address
	inst := roleID(acctA, "WebRole", "i-0abc", "ASIAINST", 0, "")
	add("e25", 25, rec{"userIdentity": inst, "sourceIPAddress": "198.51.100.9", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	// the instance's own calls, from its own address
	add("e26", 26, rec{"userIdentity": roleID(acctA, "WebRole", "i-0abc", "ASIAINST0", 0, ""), "sourceIPAddress": "10.0.5.5", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	// a sourceIdentity that names a person: bob's own session carried it
	// before the attacker set it, so it is not followed
	add("e27", 27, rec{"userIdentity": roleID(acctA, "Dev", "bob", "ASIABOBSI", 1, "bob@corp"), "sourceIPAddress": "10.0.0.8", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
		"requestParameters": map[string]any{"bucketName": "payroll", "key": "p.csv"}})
	add("e28", 28, rec{"userIdentity": admin, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Dev", "roleSessionName": "bob", "sourceIdentity": "bob@corp"}, "responseElements": creds("ASIASI4")})
	// a federated console session of the same identity opened later from
	// other credentials: not the attacker's
	fedLater := map[string]any{"type": "FederatedUser", "principalId": acctA + ":fed", "arn": "arn:aws:sts::" + acctA + ":federated-user/fed", "accountId": acctA, "accessKeyId": "ASIAFEDLATER",
		"sessionContext": map[string]any{"attributes": map[string]any{"creationDate": at(40)}}}
	add("e40", 40, rec{"userIdentity": fedLater, "sourceIPAddress": "10.0.0.3", "eventSource": "ec2.amazonaws.com", "eventName": "DescribeVpcs"})
	// federation from a CI provider's token, used from the attacker's
	// address: reached from the IP seed
	add("e41", 41, rec{"userIdentity": map[string]any{"type": "WebIdentityUser", "principalId": "repo:acme/app:ref:refs/heads/main", "userName": "repo:acme/app:ref:refs/heads/main",
		"identityProvider": "token.actions.githubusercontent.com"}, "sourceIPAddress": "198.51.100.9", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity", "responseElements": creds("ASIAWEB")})
	add("e42", 42, rec{"userIdentity": roleID(acctA, "Deploy", "gh", "ASIAWEB", 41, ""), "sourceIPAddress": "198.51.100.9", "eventSource": "lambda.amazonaws.com", "eventName": "UpdateFunctionCode20150331v2", "readOnly": false})
	// the attacker sets carol's password (her name in another case) and signs in as her
	add("e43", 43, rec{"userIdentity": admin, "eventSource": "iam.amazonaws.com", "eventName": "UpdateLoginProfile", "readOnly": false,
		"requestParameters": map[string]any{"userName": "Carol"}})
	add("e44", 44, rec{"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDACAROL", "arn": "arn:aws:iam::" + acctA + ":user/carol", "accountId": acctA, "userName": "carol"},
		"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "responseElements": map[string]any{"ConsoleLogin": "Success"}, "sourceIPAddress": "198.51.100.77"})
	carol := iamUserID("carol", "ASIACAROL")
	carol["sessionContext"] = map[string]any{"attributes": map[string]any{"creationDate": at(44)}}
	add("e45", 45, rec{"userIdentity": carol, "sourceIPAddress": "198.51.100.77", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	// a backdoor role the attacker creates, then assumes from its own account
	add("e46", 46, rec{"userIdentity": admin, "eventSource": "iam.amazonaws.com", "eventName": "CreateRole", "readOnly": false,
		"requestParameters": map[string]any{"roleName": "Backdoor", "assumeRolePolicyDocument": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`},
		"responseElements":  map[string]any{"role": map[string]any{"arn": "arn:aws:iam::" + acctA + ":role/Backdoor", "roleName": "Backdoor"}}})
	add("e47", 47, rec{"userIdentity": map[string]any{"type": "AWSAccount", "principalId": "AIDAEVIL", "accountId": "999999999999"}, "sourceIPAddress": "192.0.2.66",
		"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Backdoor", "roleSessionName": "b"},
		"responseElements": creds("ASIABACK")})
	add("e48", 48, rec{"userIdentity": roleID(acctA, "Backdoor", "b", "ASIABACK", 47, ""), "sourceIPAddress": "192.0.2.66", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"})
	// benign: bob assumes the same Admin role; his session is not in scope
	add("e30", 30, rec{"userIdentity": iamUserID("bob", "AKIABOB"), "sourceIPAddress": "10.0.0.8", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Admin", "roleSessionName": "bob"}, "responseElements": creds("ASIABENIGN")})
	add("e31", 31, rec{"userIdentity": roleID(acctA, "Admin", "bob", "ASIABENIGN", 30, ""), "sourceIPAddress": "10.0.0.8", "eventSource": "iam.amazonaws.com", "eventName": "CreateRole", "readOnly": false})
	// a failed AssumeRole hands out nothing
	add("e32", 32, rec{"userIdentity": admin, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "errorCode": "AccessDenied",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::" + acctA + ":role/Locked"}})
	return out
}

func caseWith(t testing.TB, records [][]byte) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.LoadRecords(ctx, "evidence/scenario.jsonl", records, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}

func keysOf(r *Report) []string {
	out := append([]string{}, r.AccessKeyIDs...)
	sort.Strings(out)
	return out
}

// edgeSet describes how each node was reached; a node reached twice has
// both, joined by "; ".
func edgeSet(r *Report) map[string]string {
	out := map[string]string{}
	for _, e := range r.Edges {
		d := e.How + " from " + e.From + " @" + e.EventID
		if out[e.To] != "" {
			d = out[e.To] + "; " + d
		}
		out[e.To] = d
	}
	return out
}

func TestScopeFollowsEveryEdge(t *testing.T) {
	st := caseWith(t, scenario())
	r, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "key", Value: "AKIASEED"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AKIABACKDOOR", "AKIASEED", "ASIAADMIN1", "ASIABACK", "ASIACAROL", "ASIACONSOLE", "ASIACROSS", "ASIAFED", "ASIAFEDCONSOLE", "ASIASESS", "ASIASI1", "ASIASI2", "ASIASI3", "ASIASI4"}
	if got := keysOf(r); !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v\nwant %v", got, want)
	}
	edges := edgeSet(r)
	for to, how := range map[string]string{
		"ASIAADMIN1":                  "AssumeRole from AKIASEED @e02",
		"user:" + acctA + "/backdoor": "CreateUser from ASIAADMIN1 @e03; CreateLoginProfile from ASIAADMIN1 @e05",
		"AKIABACKDOOR":                "CreateAccessKey from ASIAADMIN1 @e04",
		"ASIACROSS":                   "AssumeRole from ASIAADMIN1 @e06",
		"ASIACONSOLE":                 "ConsoleLogin from user:" + acctA + "/backdoor @e09",
		"ASIASESS":                    "GetSessionToken from AKIASEED @e11",
		"ASIAFED":                     "GetFederationToken from AKIASEED @e13",
		"ASIAFEDCONSOLE":              "GetSigninToken from ASIAFED @e14",
		"ASIASI1":                     "AssumeRole from ASIAADMIN1 @e16",
		"ASIASI2":                     "AssumeRole from ASIASI1 @e17",
		"ASIASI3":                     "sourceIdentity si-evil (inferred) from ASIAADMIN1 @e18",
		"user:" + acctA + "/carol":    "UpdateLoginProfile from ASIAADMIN1 @e43",
		"ASIACAROL":                   "ConsoleLogin from user:" + acctA + "/carol @e44",
	} {
		if edges[to] != how {
			t.Errorf("edge to %s: %q, want %q", to, edges[to], how)
		}
	}
	// the benign session of the same role, the SAML and SSO sessions from
	// elsewhere, and the early sign-in stay out
	for _, k := range []string{"ASIABENIGN", "AKIABOB", "ASIASAML", "ASIASSO", "ASIAINST", "ASIABOBSI", "ASIAFEDLATER"} {
		for _, got := range r.AccessKeyIDs {
			if got == k {
				t.Errorf("%s is in scope", k)
			}
		}
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), `sourceIdentity "bob@corp"`) {
		t.Errorf("no note on the sourceIdentity not followed: %v", r.Notes)
	}
	ids := map[string]bool{}
	for _, id := range r.EventIDs {
		ids[id] = true
	}
	if !ids["e06b"] || !ids["e09"] || ids["e00"] {
		t.Errorf("events outside the keys: %v (want the cross-account copy e06b and the sign-in e09, not e00)", r.EventIDs)
	}
	// e01-e20 and e06b, e28, e43-e48, and e32 (failed, but made with a scoped key)
	if r.EventCount != 29 {
		t.Errorf("event count %d", r.EventCount)
	}
	kinds := map[string]string{}
	for _, res := range r.ResourcesChanged {
		kinds[res.Kind] += res.Name + ";"
	}
	for kind, name := range map[string]string{"user": "user/backdoor;", "access-key": "AKIABACKDOOR (user/backdoor);", "login-profile": "user/backdoor;user/Carol;", "instance": "i-0123, i-0456;", "policy": ""} {
		got, ok := kinds[kind]
		if !ok || (name != "" && got != name) {
			t.Errorf("resources_changed %s = %q (ok %v), want %q; all: %v", kind, got, ok, name, kinds)
		}
	}
	if len(r.DataAccess) != 1 || r.DataAccess[0].Container != "data" || r.DataAccess[0].Objects != 2 || r.DataAccess[0].Bytes != 300 {
		t.Errorf("data access %+v", r.DataAccess)
	}
	accts := map[string]int64{}
	for _, a := range r.Accounts {
		accts[a.Value] = a.Events
	}
	if accts[acctB] != 2 {
		t.Errorf("accounts %v: the cross-account hop's events in %s", r.Accounts, acctB)
	}
	if r.WriteEventCount != 7 {
		t.Errorf("write events %d: %+v", r.WriteEventCount, r.WriteEvents)
	}
}

func TestScopeFromIPAndPrincipal(t *testing.T) {
	st := caseWith(t, scenario())
	r, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "ip", Value: "198.51.100.9"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(r), []string{"ASIAINST", "ASIASAML", "ASIASSO", "ASIAWEB"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys from the IP %v, want %v", got, want)
	}
	edges := edgeSet(r)
	if !strings.HasPrefix(edges["ASIASAML"], "AssumeRoleWithSAML from ") || !strings.HasSuffix(edges["ASIASAML"], "@e21") {
		t.Errorf("SAML edge %q", edges["ASIASAML"])
	}
	if edges["ASIAWEB"] != "AssumeRoleWithWebIdentity from repo:acme/app:ref:refs/heads/main @e41" {
		t.Errorf("web identity edge %q", edges["ASIAWEB"])
	}
	if !strings.HasPrefix(edges["ASIASSO"], "GetRoleCredentials") || !strings.HasSuffix(edges["ASIASSO"], "@e23") {
		t.Errorf("Identity Center edge %q", edges["ASIASSO"])
	}
	var note string
	for _, c := range r.Credentials {
		if c.AccessKeyID == "ASIAINST" {
			note = c.Note
		}
	}
	if !strings.Contains(note, "EC2 instance credentials of i-0abc used from 198.51.100.9, where the instance's own sessions never called from (they used 10.0.5.5)") {
		t.Errorf("instance credentials note %q", note)
	}
	// a principal: alice's own key and what follows from it
	r, err = Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "principal", Value: "arn:aws:iam::" + acctA + ":user/alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.AccessKeyIDs) < 10 {
		t.Errorf("principal seed found %v", r.AccessKeyIDs)
	}
}

func TestScopeWindow(t *testing.T) {
	st := caseWith(t, scenario())
	// from 10:03 on, the AssumeRole at 10:02 is outside: the Admin session
	// and all that came from it are not followed
	r, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "key", Value: "AKIASEED"}}, Since: t0.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(r), []string{"AKIASEED", "ASIAFED", "ASIAFEDCONSOLE", "ASIASESS"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if r.FirstSeen != at(11) {
		t.Errorf("first seen %s", r.FirstSeen)
	}
	r, err = Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "key", Value: "AKIASEED"}}, Until: t0.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(r), []string{"AKIABACKDOOR", "AKIASEED", "ASIAADMIN1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys until 10:05 %v, want %v", got, want)
	}
	if _, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "ip", Value: "192.0.2.250"}}}); err != ErrNoSeed {
		t.Errorf("unknown IP: %v", err)
	}
}

func TestScopeJSONShape(t *testing.T) {
	st := caseWith(t, scenario())
	r, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "key", Value: "AKIASEED"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"seed", "access_key_ids", "principals", "source_ips", "accounts", "regions", "user_agents", "edges",
		"write_events", "resources_changed", "data_access", "first_seen", "last_seen", "event_count"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q key", k)
		}
	}
	edge := m["edges"].([]any)[0].(map[string]any)
	for _, k := range []string{"from", "to", "how", "event_id", "time"} {
		if _, ok := edge[k]; !ok {
			t.Errorf("edge has no %q: %v", k, edge)
		}
	}
	if s := fmt.Sprint(m["seed"]); !strings.Contains(s, "AKIASEED") {
		t.Errorf("seed %s", s)
	}
}

// TestScopeTargetCopyOnly: with only the target account's logs, a
// principal seed naming the caller's role session still finds the hop
// through the AWSAccount copy of the cross-account call.
func TestScopeTargetCopyOnly(t *testing.T) {
	var only [][]byte
	for _, r := range scenario() {
		if strings.Contains(string(r), `"eventID":"e06b"`) || strings.Contains(string(r), `"eventID":"e07"`) {
			only = append(only, r)
		}
	}
	if len(only) != 2 {
		t.Fatalf("picked %d records", len(only))
	}
	st := caseWith(t, only)
	r, err := Run(context.Background(), st, Options{Seeds: []Seed{{Kind: "principal", Value: "arn:aws:sts::" + acctA + ":assumed-role/Admin/alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(r); !reflect.DeepEqual(got, []string{"ASIACROSS"}) || r.EventCount != 2 {
		t.Errorf("keys %v, %d events: want the cross-account session and both events", got, r.EventCount)
	}
}

// TestScopeWithoutKeys: seeds whose events carry no access key (a service
// calling on its own, a console sign-in) aggregate lists over NULLs only;
// the report says "none", it does not fail on scanning NULL into a list.
func TestScopeWithoutKeys(t *testing.T) {
	service := map[string]any{"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}
	console := map[string]any{"type": "IAMUser", "principalId": "AIDACAROL", "arn": "arn:aws:iam::" + acctA + ":user/carol", "accountId": acctA, "userName": "carol"}
	st := caseWith(t, [][]byte{
		rec{"userIdentity": service, "sourceIPAddress": "lambda.amazonaws.com", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole"}.json("s1", 1),
		rec{"userIdentity": service, "sourceIPAddress": "lambda.amazonaws.com", "eventSource": "kms.amazonaws.com", "eventName": "Decrypt"}.json("s2", 2),
		rec{"userIdentity": console, "sourceIPAddress": "198.51.100.77", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn"}.json("c1", 3),
	})
	for _, c := range []struct {
		name string
		seed Seed
		want int64
	}{
		{"a service's hostname as the IP", Seed{Kind: "ip", Value: "lambda.amazonaws.com"}, 2},
		{"a principal that used no key", Seed{Kind: "principal", Value: "arn:aws:iam::" + acctA + ":user/carol"}, 1},
		{"an IP whose calls used no key", Seed{Kind: "ip", Value: "198.51.100.77"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Run(context.Background(), st, Options{Seeds: []Seed{c.seed}})
			if err != nil {
				t.Fatal(err)
			}
			if r.EventCount != c.want || len(r.SourceIPs) != 1 || r.SourceIPs[0].AccessKeyIDs == nil || len(r.SourceIPs[0].AccessKeyIDs) != 0 {
				t.Fatalf("%d events, source IPs %+v", r.EventCount, r.SourceIPs)
			}
		})
	}
}
