package simulate

import "time"

// The attack is small (about a thousand records) and fixed in size, so it
// is built once, up front, rendered to JSON and handed to the units whose
// files it falls into. Building it first also tells the background where
// the trail was stopped.

// attackEvent is one rendered attack record waiting for its file.
type attackEvent struct {
	t      int64
	region int
	json   []byte
}

// plan is the attack, ready to be merged into the background.
type plan struct {
	byUnit   map[unitKey][]attackEvent
	gapStart int64 // StopLogging took effect: nothing recorded from here ...
	gapEnd   int64 // ... until the remediation Lambda restarted logging
	truth    Truth
}

const (
	uaTruffle = "TruffleHog"
	uaPacu    = "Boto3/1.26.90 Python/3.11.8 Linux/6.5.0-kali3-amd64 Botocore/1.29.90"
	uaKaliCLI = "aws-cli/1.22.34 Python/3.11.8 Linux/6.5.0-kali3-amd64 botocore/1.23.34"
	uaMiner   = "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.15.0-97-generic md/arch#x86_64 lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57"
	uaKaliFox = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
	uaGuard   = "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.213-222.743.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42"

	ipScanner  = "192.0.2.77"
	ipOperator = "192.0.2.144"
	ipMiner    = "192.0.2.201"

	backdoorName = "backup-svc"
)

// attacker builds the attack's records in time order.
type attacker struct {
	c      *cast
	p      *plan
	g      rng
	r      record
	start  int64 // first second of the simulated period
	day    int64 // first second of the attack day
	v, s   *account
	leaked *user
}

// newPlan builds the attack for a simulation of days from start.
func newPlan(c *cast, start time.Time, days int) *plan {
	p := &plan{byUnit: map[unitKey][]attackEvent{}}
	at := &attacker{c: c, p: p, g: newRng(mix(c.seed, 0xa77ac4)), start: start.Unix(),
		day: start.Unix() + int64(days-1)*86400, v: c.acct[0], s: c.acct[1], leaked: c.acct[0].devs[2]}
	t := &p.truth
	t.Accounts = c.accounts()
	t.OrgID = c.org
	t.VictimAccount, t.SecondAccount, t.OutsideAccount, t.VendorAccount = c.acct[0].id, c.acct[1].id, c.outside, c.vendor
	t.LeakedUserName, t.LeakedUserARN, t.LeakedAccessKeyID = at.leaked.name, at.leaked.arn, at.leaked.key
	t.AttackerIPs = []string{ipScanner, ipOperator, ipMiner}
	t.AttackerUserAgents = []string{uaTruffle, uaPacu, uaKaliCLI, uaMiner, uaKaliFox}
	t.CorporateIPs = append([]string(nil), c.officeIPs...)
	t.PivotRoleARN, t.CrossAccountRoleARN = c.infraAdmin.arn, c.crossOps.arn
	t.BackdoorUser = backdoorName
	t.BackdoorUserARN = "arn:aws:iam::" + at.v.id + ":user/" + backdoorName
	t.BackdoorAccessKeyID = accessKeyID("AKIA", mix(c.seed, 0xbad))

	at.validate()
	s1 := at.recon()
	at.persist(s1)
	at.evade(s1)
	at.hop(s1)
	s3 := at.exfil()
	at.snapshot(s3)
	at.backdoorUse()
	at.mine()
	t.AttackStart = time.Unix(t.Steps[0].Time.Unix(), 0).UTC()
	return p
}

// when returns a time on the attack day: h:m:s plus a few seconds of
// seed-dependent jitter, so runs with other seeds differ a little.
func (at *attacker) when(h, m, s int) int64 {
	return at.day + int64(h*3600+m*60+s+at.g.intn(5))
}

// begin resets the working record as a call of a by who.
func (at *attacker) begin(acct *account, a api, region int, t int64, who identity, ip, ua string) *record {
	r := &at.r
	r.reset()
	r.call(a, region, t, acct.id)
	r.who, r.ip, r.ua = who, ip, ua
	if apis[a].svc == "sts" && ua != uaMiner {
		r.tlsHost = "sts.amazonaws.com" // old CLIs and raw scripts use the global endpoint
	}
	return r
}

// emit renders the working record into the plan; a non-empty step names
// it in the ground truth. It returns the event id.
func (at *attacker) emit(step string) string {
	r := &at.r
	if r.eventID == "" {
		r.eventID = uuidString(&at.g)
	}
	acct := 0
	if r.recipient == at.s.id {
		acct = 1
	}
	region := 0
	for i, name := range regions {
		if name == r.region {
			region = i
		}
	}
	hour := at.start + (r.time-at.start)/hourSecs*hourSecs
	k := unitKey{acct: acct, hour: hour}
	at.p.byUnit[k] = append(at.p.byUnit[k], attackEvent{t: r.time, region: region, json: render(nil, r, &at.g)})
	tr := &at.p.truth
	tr.Events++
	tr.AttackEnd = time.Unix(r.time, 0).UTC()
	if step != "" {
		tr.Steps = append(tr.Steps, Step{Name: step, EventID: r.eventID, SharedEventID: r.shared,
			Time: time.Unix(r.time, 0).UTC(), Account: r.recipient, Region: r.region, EventName: r.name,
			SourceIP: r.ip, AccessKeyID: r.who.keyID})
	}
	return r.eventID
}

// Step returns the named step of the ground truth.
func (t Truth) Step(name string) (Step, bool) {
	for _, s := range t.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}
