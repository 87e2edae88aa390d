package simulate

// AWS acting on its own: AWS Config's service-linked role describing
// everything, CloudTrail asking KMS for log-file keys, autoscaling, key
// rotation, and a monitoring vendor polling through a cross-account role.

// configReads are what the AWS Config recorder describes.
var configReads = []api{
	aDescribeInstances, aDescribeSecurityGroups, aDescribeVpcs, aDescribeSubnets, aDescribeVolumes,
	aGetBucketPolicy, aGetBucketAcl, aGetBucketVersioning, aGetRole, aListAttachedRolePolicies, aGetUser,
	aListGroupsForUser, aListAttachedUserPolicies, aDescribeDBInstances, aDescribeTable, aDescribeKey,
	aGetFunction, aDescribeTrails, aDescribeAutoScalingGroups, aDescribeLogGroups, aDescribeRepositories,
}

// vendorReads are a monitoring vendor's poll.
var vendorReads = []api{
	aGetMetricData, aGetMetricData, aDescribeInstances, aDescribeAlarms, aListFunctions, aDescribeDBInstances,
	aDescribeLogGroups, aDescribeAutoScalingGroups, aListTables, aDescribeTags, aListBuckets,
}

const (
	vendorUA      = "aws-sdk-go/1.50.8 (go1.21.6; linux; amd64)"
	vendorSession = "observability-poller"
	vendorExtID   = "c0f1b2d3e4a5968778695a4b3c2d1e0f"
)

var vendorIPs = []string{"3.233.148.20", "3.233.148.21", "44.198.41.77"}

func (u *unit) genServices() {
	g := u.rng(6)
	s := float64(u.c.scale)
	acct := u.a.idx
	// AWS Config: the service assumes its role once an hour, then describes.
	assumed := u.configAssumed()
	u.add(assumed, kConfigAssume, aAssumeRole, rUSE1, 0, 0, 0)
	for k, n := 0, g.poisson(14*s); k < n; k++ {
		t := assumed + 1 + int64(g.intn(int(u.hour+hourSecs-assumed-1)))
		u.add(t, kConfig, configReads[g.intn(len(configReads))], g.intn(3), 0, g.u64(), k)
	}
	if acct == 0 {
		for k, n := 0, g.poisson(11*s); k < n; k++ {
			u.add(u.hour+int64(g.intn(hourSecs)), kTrailKMS, aGenerateDataKey, rUSE1, 0, g.u64(), k)
		}
		for k, n := 0, g.poisson(4*s*diurnal(u.hour)); k < n; k++ {
			ep := g.u64()
			t := u.episodeStart(ep, 60)
			u.add(t, kVendorAssume, aAssumeRole, rUSE1, 0, ep, 0)
			e := newRng(ep)
			for j, m := 0, e.between(3, 8); j < m; j++ {
				t += int64(e.between(0, 2))
				u.add(t, kVendor, vendorReads[e.intn(len(vendorReads))], pick(&e, []int{rUSE1, rUSE1, rEUW1, rUSW2}), 0, ep, j+1)
			}
		}
		for k, n := 0, g.poisson(0.3*s*diurnal(u.hour)); k < n; k++ {
			u.add(u.hour+int64(g.intn(hourSecs)), kASG, pick(&g, []api{aRunInstances, aTerminateInstances}), rUSE1, 0, g.u64(), k)
		}
	}
	if g.chance(0.004 * s) {
		u.add(u.hour+int64(g.intn(hourSecs)), kRotateKey, aRotateKey, rUSE1, 0, g.u64(), 0)
	}
}

func (u *unit) renderService(r *record, s *spec, g *rng) {
	c, a := u.c, u.a
	r.call(s.api, int(s.region), s.t, a.id)
	switch s.kind {
	case kConfigAssume:
		r.who = identity{kind: idAWSService, invokedBy: "config.amazonaws.com"}
		r.byService("config.amazonaws.com")
		r.assumeRole(a.config, "AWSConfig-Describe", u.configKey(), 0, "")
	case kConfig:
		r.who = a.config.sessionID("AWSConfig-Describe", u.configKey(), u.configAssumed(), false)
		r.who.invokedBy = "config.amazonaws.com"
		r.byService("config.amazonaws.com")
		ep := newRng(s.seed)
		switch s.api {
		case aGetUser, aListGroupsForUser, aListAttachedUserPolicies:
			r.oneParam("userName", a.devs[ep.intn(len(a.devs))].name)
		default:
			u.humanParams(r, s.api, &ep, g, r.who.arn)
		}
		if r.errCode == "" && g.chance(0.01) {
			if apis[s.api].svc == "ec2" {
				r.errCode, r.errMsg = "Client.RequestLimitExceeded", "Request limit exceeded."
			} else {
				r.errCode, r.errMsg = "ThrottlingException", "Rate exceeded"
			}
		}
	case kTrailKMS:
		r.who = identity{kind: idAWSService, invokedBy: "cloudtrail.amazonaws.com"}
		r.byService("cloudtrail.amazonaws.com")
		r.req = append(r.req[:0], `{"keyId":"`...)
		r.req = append(r.req, a.kmsKey...)
		r.req = append(r.req, `","encryptionContext":{"aws:cloudtrail:arn":"arn:aws:cloudtrail:us-east-1:`...)
		r.req = append(r.req, a.id...)
		r.req = append(r.req, `:trail/`...)
		r.req = append(r.req, a.trail...)
		r.req = append(r.req, `","aws:s3:arn":"arn:aws:s3:::acme-cloudtrail-logs-`...)
		r.req = append(r.req, a.id...)
		r.req = append(r.req, `/AWSLogs/`...)
		r.req = append(r.req, a.id...)
		r.req = append(r.req, `/CloudTrail/`...)
		region := regions[g.intn(3)]
		r.req = append(r.req, region...)
		r.req = append(r.req, '/')
		r.req = appendDatePath(r.req, s.t)
		r.req = append(r.req, '/')
		r.req = append(r.req, logFileName(a.id, region, s.t+300-s.t%300, fromAlphabet(g.u64(), 16, alnum))...)
		r.req = append(r.req, `"},"keySpec":"AES_256"}`...)
		r.res = append(r.res, resource{account: a.id, typ: "AWS::KMS::Key", arn: a.kmsKey})
	case kRotateKey:
		r.version = "1.08"
		r.who = identity{kind: idInternal, account: a.id, invokedBy: "AWS Internal"}
		r.ip, r.ua, r.tls, r.tlsHost = "AWS Internal", "AWS Internal", tlsNone, ""
		r.req, r.eventType = r.req[:0], "AwsServiceEvent"
		r.res = append(r.res, resource{account: a.id, typ: "AWS::KMS::Key", arn: a.kmsKey})
		r.details = append(r.details[:0], `{"keyId":"`...)
		r.details = append(r.details, a.kmsKey[len(a.kmsKey)-36:]...)
		r.details = append(r.details, `"}`...)
	case kVendorAssume:
		e := newRng(s.seed)
		r.who = identity{kind: idAWSAccount, principal: uniqueID("AROA", mix(c.seed, 0xfe)) + ":vendor-collector", account: c.vendor}
		r.ip, r.ua = pick(&e, vendorIPs), vendorUA
		r.assumeRole(c.vendorRole, vendorSession, accessKeyID("ASIA", mix(s.seed, 31)), 3600, vendorExtID)
	case kVendor:
		e := newRng(s.seed)
		r.who = c.vendorRole.sessionID(vendorSession, accessKeyID("ASIA", mix(s.seed, 31)), u.episodeStart(s.seed, 60), false)
		r.ip, r.ua = pick(&e, vendorIPs), vendorUA
		ep := newRng(mix(s.seed, uint64(s.step)))
		if s.api == aListBuckets {
			r.listBuckets(g)
		}
		u.humanParams(r, s.api, &ep, g, r.who.arn)
		if s.api == aListTables || s.api == aDescribeTags && g.chance(0.5) {
			r.deny(s.api, r.who.arn, "", false) // the vendor asks for more than its policy grants
		}
	case kASG:
		r.who = a.asg.sessionID("AutoScaling", accessKeyID("ASIA", mix(c.seed, 41, uint64(u.hour))), u.hour, false)
		r.who.invokedBy = "autoscaling.amazonaws.com"
		r.byService("autoscaling.amazonaws.com")
		id := ec2ID("i-", s.seed)
		if s.api == aTerminateInstances {
			r.terminateInstances(g, id)
			return
		}
		r.runInstances(g, &launch{acct: a.id, region: r.region, image: "ami-0c101f26f147fa7fd", itype: "m6i.large", count: 1,
			subnet: ec2ID("subnet-", mix(c.seed, 51)), vpc: ec2ID("vpc-", mix(c.seed, 52)), sg: ec2ID("sg-", mix(c.seed, 53)),
			tagKey: "aws:autoscaling:groupName", tagVal: "web-app-asg", ids: []string{id}})
	}
}

// configAssumed is when AWS Config assumed its role this hour.
func (u *unit) configAssumed() int64 {
	g := newRng(mix(u.c.seed, 0xca, uint64(u.a.idx), uint64(u.hour)))
	return u.hour + int64(g.intn(600))
}

// configKey is the key of this hour's AWS Config session.
func (u *unit) configKey() string {
	return accessKeyID("ASIA", mix(u.c.seed, 0xc0f, uint64(u.a.idx), uint64(u.hour)))
}
