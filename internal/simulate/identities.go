package simulate

import "strconv"

// regions the scenario uses, indexed by the small ints stored in specs. The
// first three carry the victim's workloads; the rest only see the attacker's
// region sweep and GPU launches.
var regions = [...]string{
	"us-east-1", "eu-west-1", "us-west-2", "us-east-2", "us-west-1", "ca-central-1",
	"eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
	"ap-southeast-2", "sa-east-1",
}

const (
	rUSE1 = 0
	rEUW1 = 1
	rUSW2 = 2
)

// role is an IAM role; sessions of it become AssumedRole identities.
type role struct {
	name, arn, id, account string
}

func newRole(seed uint64, account, path, name string) *role {
	return &role{
		name:    name,
		arn:     "arn:aws:iam::" + account + ":role/" + path + name,
		id:      uniqueID("AROA", mix(seed, strHash(account), strHash(name))),
		account: account,
	}
}

// sessionARN is the sts ARN of a session of ro (role paths are dropped).
func (ro *role) sessionARN(session string) string {
	return "arn:aws:sts::" + ro.account + ":assumed-role/" + ro.name + "/" + session
}

// sessionID returns the identity of one session of ro.
func (ro *role) sessionID(session, keyID string, created int64, mfa bool) identity {
	return identity{
		kind: idAssumedRole, principal: ro.id + ":" + session, arn: ro.sessionARN(session),
		account: ro.account, keyID: keyID, session: true, issuer: ro, created: created, mfa: mfa,
	}
}

// user is an IAM user: a developer with a long-term key or a console user.
type user struct {
	name, arn, id, account string
	key                    string // AKIA key (developers)
	ip                     string // usual egress address
	cli                    string // user agent prefix; command suffix added per call
	newCLI                 bool   // aws-cli v2 "md/command#" format rather than "command/"
	boto                   bool   // a Python script rather than the CLI
	browser                string // console user agent
	region                 int
	tz                     int  // UTC offset in hours of the user's working day
	infra                  bool // may assume the infra-admin role
}

func newUser(seed uint64, account, name string) *user {
	return &user{
		name:    name,
		arn:     "arn:aws:iam::" + account + ":user/" + name,
		id:      uniqueID("AIDA", mix(seed, strHash(account), strHash(name))),
		account: account,
	}
}

// longTerm is the identity of u calling with its access key.
func (u *user) longTerm() identity {
	return identity{kind: idIAMUser, principal: u.id, arn: u.arn, account: u.account, keyID: u.key, userName: u.name}
}

// instance is an EC2 instance whose instance-profile role calls AWS.
type instance struct {
	id, ip    string
	region    int
	role      *role
	principal string // role id + ":" + instance id
	arn       string
	phase     int64 // second of the hour at which its credentials rotate
	ua        string
	bucket    string
	secret    string
}

// lambdaFn is a scheduled Lambda function.
type lambdaFn struct {
	name      string
	role      *role
	region    int
	period    int64 // seconds between invocations
	phase     int64
	ua        string
	principal string
	arn       string
	bucket    string
}

// account is one AWS account of the organisation and its cast.
type account struct {
	idx       int
	id        string
	orgTrail  bool // delivered by the organisation trail (AWSLogs/o-.../<id>/...)
	devs      []*user
	ops       []*user
	instances []*instance
	functions []*lambdaFn
	config    *role
	asg       *role
	buckets   []string
	trail     string
	kmsKey    string
}

// cast is every principal and resource of the scenario, derived from the
// seed and scale once before any file is written.
type cast struct {
	seed    uint64
	scale   int
	org     string
	acct    [2]*account // victim, second
	outside string      // the attacker's account
	vendor  string      // a monitoring vendor's account, benign cross-account traffic

	infraAdmin *role // victim: the role developers (and the attacker) assume
	ciRole     *role // victim: GitHub Actions deploy role (OIDC)
	vendorRole *role // victim: role the vendor assumes
	guardian   *role // victim: auto-remediation Lambda's role
	crossOps   *role // second: trusts victim's infra-admin
	artifacts  *role // second: CI publishes build artifacts through it
	oidc       string

	officeIPs []string
}

var (
	firstNames = []string{"alice", "bob", "carol", "dmitri", "erin", "farid", "grace", "hiro", "ines", "jamal",
		"kasia", "liam", "maya", "noah", "olga", "pedro", "quinn", "rosa", "sven", "tara",
		"umar", "vera", "wei", "ximena", "yusuf", "zoe", "amir", "beth", "chen", "dara"}
	lastNames = []string{"nguyen", "martins", "singh", "ivanov", "okafor", "haddad", "kim", "tanaka", "garcia", "smith",
		"kowalski", "obrien", "patel", "schmidt", "rossi", "dubois", "larsen", "costa", "novak", "ahmed",
		"fischer", "moreau", "silva", "yilmaz", "jensen", "murphy", "sato", "lopez", "berg", "khan"}
)

// personName returns a stable, unique "first.last" for index i.
func personName(i int) string {
	n := firstNames[i%len(firstNames)] + "." + lastNames[(i/len(firstNames)+i)%len(lastNames)]
	if i >= len(firstNames)*len(lastNames) {
		n += strconv.Itoa(i / (len(firstNames) * len(lastNames)))
	}
	return n
}

const (
	victimID  = "302145967781"
	secondID  = "519360284417"
	outsideID = "883716204592"
	vendorID  = "647215930388"
	orgID     = "o-7k2m9x4q1z"
)

var cliUAs = []struct {
	prefix string
	newFmt bool
}{
	{"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.3.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off", true},
	{"aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off", true},
	{"aws-cli/2.16.4 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-35-generic md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off", true},
	{"aws-cli/2.13.25 Python/3.11.5 Windows/10 exe/AMD64 prompt/off", false},
	{"aws-cli/2.11.6 Python/3.11.2 Darwin/22.6.0 exe/x86_64 prompt/off", false},
}

var botoUAs = []string{
	"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
	"Boto3/1.33.13 md/Botocore#1.33.13 ua/2.0 os/linux#6.5.0-35-generic md/arch#x86_64 lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.33.13",
}

var browserUAs = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.3; rv:123.0) Gecko/20100101 Firefox/123.0",
}

// newCast builds the organisation. Pools of people and machines grow
// linearly with scale so that background volume does too.
func newCast(seed uint64, scale int) *cast {
	c := &cast{seed: seed, scale: scale, org: orgID, outside: outsideID, vendor: vendorID,
		officeIPs: []string{"203.0.113.10", "203.0.113.11", "203.0.113.74"}}
	v := &account{idx: 0, id: victimID, trail: "management-events"}
	s := &account{idx: 1, id: secondID, orgTrail: true, trail: "acme-org-trail"}
	c.acct = [2]*account{v, s}
	for _, a := range c.acct {
		a.config = newRole(seed, a.id, "aws-service-role/config.amazonaws.com/", "AWSServiceRoleForConfig")
		a.asg = newRole(seed, a.id, "aws-service-role/autoscaling.amazonaws.com/", "AWSServiceRoleForAutoScaling")
		a.kmsKey = "arn:aws:kms:us-east-1:" + a.id + ":key/" + uuidString(&rng{mix(seed, strHash(a.id), 77)})
	}
	v.buckets = []string{"acme-prod-customer-exports", "acme-prod-app-assets", "acme-prod-app-uploads", "acme-terraform-state-" + v.id}
	s.buckets = []string{"acme-analytics-archive", "acme-build-artifacts"}

	c.infraAdmin = newRole(seed, v.id, "", "infra-admin")
	c.ciRole = newRole(seed, v.id, "", "github-actions-deploy")
	c.vendorRole = newRole(seed, v.id, "", "observability-integration")
	c.guardian = newRole(seed, v.id, "service-role/", "trail-guardian-role")
	c.crossOps = newRole(seed, s.id, "", "acme-ops-cross-account")
	c.artifacts = newRole(seed, s.id, "", "artifact-publisher")
	c.oidc = "arn:aws:iam::" + v.id + ":oidc-provider/token.actions.githubusercontent.com"

	people := 0
	for ai, a := range c.acct {
		nDevs, nOps, nInst := 6*scale, 3*scale, 4*scale
		if ai == 1 {
			nDevs, nOps, nInst = 2*scale, 2*scale, 2*scale
		}
		for i := 0; i < nDevs; i++ {
			u := newUser(seed, a.id, personName(people))
			people++
			r := newRng(mix(seed, strHash(u.arn), 1))
			u.key = accessKeyID("AKIA", mix(seed, strHash(u.arn), 2))
			u.tz = pick(&r, []int{0, 0, 1, -4})
			u.ip = c.officeIPs[r.intn(2)]
			if u.tz == -4 {
				u.ip = c.officeIPs[2]
			}
			if r.chance(0.3) {
				u.ip = ipv4(198, 51, 100, r.between(2, 250)) // works from home through its own ISP
			}
			ua := cliUAs[r.intn(len(cliUAs))]
			u.cli, u.newCLI = ua.prefix, ua.newFmt
			if r.chance(0.25) {
				u.cli, u.boto = pick(&r, botoUAs), true
			}
			u.region = rUSE1
			if u.tz >= 0 && r.chance(0.6) {
				u.region = rEUW1
			}
			u.infra = ai == 0 && i%3 == 2
			a.devs = append(a.devs, u)
		}
		for i := 0; i < nOps; i++ {
			u := newUser(seed, a.id, personName(people))
			people++
			r := newRng(mix(seed, strHash(u.arn), 3))
			u.ip = c.officeIPs[r.intn(3)]
			u.tz = 0
			if u.ip == c.officeIPs[2] {
				u.tz = -4
			}
			u.browser = pick(&r, browserUAs)
			u.region = pick(&r, []int{rUSE1, rEUW1})
			a.ops = append(a.ops, u)
		}
		instRole := newRole(seed, a.id, "", "web-app-role")
		if ai == 1 {
			instRole = newRole(seed, a.id, "", "etl-worker-role")
		}
		for i := 0; i < nInst; i++ {
			h := mix(seed, strHash(a.id), 10, uint64(i))
			r := newRng(h)
			in := &instance{id: ec2ID("i-", h), region: rUSE1, role: instRole}
			if i%5 >= 3 || ai == 1 {
				in.region = rEUW1
			}
			in.ip = awsPublicIP(h, in.region)
			in.principal = instRole.id + ":" + in.id
			in.arn = instRole.sessionARN(in.id)
			in.phase = int64(r.intn(3600))
			in.ua = pick(&r, []string{
				"aws-sdk-java/2.25.16 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy",
				"Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#6.1.79-99.167.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.50",
			})
			in.bucket = a.buckets[1+r.intn(len(a.buckets)-1)]
			in.secret = "prod/app/db-credentials"
			a.instances = append(a.instances, in)
		}
		nFn := 2 * scale
		for i := 0; i < nFn; i++ {
			h := mix(seed, strHash(a.id), 20, uint64(i))
			r := newRng(h)
			name := pick(&r, []string{"report-generator", "thumbnail-cleanup", "nightly-export", "cost-reporter", "queue-drainer"}) + "-" + strconv.Itoa(i)
			ro := newRole(seed, a.id, "service-role/", name+"-role")
			f := &lambdaFn{name: name, role: ro, region: pick(&r, []int{rUSE1, rEUW1}),
				period: int64(pick(&r, []int{300, 600, 900, 1800})), phase: int64(r.intn(300)),
				ua:     "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.213-222.743.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42",
				bucket: a.buckets[len(a.buckets)-1]}
			f.principal, f.arn = ro.id+":"+name, ro.sessionARN(name)
			a.functions = append(a.functions, f)
		}
	}
	return c
}

// accounts lists every account id the scenario mentions.
func (c *cast) accounts() []string {
	return []string{c.acct[0].id, c.acct[1].id, c.outside, c.vendor}
}
