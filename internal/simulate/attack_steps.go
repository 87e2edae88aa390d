package simulate

import (
	"strconv"
	"time"
)

// The attack, in the order responders most often reconstruct it: a leaked
// developer key validated by a scanner, recon with the key from a new
// address, a role pivot, a backdoor admin user, attempts to blind logging
// and GuardDuty, a hop into the second account, bulk S3 theft, an EBS
// snapshot shared out, and GPU miners launched with the backdoor.

// validate: a secret scanner tries the key minutes after it leaked.
func (at *attacker) validate() {
	at.begin(at.v, aGetCallerIdentity, rUSE1, at.when(0, 41, 9), at.leaked.longTerm(), ipScanner, uaTruffle)
	at.emit("leaked-key-validated")
}

// recon enumerates with the leaked key, then assumes infra-admin. It
// returns the session the attacker works with next.
func (at *attacker) recon() identity {
	me := at.leaked.longTerm()
	t := at.when(1, 47, 12)
	call := func(a api, region int) *record {
		t += int64(at.g.between(0, 3))
		return at.begin(at.v, a, region, t, me, ipOperator, uaPacu)
	}
	call(aGetCallerIdentity, rUSE1)
	at.emit("recon-first-call")
	for _, a := range []api{aGetUser, aListAttachedUserPolicies, aListGroupsForUser, aListAccessKeys, aListMFADevices} {
		call(a, rUSE1).oneParam("userName", at.leaked.name)
		at.emit("")
	}
	for _, a := range []api{aListUsers, aListRoles, aListPolicies} {
		call(a, rUSE1)
		at.emit("")
	}
	call(aGetAccountAuthorizationDetails, rUSE1)
	at.emit("get-account-authorization-details")
	call(aListBuckets, rUSE1).listBuckets(&at.g)
	at.emit("list-buckets")
	// Pacu-style enumeration: most of it is denied.
	denied := []api{aListSecrets, aDescribeParameters, aListKeys, aListFunctions, aDescribeDBInstances, aListTables,
		aDescribeRepositories, aDescribeTrails, aListDetectors, aDescribeOrganization, aListAccounts, aDescribeStacks,
		aListClusters, aGetAuthorizationToken, aDescribeAutoScalingGroups}
	first := true
	for _, a := range denied {
		r := call(a, rUSE1)
		r.deny(a, me.arn, "", false)
		if first {
			at.emit("recon-access-denied-burst")
			first = false
			continue
		}
		at.emit("")
	}
	call(aDescribeLogGroups, rUSE1)
	at.emit("")
	call(aDescribeRegions, rUSE1)
	at.emit("")
	for region := range regions {
		for _, a := range []api{aDescribeInstances, aDescribeSecurityGroups} {
			r := call(a, region)
			if region != rUSE1 && region != rEUW1 {
				r.deny(a, me.arn, "", false) // the developer policy is limited to two regions
			}
			at.emit("")
		}
	}
	call(aGetRole, rUSE1).oneParam("roleName", "infra-admin")
	at.emit("")

	// Pivot: the organisation's admin role is out of reach, infra-admin is not.
	t = at.when(1, 58, 40)
	r := at.begin(at.v, aAssumeRole, rUSE1, t, me, ipOperator, uaKaliCLI)
	target := "arn:aws:iam::" + at.s.id + ":role/OrganizationAccountAccessRole"
	r.req = append(r.req[:0], `{"roleArn":"`+target+`","roleSessionName":"carol.singh"}`...)
	r.deny(aAssumeRole, me.arn, target, false)
	at.emit("assume-role-denied")
	return at.assume(me, at.c.infraAdmin, at.when(1, 59, 31), "assume-role-infra-admin")
}

// assume has who assume ro from the operator's machine and returns the
// new session; the new ASIA key goes into the ground truth.
func (at *attacker) assume(who identity, ro *role, t int64, step string) identity {
	keyID := accessKeyID("ASIA", mix(at.c.seed, 0xa55, uint64(t)))
	r := at.begin(at.v, aAssumeRole, rUSE1, t, who, ipOperator, uaKaliCLI)
	r.assumeRole(ro, at.leaked.name, keyID, 3600, "")
	at.emit(step)
	at.p.truth.SessionKeys = append(at.p.truth.SessionKeys, keyID)
	return ro.sessionID(at.leaked.name, keyID, t, false)
}

// persist creates the backdoor administrator.
func (at *attacker) persist(s1 identity) {
	t := at.when(2, 3, 15)
	b, tr := backdoorName, &at.p.truth
	call := func(a api, step string, fill func(r *record)) {
		r := at.begin(at.v, a, rUSE1, t, s1, ipOperator, uaKaliCLI)
		fill(r)
		at.emit(step)
		t += int64(at.g.between(6, 40))
	}
	call(aGetCallerIdentity, "", func(*record) {})
	call(aCreateUser, "create-user", func(r *record) {
		r.oneParam("userName", b)
		r.resp = append(r.resp[:0], `{"user":{"path":"/","userName":"`+b+`","userId":"`+uniqueID("AIDA", mix(at.c.seed, 0xbad, 1))+
			`","arn":"`+tr.BackdoorUserARN+`","createDate":"`+awsDate(r.time)+`"}}`...)
	})
	call(aAttachUserPolicy, "attach-admin-policy", func(r *record) {
		r.req = append(r.req[:0], `{"userName":"`+b+`","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`...)
	})
	call(aCreateAccessKey, "create-access-key", func(r *record) {
		r.oneParam("userName", b)
		r.resp = append(r.resp[:0], `{"accessKey":{"userName":"`+b+`","accessKeyId":"`+tr.BackdoorAccessKeyID+
			`","status":"Active","createDate":"`+awsDate(r.time)+`"}}`...)
	})
	call(aCreateLoginProfile, "create-login-profile", func(r *record) {
		r.req = append(r.req[:0], `{"userName":"`+b+`","passwordResetRequired":false}`...)
		r.resp = append(r.resp[:0], `{"loginProfile":{"userName":"`+b+`","createDate":"`+awsDate(r.time)+`","passwordResetRequired":false}}`...)
	})
}

// evade stops the trail (a Lambda restarts it three and a half minutes
// later), fails to delete it or change its selectors (an SCP denies both),
// and disables GuardDuty in one region.
func (at *attacker) evade(s1 identity) {
	trail := "arn:aws:cloudtrail:us-east-1:" + at.v.id + ":trail/" + at.v.trail
	detector := fromAlphabet(mix(at.c.seed, 0x6d), 32, hexLower)
	t := at.when(2, 11, 2)
	next := func(a api, region int) *record {
		r := at.begin(at.v, a, region, t, s1, ipOperator, uaKaliCLI)
		t += int64(at.g.between(5, 25))
		return r
	}
	next(aDescribeTrails, rUSE1)
	at.emit("")
	next(aGetTrailStatus, rUSE1).oneParam("name", trail)
	at.emit("")
	next(aStopLogging, rUSE1).oneParam("name", trail)
	at.emit("stop-logging")
	stop := at.r.time
	at.p.gapStart = stop + 1
	at.p.gapEnd = stop + 207
	tr := &at.p.truth
	tr.LoggingStopped, tr.LoggingRestarted = time.Unix(at.p.gapStart, 0).UTC(), time.Unix(at.p.gapEnd, 0).UTC()

	// The auto-remediation Lambda, triggered by EventBridge on StopLogging.
	ip := awsPublicIP(mix(at.c.seed, 0x9a), rUSE1)
	who := at.c.guardian.sessionID("trail-guardian", accessKeyID("ASIA", mix(at.c.seed, 0x9b)), stop+150, false)
	at.begin(at.v, aStartLogging, rUSE1, at.p.gapEnd, who, ip, uaGuard).oneParam("name", trail)
	at.emit("start-logging-remediation")

	t = at.p.gapEnd + 31
	r := next(aDeleteTrail, rUSE1)
	r.oneParam("name", trail)
	r.deny(aDeleteTrail, s1.arn, trail, true)
	at.emit("delete-trail-denied")
	r = next(aPutEventSelectors, rUSE1)
	r.req = append(r.req[:0], `{"trailName":"`+trail+`","eventSelectors":[{"readWriteType":"All","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":[]}]}`...)
	r.deny(aPutEventSelectors, s1.arn, trail, true)
	at.emit("put-event-selectors-denied")
	next(aListDetectors, rUSE1)
	at.emit("")
	next(aGetDetector, rUSE1).oneParam("detectorId", detector)
	at.emit("")
	r = next(aUpdateDetector, rUSE1)
	r.req = append(r.req[:0], `{"detectorId":"`+detector+`","enable":false}`...)
	at.emit("guardduty-disabled")
	next(aListDetectors, rEUW1)
	at.emit("")
	r = next(aDeleteDetector, rEUW1)
	arn := "arn:aws:guardduty:eu-west-1:" + at.v.id + ":detector/" + fromAlphabet(mix(at.c.seed, 0x6e), 32, hexLower)
	r.oneParam("detectorId", arn[len(arn)-32:])
	r.deny(aDeleteDetector, s1.arn, arn, true)
	at.emit("guardduty-delete-denied")
}

// hop assumes the second account's ops role (role chaining across
// accounts) and looks around there.
func (at *attacker) hop(s1 identity) {
	t := at.when(2, 27, 30)
	ro := at.c.crossOps
	keyID := accessKeyID("ASIA", mix(at.c.seed, 0x2a))
	shared, reqID := uuidString(&at.g), uuidString(&at.g)
	for _, acct := range []*account{at.v, at.s} {
		r := at.begin(acct, aAssumeRole, rUSE1, t, s1, ipOperator, uaKaliCLI)
		r.assumeRole(ro, at.leaked.name, keyID, 3600, "")
		r.shared, r.requestID = shared, reqID
		if acct == at.s {
			r.who = identity{kind: idAWSAccount, principal: s1.principal, account: at.v.id}
			at.emit("cross-account-assume-role-target")
		} else {
			at.emit("cross-account-assume-role")
		}
	}
	at.p.truth.SessionKeys = append(at.p.truth.SessionKeys, keyID)
	s2 := ro.sessionID(at.leaked.name, keyID, t, false)
	call := func(a api, region int) *record {
		t += int64(at.g.between(2, 30))
		return at.begin(at.s, a, region, t, s2, ipOperator, uaKaliCLI)
	}
	call(aGetCallerIdentity, rUSE1)
	at.emit("second-account-first-call")
	call(aListBuckets, rUSE1).listBuckets(&at.g)
	at.emit("")
	call(aListRoles, rUSE1)
	at.emit("")
	call(aDescribeInstances, rEUW1)
	at.emit("")
	bucket := at.s.buckets[0]
	call(aListObjects, rEUW1).s3Bucket(&at.g, at.s.id, bucket, "", "warehouse/")
	at.emit("")
	for i := 0; i < 12; i++ {
		r := call(aGetObject, rEUW1)
		r.s3Object(&at.g, at.s.id, bucket, "warehouse/customers/part-"+pad5(i)+".parquet", int64(at.g.between(2_000_000, 60_000_000)), 0)
		at.emit("")
	}
}

// exfil re-assumes infra-admin (the first session expired) and syncs the
// customer exports bucket. It returns the new session.
func (at *attacker) exfil() identity {
	s3 := at.assume(at.leaked.longTerm(), at.c.infraAdmin, at.when(3, 4, 10), "assume-role-infra-admin-again")
	bucket := at.v.buckets[0]
	tr := &at.p.truth
	tr.ExfilBucket = bucket
	t := at.when(3, 5, 0)
	at.begin(at.v, aListBuckets, rUSE1, t, s3, ipOperator, uaKaliCLI).listBuckets(&at.g)
	at.emit("")
	for page := 0; page < 4; page++ {
		t += int64(at.g.between(1, 3))
		at.begin(at.v, aListObjects, rUSE1, t, s3, ipOperator, uaKaliCLI).s3Bucket(&at.g, at.v.id, bucket, "", "exports/")
		at.emit("")
	}
	for i := 0; i < 420; i++ {
		t += int64(at.g.between(0, 9))
		size := int64(150_000) << at.g.intn(8)
		size += int64(at.g.intn(int(size)))
		r := at.begin(at.v, aGetObject, rUSE1, t, s3, ipOperator, uaKaliCLI)
		key := "exports/2026/03/" + pad2(1+i%13) + "/customers-" + pad5(i) + ".csv.gz"
		r.s3Object(&at.g, at.v.id, bucket, key, size, 0)
		step := ""
		if i == 0 {
			step = "exfil-first-object"
		} else if i == 419 {
			step = "exfil-last-object"
		}
		at.emit(step)
		tr.ExfilObjects++
		tr.ExfilBytes += size
	}
	return s3
}

// snapshot copies the production database volume and shares the snapshot
// with the attacker's own account.
func (at *attacker) snapshot(s3 identity) {
	tr := &at.p.truth
	tr.VolumeID = ec2ID("vol-", mix(at.c.seed, 0x501))
	tr.SnapshotID = ec2ID("snap-", mix(at.c.seed, 0x502))
	t := at.when(3, 52, 0)
	at.begin(at.v, aDescribeVolumes, rUSE1, t, s3, ipOperator, uaKaliCLI)
	at.emit("")
	at.begin(at.v, aCreateSnapshot, rUSE1, t+41, s3, ipOperator, uaKaliCLI).
		createSnapshot(&at.g, at.v.id, tr.VolumeID, tr.SnapshotID, "backup", 500)
	at.emit("create-snapshot")
	for i := 1; i <= 3; i++ {
		at.begin(at.v, aDescribeSnapshots, rUSE1, t+41+int64(i*95), s3, ipOperator, uaKaliCLI)
		at.emit("")
	}
	at.begin(at.v, aModifySnapshotAttribute, rUSE1, t+402, s3, ipOperator, uaKaliCLI).shareSnapshot(&at.g, tr.SnapshotID, at.c.outside)
	at.emit("share-snapshot")
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func pad5(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 5 {
		s = "0" + s
	}
	return s
}
