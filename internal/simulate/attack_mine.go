package simulate

import (
	"slices"
	"strconv"
)

// The last act: the backdoor user is used from a rented server, signs in to
// the console without MFA, and launches GPU instances in several regions,
// some of which fail on quota or capacity.

// backdoorUse tries the backdoor key and signs in to the console with it.
func (at *attacker) backdoorUse() {
	tr := &at.p.truth
	bd := &user{name: backdoorName, arn: tr.BackdoorUserARN, id: uniqueID("AIDA", mix(at.c.seed, 0xbad, 1)),
		account: at.v.id, key: tr.BackdoorAccessKeyID}
	t := at.when(5, 14, 0)
	at.begin(at.v, aGetCallerIdentity, rUSE1, t, bd.longTerm(), ipMiner, uaMiner)
	at.emit("backdoor-key-first-use")

	t += int64(at.g.between(120, 300))
	r := &at.r
	r.reset()
	r.version, r.time, r.source, r.name = "1.08", t, "signin.amazonaws.com", "ConsoleLogin"
	r.region, r.ip, r.ua = "us-east-1", ipMiner, uaKaliFox
	r.who = identity{kind: idIAMUser, principal: bd.id, arn: bd.arn, account: bd.account, userName: bd.name}
	r.eventType, r.mgmt, r.recipient, r.readOnly = "AwsConsoleSignIn", true, at.v.id, roFalse
	r.tls, r.tlsHost = tls13, "signin.aws.amazon.com"
	r.resp = append(r.resp[:0], `{"ConsoleLogin":"Success"}`...)
	r.add = append(r.add[:0], `{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_`...)
	r.add = appendS3RequestID(r.add, &at.g)
	r.add = append(r.add, `","MobileVersion":"No","MFAUsed":"No"}`...)
	at.emit("backdoor-console-login")

	console := bd.longTerm()
	console.keyID = accessKeyID("ASIA", mix(at.c.seed, 0xc0))
	console.session, console.created = true, t
	tr.SessionKeys = append(tr.SessionKeys, console.keyID)
	for _, a := range []api{aDescribeInstances, aDescribeInstanceStatus, aDescribeAccountAttributes, aDescribeKeyPairs, aGetAccountSummary, aListUsers} {
		t += int64(at.g.between(2, 40))
		r := at.begin(at.v, a, rUSE1, t, console, ipMiner, "console.amazonaws.com")
		if apis[a].svc == "ec2" {
			r.ua = "console.ec2.amazonaws.com"
		}
		r.console = true
		at.emit("")
	}
}

// gpuLaunch is one region's mining attempt.
type gpuLaunch struct {
	region       int
	itype        string
	count        int
	code, reason string
}

var gpuLaunches = []gpuLaunch{
	{0, "p3.16xlarge", 2, "Client.VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 64 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."},
	{0, "g4dn.12xlarge", 2, "", ""},
	{2, "g4dn.12xlarge", 2, "", ""},
	{1, "p3.8xlarge", 2, "Client.VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."},
	{14, "g4dn.xlarge", 4, "", ""},
	{8, "p3.2xlarge", 1, "Server.InsufficientInstanceCapacity", "We currently do not have sufficient p3.2xlarge capacity in the Availability Zone you requested (eu-central-1a). Our system will be working on provisioning additional capacity. You can currently get p3.2xlarge capacity by not specifying an Availability Zone in your request or choosing eu-central-1b, eu-central-1c."},
	{3, "g4dn.4xlarge", 3, "", ""},
}

// mine prepares each region (key pair, SSH-open security group) and
// launches GPU instances with the backdoor key.
func (at *attacker) mine() {
	tr := &at.p.truth
	bd := identity{kind: idIAMUser, principal: uniqueID("AIDA", mix(at.c.seed, 0xbad, 1)), arn: tr.BackdoorUserARN,
		account: at.v.id, keyID: tr.BackdoorAccessKeyID, userName: backdoorName}
	t := at.when(5, 31, 0)
	next := func(a api, region int) *record {
		t += int64(at.g.between(1, 12))
		return at.begin(at.v, a, region, t, bd, ipMiner, uaMiner)
	}
	next(aDescribeRegions, rUSE1)
	at.emit("")
	prepared := map[int]string{}
	for i, l := range gpuLaunches {
		sg, ok := prepared[l.region]
		if !ok {
			r := next(aImportKeyPair, l.region)
			r.req = append(r.req[:0], `{"keyName":"miner-key","publicKeyMaterial":"<sensitiveDataRemoved>"}`...)
			r.resp = append(r.resp[:0], `{"requestId":"`+uuidString(&at.g)+`","keyName":"miner-key","keyFingerprint":"`+fingerprint(&at.g)+`","keyPairId":"`+ec2ID("key-", at.g.u64())+`"}`...)
			at.emit("")
			sg = ec2ID("sg-", mix(at.c.seed, 0x56, uint64(l.region)))
			r = next(aCreateSecurityGroup, l.region)
			r.req = append(r.req[:0], `{"groupName":"default-ssh","groupDescription":"default-ssh"}`...)
			r.resp = append(r.resp[:0], `{"requestId":"`+uuidString(&at.g)+`","_return":true,"groupId":"`+sg+`"}`...)
			at.emit("")
			r = next(aAuthorizeSecurityGroupIngress, l.region)
			r.req = append(r.req[:0], `{"groupId":"`+sg+`","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"groups":{},"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`...)
			r.resp = append(r.resp[:0], `{"requestId":"`+uuidString(&at.g)+`","_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"`+at.v.id+`","groupId":"`+sg+`","securityGroupRuleId":"`+ec2ID("sgr-", at.g.u64())+`","isEgress":false,"ipProtocol":"tcp","fromPort":22,"toPort":22,"cidrIpv4":"0.0.0.0/0"}]}}`...)
			at.emit("")
			prepared[l.region] = sg
		}
		r := next(aRunInstances, l.region)
		region := regions[l.region]
		ln := &launch{acct: at.v.id, region: region, image: ec2ID("ami-", mix(at.c.seed, 0xa1, uint64(l.region))), itype: l.itype,
			count: l.count, subnet: ec2ID("subnet-", mix(at.c.seed, 0x5b, uint64(l.region))), vpc: ec2ID("vpc-", mix(at.c.seed, 0x5c, uint64(l.region))),
			sg: sg, keyName: "miner-key", tagKey: "Name", tagVal: "worker"}
		if l.code != "" {
			r.errCode, r.errMsg = l.code, l.reason
		} else {
			for k := 0; k < l.count; k++ {
				ln.ids = append(ln.ids, ec2ID("i-", mix(at.c.seed, 0x61, uint64(i), uint64(k))))
			}
		}
		r.runInstances(&at.g, ln)
		step := "run-instances-" + region + "-" + strconv.Itoa(i)
		if l.code != "" {
			step += "-failed"
		}
		at.emit(step)
		tr.GPUInstanceIDs = append(tr.GPUInstanceIDs, ln.ids...)
		if l.code == "" && !slices.Contains(tr.GPURegions, region) {
			tr.GPURegions = append(tr.GPURegions, region)
		}
	}
}

// fingerprint is an SSH key fingerprint in the colon-hex form EC2 returns.
func fingerprint(g *rng) string {
	b := make([]byte, 0, 47)
	for i := 0; i < 16; i++ {
		if i > 0 {
			b = append(b, ':')
		}
		v := g.intn(256)
		b = append(b, hexLower[v>>4], hexLower[v&0xf])
	}
	return string(b)
}
