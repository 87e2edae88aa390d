package simulate

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAttackStepsArePresent(t *testing.T) {
	t.Parallel()
	res, logs := fixture(t)
	tr := res.Truth
	byID := map[string]map[string]any{}
	for _, r := range all(logs) {
		byID[str(r.m, "eventID")] = r.m
	}
	want := []struct{ step, event, account string }{
		{"leaked-key-validated", "GetCallerIdentity", tr.VictimAccount},
		{"recon-access-denied-burst", "ListSecrets", tr.VictimAccount},
		{"get-account-authorization-details", "GetAccountAuthorizationDetails", tr.VictimAccount},
		{"assume-role-denied", "AssumeRole", tr.VictimAccount},
		{"assume-role-infra-admin", "AssumeRole", tr.VictimAccount},
		{"create-user", "CreateUser", tr.VictimAccount},
		{"attach-admin-policy", "AttachUserPolicy", tr.VictimAccount},
		{"create-access-key", "CreateAccessKey", tr.VictimAccount},
		{"create-login-profile", "CreateLoginProfile", tr.VictimAccount},
		{"stop-logging", "StopLogging", tr.VictimAccount},
		{"start-logging-remediation", "StartLogging", tr.VictimAccount},
		{"delete-trail-denied", "DeleteTrail", tr.VictimAccount},
		{"put-event-selectors-denied", "PutEventSelectors", tr.VictimAccount},
		{"guardduty-disabled", "UpdateDetector", tr.VictimAccount},
		{"guardduty-delete-denied", "DeleteDetector", tr.VictimAccount},
		{"cross-account-assume-role", "AssumeRole", tr.VictimAccount},
		{"cross-account-assume-role-target", "AssumeRole", tr.SecondAccount},
		{"second-account-first-call", "GetCallerIdentity", tr.SecondAccount},
		{"exfil-first-object", "GetObject", tr.VictimAccount},
		{"create-snapshot", "CreateSnapshot", tr.VictimAccount},
		{"share-snapshot", "ModifySnapshotAttribute", tr.VictimAccount},
		{"backdoor-key-first-use", "GetCallerIdentity", tr.VictimAccount},
		{"backdoor-console-login", "ConsoleLogin", tr.VictimAccount},
	}
	for _, w := range want {
		t.Run(w.step, func(t *testing.T) {
			s, ok := tr.Step(w.step)
			if !ok {
				t.Fatalf("step %s missing from the ground truth", w.step)
			}
			r := byID[s.EventID]
			if r == nil {
				t.Fatalf("event %s of step %s not in the logs", s.EventID, w.step)
			}
			if str(r, "eventName") != w.event || str(r, "recipientAccountId") != w.account {
				t.Errorf("event is %s in %s, want %s in %s", str(r, "eventName"), str(r, "recipientAccountId"), w.event, w.account)
			}
			if str(r, "eventTime") != s.Time.Format(time.RFC3339) || s.Time.Before(tr.AttackStart) || s.Time.After(tr.AttackEnd) {
				t.Errorf("event time %s, truth %s, attack %s..%s", str(r, "eventTime"), s.Time, tr.AttackStart, tr.AttackEnd)
			}
		})
	}
	for i := 1; i < len(tr.Steps); i++ {
		if tr.Steps[i].Time.Before(tr.Steps[i-1].Time) {
			t.Errorf("step %s before step %s", tr.Steps[i].Name, tr.Steps[i-1].Name)
		}
	}
}

func TestAttackStory(t *testing.T) {
	t.Parallel()
	res, logs := fixture(t)
	tr := res.Truth
	recs := all(logs)
	isAttacker := func(m map[string]any) bool { return slices.Contains(tr.AttackerIPs, str(m, "sourceIPAddress")) }

	t.Run("leaked key from new address and agent", func(t *testing.T) {
		var fromAttacker, denied int
		for _, r := range recs {
			if str(r.m, "userIdentity.accessKeyId") != tr.LeakedAccessKeyID {
				continue
			}
			if isAttacker(r.m) {
				fromAttacker++
				if str(r.m, "errorCode") != "" {
					denied++
				}
				if ua := strings.Trim(str(r.m, "userAgent"), "[]"); !slices.Contains(tr.AttackerUserAgents, ua) {
					t.Errorf("attacker call with agent %q", str(r.m, "userAgent"))
				}
			} else if !slices.Contains(tr.CorporateIPs, str(r.m, "sourceIPAddress")) && !strings.HasPrefix(str(r.m, "sourceIPAddress"), "198.51.100.") {
				t.Errorf("leaked key used from unexpected %s", str(r.m, "sourceIPAddress"))
			}
		}
		if fromAttacker < 40 || denied < 20 {
			t.Errorf("leaked key: %d attacker calls, %d denied; want a recon burst", fromAttacker, denied)
		}
	})

	t.Run("backdoor user created and used", func(t *testing.T) {
		create, _ := tr.Step("create-access-key")
		m := findID(recs, create.EventID)
		if str(m, "requestParameters.userName") != tr.BackdoorUser || str(m, "responseElements.accessKey.accessKeyId") != tr.BackdoorAccessKeyID {
			t.Errorf("CreateAccessKey = %v", m["responseElements"])
		}
		attach, _ := tr.Step("attach-admin-policy")
		if p := str(findID(recs, attach.EventID), "requestParameters.policyArn"); p != "arn:aws:iam::aws:policy/AdministratorAccess" {
			t.Errorf("attached %q", p)
		}
		login, _ := tr.Step("backdoor-console-login")
		if l := findID(recs, login.EventID); str(l, "additionalEventData.MFAUsed") != "No" || str(l, "responseElements.ConsoleLogin") != "Success" {
			t.Errorf("backdoor sign-in %v %v", l["additionalEventData"], l["responseElements"])
		}
		used := 0
		for _, r := range recs {
			if str(r.m, "userIdentity.accessKeyId") == tr.BackdoorAccessKeyID {
				used++
			}
		}
		if used < 5 {
			t.Errorf("backdoor key used %d times", used)
		}
	})

	t.Run("cross-account pair shares sharedEventID", func(t *testing.T) {
		src, _ := tr.Step("cross-account-assume-role")
		dst, _ := tr.Step("cross-account-assume-role-target")
		a, b := findID(recs, src.EventID), findID(recs, dst.EventID)
		if a == nil || b == nil {
			t.Fatal("pair missing")
		}
		if str(a, "sharedEventID") == "" || str(a, "sharedEventID") != str(b, "sharedEventID") || str(a, "requestID") != str(b, "requestID") {
			t.Errorf("sharedEventID %q/%q requestID %q/%q", str(a, "sharedEventID"), str(b, "sharedEventID"), str(a, "requestID"), str(b, "requestID"))
		}
		if str(b, "userIdentity.type") != "AWSAccount" || str(b, "userIdentity.accountId") != tr.VictimAccount || get(b, "userIdentity.arn") != nil {
			t.Errorf("target copy identity %v", b["userIdentity"])
		}
		if str(a, "userIdentity.type") != "AssumedRole" || str(a, "requestParameters.roleArn") != tr.CrossAccountRoleARN {
			t.Errorf("caller copy %v %v", a["userIdentity"], a["requestParameters"])
		}
	})

	t.Run("session keys issued then used", func(t *testing.T) {
		issued, used := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			if k := str(r.m, "responseElements.credentials.accessKeyId"); k != "" && isAttacker(r.m) {
				issued[k] = true
			}
			if isAttacker(r.m) {
				used[str(r.m, "userIdentity.accessKeyId")] = true
			}
		}
		if len(tr.SessionKeys) < 3 {
			t.Fatalf("only %d session keys", len(tr.SessionKeys))
		}
		for i, k := range tr.SessionKeys {
			if !used[k] {
				t.Errorf("session key %s never used by the attacker", k)
			}
			if i < len(tr.SessionKeys)-1 && !issued[k] { // the last one comes from the console sign-in
				t.Errorf("session key %s not issued by an attacker AssumeRole", k)
			}
		}
	})

	t.Run("snapshot shared outside", func(t *testing.T) {
		s, _ := tr.Step("share-snapshot")
		m := findID(recs, s.EventID)
		items, _ := get(m, "requestParameters.createVolumePermission.add.items").([]any)
		if len(items) != 1 || str(items[0].(map[string]any), "userId") != tr.OutsideAccount || str(m, "requestParameters.snapshotId") != tr.SnapshotID {
			t.Errorf("ModifySnapshotAttribute %v", m["requestParameters"])
		}
	})

	t.Run("bulk download", func(t *testing.T) {
		var n int
		var sum int64
		for _, r := range recs {
			if str(r.m, "eventName") != "GetObject" || str(r.m, "requestParameters.bucketName") != tr.ExfilBucket || !isAttacker(r.m) {
				continue
			}
			out, err := get(r.m, "additionalEventData.bytesTransferredOut").(json.Number).Int64()
			if err != nil {
				t.Fatal(err)
			}
			n++
			sum += out
		}
		if n != tr.ExfilObjects || sum != tr.ExfilBytes || n < 100 {
			t.Errorf("%d objects, %d bytes; truth %d, %d", n, sum, tr.ExfilObjects, tr.ExfilBytes)
		}
	})

	t.Run("logging gap", func(t *testing.T) {
		for _, r := range recs {
			at, _ := time.Parse(time.RFC3339, str(r.m, "eventTime"))
			if str(r.m, "recipientAccountId") == tr.VictimAccount && !at.Before(tr.LoggingStopped) && at.Before(tr.LoggingRestarted) {
				t.Errorf("victim event %s at %s while the trail was stopped", str(r.m, "eventName"), at)
			}
		}
		if !tr.LoggingRestarted.After(tr.LoggingStopped) {
			t.Errorf("gap %s..%s", tr.LoggingStopped, tr.LoggingRestarted)
		}
	})

	t.Run("GPU mining", func(t *testing.T) {
		ok, failed := map[string]bool{}, 0
		for _, r := range recs {
			if str(r.m, "eventName") != "RunInstances" || str(r.m, "userIdentity.accessKeyId") != tr.BackdoorAccessKeyID {
				continue
			}
			if str(r.m, "errorCode") != "" {
				failed++
				continue
			}
			ok[str(r.m, "awsRegion")] = true
		}
		if len(ok) < 3 || failed < 1 || len(ok) != len(tr.GPURegions) || len(tr.GPUInstanceIDs) < 5 {
			t.Errorf("launched in %v, %d failed; truth %v", ok, failed, tr.GPURegions)
		}
	})

	t.Run("background stays benign", func(t *testing.T) {
		alarming := []string{"CreateUser", "AttachUserPolicy", "CreateAccessKey", "CreateLoginProfile", "StopLogging",
			"DeleteTrail", "PutEventSelectors", "UpdateDetector", "DeleteDetector", "ModifySnapshotAttribute",
			"AuthorizeSecurityGroupIngress", "ImportKeyPair"}
		remediation, _ := tr.Step("start-logging-remediation")
		errors := 0
		for _, r := range recs {
			if isAttacker(r.m) || str(r.m, "eventID") == remediation.EventID {
				continue
			}
			if slices.Contains(alarming, str(r.m, "eventName")) {
				t.Errorf("background %s by %s", str(r.m, "eventName"), str(r.m, "userIdentity.arn"))
			}
			if str(r.m, "eventName") == "ConsoleLogin" && str(r.m, "additionalEventData.MFAUsed") != "Yes" {
				t.Errorf("background console sign-in without MFA")
			}
			if str(r.m, "eventName") == "ListBuckets" && str(r.m, "userIdentity.type") == "IAMUser" {
				t.Errorf("background ListBuckets by an IAM user")
			}
			if str(r.m, "errorCode") != "" {
				errors++
			}
		}
		if rate := float64(errors) / float64(len(recs)); rate > 0.05 {
			t.Errorf("background error rate %.3f", rate)
		}
	})
}

func findID(recs []logRecord, id string) map[string]any {
	for _, r := range recs {
		if str(r.m, "eventID") == id {
			return r.m
		}
	}
	return nil
}
