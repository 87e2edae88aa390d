package simulate

// CI: GitHub Actions deploys through OIDC web identity, runs terraform and
// publishes artifacts into the second account through a cross-account role,
// which gives the background its benign sharedEventID pairs.

const (
	ghActionUA   = "aws-sdk-nodejs/3.540.0 ua/2.0 os/linux#6.5.0-1017-azure lang/js md/nodejs#20.11.1 api/sts#3.540.0 configure-aws-credentials-for-github-actions"
	terraformUA  = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 ua/2.0 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64 api/"
	ciSession    = "GitHubActions"
	ciPublishSes = "publish-artifacts"
)

var ciRepos = []string{"acme/web-app", "acme/api", "acme/infra-live", "acme/data-pipeline"}

// terraformReads are what a plan refreshes.
var terraformReads = []api{
	aDescribeVpcs, aDescribeSubnets, aDescribeSecurityGroups, aDescribeSecurityGroups, aDescribeInstances,
	aDescribeImages, aGetRole, aGetRole, aListAttachedRolePolicies, aGetBucketPolicy, aGetBucketAcl,
	aGetBucketVersioning, aDescribeLogGroups, aGetFunction, aDescribeServices, aDescribeTaskDefinition,
	aDescribeRepositories, aDescribeTable, aDescribeDBInstances, aDescribeKey, aDescribeAlarms,
	aDescribeAutoScalingGroups, aGetParameter,
}

// ciRun is one workflow run, derived from the victim's CI stream for an
// hour so both accounts can regenerate it.
type ciRun struct {
	seed    uint64
	start   int64
	region  int
	reads   int
	writes  int
	publish bool
}

func (u *unit) ciRuns() []ciRun {
	g := newRng(mix(u.c.seed, 0, uint64(u.hour), 5)) // always the victim's stream
	n := g.poisson(0.25 * float64(len(ciRepos)*u.c.scale) * max(office(u.hour+1800, 0), 0.04))
	runs := make([]ciRun, n)
	for i := range runs {
		ep := mix(u.c.seed, 0xc1, uint64(u.hour), uint64(i))
		e := newRng(ep)
		runs[i] = ciRun{seed: ep, start: u.episodeStart(ep, 420), region: pick(&e, []int{rUSE1, rEUW1}),
			reads: e.between(25, 70), publish: e.chance(0.3)}
		if e.chance(0.6) {
			runs[i].writes = e.between(1, 3)
		}
	}
	return runs
}

func (u *unit) genCI() {
	for i, run := range u.ciRuns() {
		e := newRng(run.seed ^ 0xabc)
		t := run.start
		if u.a.idx == 0 {
			u.add(t, kCIWeb, aAssumeRoleWithWebIdentity, run.region, i, run.seed, 0)
			t += 20
			u.add(t, kCI, aGetObject, run.region, i, run.seed, 1) // terraform state
			for k := 0; k < run.reads; k++ {
				t += int64(e.between(0, 2))
				u.add(t, kCI, terraformReads[e.intn(len(terraformReads))], run.region, i, run.seed, 2+k)
			}
			for k := 0; k < run.writes; k++ {
				t += int64(e.between(3, 20))
				u.add(t, kCI, pick(&e, []api{aRegisterTaskDefinition, aUpdateService, aUpdateFunctionCode}), run.region, i, run.seed, 200+k)
			}
		}
		if run.publish {
			tp := run.start + 380
			if u.a.idx == 0 {
				u.add(tp, kCIXSource, aAssumeRole, run.region, i, run.seed, 300)
			} else {
				u.add(tp, kCIXTarget, aAssumeRole, run.region, i, run.seed, 300)
				u.add(tp+3, kCIPut, aPutObject, run.region, i, run.seed, 301)
			}
		}
	}
}

// runnerIP is a GitHub-hosted runner's address (Azure ranges).
func runnerIP(seed uint64) string {
	g := newRng(seed ^ 0x77)
	return ipv4(pick(&g, []int{4, 20, 52, 172}), g.between(148, 250), g.between(0, 255), g.between(1, 254))
}

func (u *unit) renderCI(r *record, s *spec, g *rng) {
	c := u.c
	victim := c.acct[0]
	e := newRng(s.seed)
	repo := ciRepos[e.intn(len(ciRepos))]
	sub := "repo:" + repo + ":ref:refs/heads/main"
	created := u.episodeStart(s.seed, 420)
	keyID := accessKeyID("ASIA", mix(s.seed, 21))
	r.call(s.api, int(s.region), s.t, u.a.id)
	r.ip = runnerIP(s.seed)
	ciID := c.ciRole.sessionID(ciSession, keyID, created, false)
	ciID.webIDProvider = c.oidc
	switch s.kind {
	case kCIWeb:
		r.version = "1.08"
		r.who = identity{kind: idWebIdentity, principal: c.oidc + ":sts.amazonaws.com:" + sub, userName: sub, identityProvider: c.oidc}
		r.ua = ghActionUA
		r.assumeRole(c.ciRole, ciSession, keyID, 3600, "")
		r.resp = r.resp[:len(r.resp)-1]
		r.resp = kstr(r.resp, "subjectFromWebIdentityToken", sub)
		r.resp = kstr(r.resp, "provider", c.oidc)
		r.resp = kstr(r.resp, "audience", "sts.amazonaws.com")
		r.resp = append(r.resp, '}')
		r.add = append(r.add[:0], `{"identityProviderConnectionVerificationMethod":"IAMTrustStore"}`...)
		return
	case kCIXSource, kCIXTarget:
		r.who = ciID
		r.ua = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1017-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#sts.assume-role"
		r.assumeRole(c.artifacts, ciPublishSes, accessKeyID("ASIA", mix(s.seed, 22)), 900, "")
		r.shared = uuidString(&e)
		r.requestID = uuidString(&e)
		if s.kind == kCIXTarget {
			r.who = identity{kind: idAWSAccount, principal: c.ciRole.id + ":" + ciSession, account: victim.id}
		}
		return
	case kCIPut:
		r.who = c.artifacts.sessionID(ciPublishSes, accessKeyID("ASIA", mix(s.seed, 22)), s.t-3, false)
		r.ua = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1017-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#s3.cp"
		bucket := u.a.buckets[1]
		r.s3Object(g, u.a.id, bucket, "web-app/builds/"+itoa(created)+"/bundle.zip", 0, int64(g.between(4_000_000, 60_000_000)))
		return
	}
	r.who = ciID
	r.ua = terraformUA + apis[s.api].svc + "#1.150.1"
	switch s.api {
	case aGetObject:
		b := victim.buckets[3]
		r.s3Object(g, u.a.id, b, "env/prod/"+repo[5:]+".tfstate", int64(g.between(40_000, 900_000)), 0)
	case aRegisterTaskDefinition:
		r.req = append(r.req[:0], `{"family":"web-app","taskRoleArn":"arn:aws:iam::`...)
		r.req = append(r.req, u.a.id...)
		r.req = append(r.req, `:role/web-app-task","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"512","memory":"1024","containerDefinitions":[{"name":"web","image":"`...)
		r.req = append(r.req, u.a.id...)
		r.req = append(r.req, `.dkr.ecr.`...)
		r.req = append(r.req, r.region...)
		r.req = append(r.req, `.amazonaws.com/web-app:`...)
		r.req = appendS3RequestID(r.req, g)
		r.req = append(r.req, `","essential":true,"portMappings":[{"containerPort":8080,"protocol":"tcp"}]}]}`...)
	case aUpdateService:
		r.req = append(r.req[:0], `{"cluster":"prod","service":"web-app","taskDefinition":"web-app","forceNewDeployment":false}`...)
	case aUpdateFunctionCode:
		r.req = append(r.req[:0], `{"functionName":"report-generator-0","s3Bucket":"`...)
		r.req = append(r.req, victim.buckets[1]...)
		r.req = append(r.req, `","s3Key":"lambda/report-generator.zip","publish":true}`...)
	case aDescribeKey:
		r.oneParam("keyId", u.a.kmsKey)
	case aGetRole:
		ep := newRng(mix(s.seed, uint64(s.step)))
		name := pick(&ep, []string{"web-app-role", "web-app-task", "report-generator-0-role", "github-actions-deploy", "legacy-batch-role"})
		r.oneParam("roleName", name)
		if name == "legacy-batch-role" { // deleted by hand: terraform plans to recreate it
			r.errCode, r.errMsg = "NoSuchEntity", "The role with name legacy-batch-role cannot be found."
		}
	default:
		ep := newRng(mix(s.seed, uint64(s.step)))
		u.humanParams(r, s.api, &ep, g, ciID.arn)
	}
}
