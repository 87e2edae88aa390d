package simulate

import "strconv"

// People: developers calling AWS with long-term keys from the CLI or
// scripts, and console users who sign in with MFA and click around.

// devTasks are the little jobs developers do from a terminal. Each becomes
// a burst of calls seconds apart.
var devTasks = [][]api{
	{aGetCallerIdentity},
	{aDescribeInstances, aDescribeInstances, aDescribeSecurityGroups},
	{aDescribeInstances, aDescribeVolumes, aDescribeSnapshots},
	{aListObjects, aGetObject, aGetObject, aGetObject},
	{aListObjects, aPutObject, aPutObject},
	{aDescribeLogGroups, aFilterLogEvents, aFilterLogEvents, aFilterLogEvents},
	{aListFunctions, aGetFunction},
	{aGetAuthorizationToken, aDescribeRepositories},
	{aListClusters, aDescribeServices, aDescribeServices, aDescribeTaskDefinition},
	{aDescribeStacks, aDescribeStacks},
	{aGetParameter, aGetParameter},
	{aListTables, aDescribeTable},
	{aDescribeDBInstances},
	{aDescribeAlarms, aGetMetricData, aGetMetricData},
}

// infraTask is what engineers allowed to assume infra-admin do with it.
var infraTask = []api{aAssumeRole, aGetCallerIdentity, aDescribeAutoScalingGroups, aDescribeInstances, aDescribeServices, aUpdateService}

var logGroups = []string{"/aws/lambda/report-generator", "/ecs/web-app", "/ecs/api", "/aws/rds/instance/prod-db/postgresql"}

func (u *unit) genHumans() {
	g := u.rng(1)
	for i, d := range u.a.devs {
		n := g.poisson(1.5 * office(u.hour+1800, d.tz))
		for k := 0; k < n; k++ {
			ep := mix(u.c.seed, uint64(u.hour), strHash(d.arn), uint64(k))
			e := newRng(ep)
			task, kd := devTasks[e.intn(len(devTasks))], kDev
			if d.infra && e.chance(0.12) {
				task, kd = infraTask, kDevRole
			}
			t := u.episodeStart(ep, 400)
			region := d.region
			if e.chance(0.05) {
				region = rUSW2
			}
			for step, a := range task {
				k := kd
				if a == aAssumeRole {
					k = kDevAssume
				}
				u.add(t, k, a, region, i, ep, step)
				t += int64(e.between(1, 25))
			}
		}
	}
}

// devSession is the infra-admin session a developer's burst assumed.
func (u *unit) devSession(s *spec) (name, keyID string, created int64) {
	created = u.episodeStart(s.seed, 400)
	return "botocore-session-" + strconv.FormatInt(created, 10), accessKeyID("ASIA", mix(s.seed, 7)), created
}

func (u *unit) renderDev(r *record, s *spec, g *rng) {
	d := u.a.devs[s.actor]
	ep := newRng(s.seed ^ 0xd0)
	r.call(s.api, int(s.region), s.t, u.a.id)
	r.who = d.longTerm()
	r.ip = d.ip
	r.ua = cliUA(d, s.api)
	switch s.kind {
	case kDevAssume:
		name, keyID, _ := u.devSession(s)
		r.assumeRole(u.c.infraAdmin, name, keyID, 3600, "")
		return
	case kDevRole:
		name, keyID, created := u.devSession(s)
		r.who = u.c.infraAdmin.sessionID(name, keyID, created, false)
		if s.api == aUpdateService {
			r.req = append(r.req[:0], `{"cluster":"prod","service":"web-app","forceNewDeployment":true}`...)
			r.resp = append(r.resp[:0], `{"service":{"serviceName":"web-app","clusterArn":"arn:aws:ecs:`...)
			r.resp = append(r.resp, r.region...)
			r.resp = append(r.resp, ':')
			r.resp = append(r.resp, u.a.id...)
			r.resp = append(r.resp, `:cluster/prod","status":"ACTIVE","desiredCount":4,"runningCount":4,"launchType":"FARGATE"}}`...)
		}
	}
	u.humanParams(r, s.api, &ep, g, d.arn)
}

// humanParams fills the parameters of read calls people make, shared by
// CLI and console; failures are the everyday kind.
func (u *unit) humanParams(r *record, a api, ep, g *rng, who string) {
	acct := u.a.id
	switch a {
	case aGetCallerIdentity:
		r.tlsHost = "sts." + r.region + ".amazonaws.com"
	case aListObjects, aGetBucketPolicy, aGetBucketAcl, aGetBucketVersioning:
		bucket := u.a.buckets[1+ep.intn(len(u.a.buckets)-1)]
		var sub string
		switch a {
		case aGetBucketPolicy:
			sub = "policy"
		case aGetBucketAcl:
			sub = "acl"
		case aGetBucketVersioning:
			sub = "versioning"
		}
		r.s3Bucket(g, acct, bucket, sub, pick(ep, []string{"", "static/", "uploads/2026/03/", "env/prod/"}))
		if a == aGetBucketPolicy && g.chance(0.3) {
			r.errCode, r.errMsg = "NoSuchBucketPolicy", "The bucket policy does not exist"
		}
	case aGetObject, aPutObject:
		bucket := u.a.buckets[1+ep.intn(len(u.a.buckets)-1)]
		size := int64(g.between(2_000, 4_000_000))
		if a == aGetObject {
			r.s3Object(g, acct, bucket, objectKey(g, bucket), size, 0)
		} else {
			r.s3Object(g, acct, bucket, objectKey(g, bucket), 0, size)
		}
	case aFilterLogEvents:
		r.req = append(r.req[:0], '{')
		r.req = kstr(r.req, "logGroupName", pick(ep, logGroups))
		r.req = kint(r.req, "startTime", (r.time-int64(ep.between(600, 86400)))*1000)
		r.req = kstr(r.req, "filterPattern", pick(ep, []string{"ERROR", "timeout", "\"status=500\"", ""}))
		r.req = kbool(r.req, "interleaved", true)
		r.req = append(r.req, '}')
	case aGetFunction:
		r.oneParam("functionName", pick(ep, []string{"report-generator-0", "thumbnail-cleanup-1", "queue-drainer-0"}))
	case aDescribeServices:
		r.req = append(r.req[:0], `{"cluster":"prod","services":["web-app","api"]}`...)
	case aDescribeTaskDefinition:
		r.oneParam("taskDefinition", "web-app")
	case aDescribeStacks:
		r.oneParam("stackName", pick(ep, []string{"prod-network", "prod-web", "prod-data"}))
	case aDescribeTable:
		r.oneParam("tableName", pick(ep, []string{"sessions", "orders", "feature-flags"}))
	case aGetMetricData:
		r.req = append(r.req[:0], `{"metricDataQueries":[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/EC2","metricName":"CPUUtilization"},"period":300,"stat":"Average"}}],"startTime":"`...)
		r.req = appendTime(r.req, r.time-10800)
		r.req = append(r.req, `","endTime":"`...)
		r.req = appendTime(r.req, r.time)
		r.req = append(r.req, `"}`...)
	case aGetParameter:
		name := pick(ep, []string{"/dev/web-app/feature-flags", "/dev/api/db-host", "/prod/api/db-password", "/shared/slack-webhook"})
		r.req = append(r.req[:0], `{"name":"`...)
		r.req = append(r.req, name...)
		r.req = append(r.req, `","withDecryption":true}`...)
		if name == "/prod/api/db-password" && r.who.kind == idIAMUser {
			r.deny(a, who, "arn:aws:ssm:"+r.region+":"+acct+":parameter"+name, false)
		}
	case aGetUser, aListAccessKeys, aListMFADevices, aListGroupsForUser:
		if r.who.kind == idIAMUser && !r.console {
			r.oneParam("userName", r.who.userName)
		}
	case aGetRole, aListAttachedRolePolicies:
		r.oneParam("roleName", pick(ep, []string{"web-app-role", "github-actions-deploy", "infra-admin"}))
	case aLookupEvents:
		r.req = append(r.req[:0], `{"maxResults":50,"lookupAttributes":[{"attributeKey":"ReadOnly","attributeValue":"false"}]}`...)
	case aDescribeDBInstances:
		if r.who.kind == idIAMUser && !r.console && g.chance(0.15) {
			r.deny(a, who, "arn:aws:rds:"+r.region+":"+acct+":db:*", false)
		}
	}
}

// objectKey returns a plausible key of the bucket's content.
func objectKey(g *rng, bucket string) string {
	day := strconv.Itoa(g.between(1, 28))
	n := strconv.Itoa(g.between(1, 99999))
	switch {
	case len(bucket) > 20 && bucket[:20] == "acme-prod-customer-e":
		return "exports/2026/03/" + day + "/customers-" + n + ".csv.gz"
	case bucket == "acme-prod-app-assets":
		return "static/js/app." + n + ".js"
	case bucket == "acme-analytics-archive":
		return "warehouse/orders/dt=2026-03-" + day + "/part-" + n + ".parquet"
	case bucket == "acme-build-artifacts":
		return "web-app/builds/" + n + "/bundle.zip"
	}
	return "uploads/2026/03/" + day + "/" + n + ".jpg"
}

// consolePages are what a page load in the console calls.
var consolePages = [][]api{
	{aDescribeInstances, aDescribeInstanceStatus, aDescribeTags, aDescribeAccountAttributes},
	{aDescribeSecurityGroups, aDescribeVpcs, aDescribeSubnets},
	{aDescribeAlarms, aGetMetricData, aGetMetricData, aGetMetricData},
	{aGetAccountSummary, aListUsers, aListRoles, aListMFADevices},
	{aGetRole, aListAttachedRolePolicies},
	{aGetBucketPolicy, aGetBucketAcl, aGetBucketVersioning, aListObjects},
	{aLookupEvents, aLookupEvents},
	{aDescribeLogGroups, aFilterLogEvents, aFilterLogEvents},
	{aListFunctions, aGetFunction},
	{aDescribeDBInstances},
	{aDescribeTrails, aGetTrailStatus},
}

// consoleSession is a user's working-day sign-in, a pure function of the
// user and the day.
func (u *unit) consoleSession(p *user, day int64) (login, end int64, ok bool) {
	start := day*86400 + int64(8-p.tz)*hourSecs
	if office(start+1800, p.tz) < 0.5 {
		return 0, 0, false // weekend
	}
	g := newRng(mix(u.c.seed, strHash(p.arn), uint64(day)))
	if g.chance(0.15) {
		return 0, 0, false // day off
	}
	login = start + int64(g.intn(5400))
	return login, login + int64(g.between(5, 9))*hourSecs, true
}

func (u *unit) genConsole() {
	g := u.rng(2)
	day := u.hour / 86400
	for i, p := range u.a.ops {
		login, end, ok := u.consoleSession(p, day)
		if !ok || end <= u.hour || login >= u.hour+hourSecs {
			continue
		}
		ep := mix(u.c.seed, strHash(p.arn), uint64(day))
		if login >= u.hour {
			u.add(login-int64(g.between(8, 30)), kCheckMfa, aCheckMfa, rUSE1, i, ep, 0)
			u.add(login, kLogin, aConsoleLogin, rUSE1, i, ep, 0)
		}
		from, to := max(u.hour, login+60), min(u.hour+hourSecs, end)-60
		if to <= from {
			continue
		}
		n := g.poisson(4 * max(office(u.hour+1800, p.tz), 0.3))
		for k := 0; k < n; k++ {
			page := consolePages[g.intn(len(consolePages))]
			t := from + int64(g.intn(int(to-from)))
			region := p.region
			for _, a := range page {
				u.add(t, kConsole, a, region, i, ep, g.intn(60000))
				t += int64(g.between(0, 3))
			}
		}
	}
}

// s3ConsoleUA is the agent S3 records for calls from its console.
const s3ConsoleUA = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.660 Linux/5.10.213-180.871.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation cfg/retry-mode/standard]"

func (u *unit) renderConsole(r *record, s *spec, g *rng) {
	p := u.a.ops[s.actor]
	login, _, _ := u.consoleSession(p, s.t/86400)
	if s.kind != kConsole {
		r.version = "1.08"
		r.time = s.t
		r.source, r.region, r.ip, r.ua = "signin.amazonaws.com", "us-east-1", p.ip, p.browser
		r.who = identity{kind: idIAMUser, principal: p.id, arn: p.arn, account: p.account, userName: p.name}
		r.eventType, r.mgmt, r.recipient, r.readOnly = "AwsConsoleSignIn", true, u.a.id, roFalse
		r.tls, r.tlsHost = tls13, "signin.aws.amazon.com"
		if s.kind == kCheckMfa {
			r.name = "CheckMfa"
			r.who.arn = ""
			r.resp = append(r.resp[:0], `{"CheckMfa":"Success"}`...)
			r.add = append(r.add[:0], `{"MfaType":"Virtual MFA"}`...)
			return
		}
		r.name = "ConsoleLogin"
		r.resp = append(r.resp[:0], `{"ConsoleLogin":"Success"}`...)
		r.add = append(r.add[:0], `{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_`...)
		r.add = appendS3RequestID(r.add, g)
		r.add = append(r.add, `","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::`...)
		r.add = append(r.add, p.account...)
		r.add = append(r.add, `:mfa/`...)
		r.add = append(r.add, p.name...)
		r.add = append(r.add, `","MFAUsed":"Yes"}`...)
		return
	}
	ep := newRng(s.seed ^ uint64(s.step))
	r.call(s.api, int(s.region), s.t, u.a.id)
	r.who = p.longTerm()
	r.who.keyID = accessKeyID("ASIA", mix(s.seed, 3))
	r.who.session, r.who.created, r.who.mfa = true, login, true
	r.console = true
	r.ip = p.ip
	switch apis[s.api].svc {
	case "ec2":
		r.ua = "console.ec2.amazonaws.com"
	case "s3":
		r.ua = s3ConsoleUA
	default:
		r.ua = "console.amazonaws.com"
	}
	u.humanParams(r, s.api, &ep, g, p.arn)
}
