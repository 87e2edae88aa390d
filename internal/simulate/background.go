package simulate

import (
	"cmp"
	"slices"
)

// kind says which generator renders a spec.
type kind uint8

const (
	kDev          kind = iota // developer CLI call with a long-term key
	kDevAssume                // developer assuming infra-admin
	kDevRole                  // developer call through the infra-admin session
	kCheckMfa                 // console sign-in MFA check
	kLogin                    // console sign-in
	kConsole                  // console call of a signed-in user
	kInstAssume               // ec2.amazonaws.com refreshing instance credentials
	kInst                     // call from an instance-profile session
	kLambdaAssume             // lambda.amazonaws.com assuming a function's role
	kLambda                   // call from a function
	kCIWeb                    // GitHub Actions AssumeRoleWithWebIdentity
	kCI                       // terraform call of a CI run
	kCIXSource                // CI cross-account AssumeRole, caller's copy
	kCIXTarget                // the same call, target account's copy
	kCIPut                    // CI uploading an artifact into the second account
	kConfigAssume             // config.amazonaws.com assuming its service-linked role
	kConfig                   // AWS Config describing resources
	kVendorAssume             // monitoring vendor assuming its role
	kVendor                   // monitoring vendor's reads
	kTrailKMS                 // CloudTrail asking KMS for a log-file data key
	kRotateKey                // annual KMS key rotation service event
	kASG                      // autoscaling launching or terminating capacity
	kAttack                   // a pre-rendered attack record
)

// spec is one event to be rendered: enough to regenerate it without any
// shared state. seed identifies its episode (a CLI burst, a CI run ...),
// step its place in the episode.
type spec struct {
	t      int64
	seed   uint64
	actor  uint32
	step   uint16
	api    api
	kind   kind
	region uint8
}

// unit is the work of one account for one hour: every background event it
// holds is a pure function of the seed, the account and the hour, so units
// can run in any order on any goroutine.
type unit struct {
	c     *cast
	p     *plan
	a     *account
	hour  int64 // Unix time of the hour's start
	specs []spec
}

const hourSecs = 3600

// generate fills u.specs with the hour's background and attack events,
// sorted by region then time, dropping what a stopped trail would not have
// recorded.
func (u *unit) generate() {
	u.specs = u.specs[:0]
	u.genHumans()
	u.genConsole()
	u.genInstances()
	u.genLambdas()
	u.genCI()
	u.genServices()
	if u.a.idx == 0 && u.p.gapEnd > u.hour && u.p.gapStart < u.hour+hourSecs {
		u.specs = slices.DeleteFunc(u.specs, func(s spec) bool {
			return s.t >= u.p.gapStart && s.t < u.p.gapEnd
		})
	}
	for i, e := range u.p.byUnit[u.key()] {
		u.specs = append(u.specs, spec{t: e.t, kind: kAttack, actor: uint32(i), region: uint8(e.region)})
	}
	slices.SortStableFunc(u.specs, func(x, y spec) int {
		if c := cmp.Compare(x.region, y.region); c != 0 {
			return c
		}
		return cmp.Compare(x.t, y.t)
	})
}

// key identifies the unit among all units.
func (u *unit) key() unitKey { return unitKey{acct: u.a.idx, hour: u.hour} }

// unitKey is a unit's identity.
type unitKey struct {
	acct int
	hour int64
}

// rng returns the generator of one background stream of this unit.
func (u *unit) rng(stream uint64) rng {
	return newRng(mix(u.c.seed, uint64(u.a.idx), uint64(u.hour), stream))
}

func (u *unit) add(t int64, k kind, a api, region int, actor int, seed uint64, step int) {
	if t < u.hour || t >= u.hour+hourSecs {
		return // episodes are planned to fit their hour; guard the edges anyway
	}
	if apis[a].global {
		region = rUSE1 // IAM and other global services log in us-east-1
	}
	u.specs = append(u.specs, spec{t: t, seed: seed, actor: uint32(actor), step: uint16(step), api: a, kind: k, region: uint8(region)})
}

// office is how busy a person in time zone tz is at Unix time t: 1 in
// office hours on weekdays, a trickle in the evening and at weekends.
func office(t int64, tz int) float64 {
	lt := t + int64(tz)*hourSecs
	days := lt / 86400
	hod := lt % 86400 / hourSecs
	if wd := (days + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
		return 0.02
	}
	switch {
	case hod >= 9 && hod < 12, hod >= 13 && hod < 17:
		return 1
	case hod == 8, hod == 12, hod == 17:
		return 0.55
	case hod >= 18 && hod < 22:
		return 0.06
	}
	return 0
}

// diurnal scales machine traffic: busier in the day, never idle.
func diurnal(t int64) float64 {
	hod := t % 86400 / hourSecs
	if hod >= 7 && hod < 20 {
		return 1.2
	}
	return 0.75
}

// eventRng returns the generator of one spec's details and ids. Every
// field of the spec goes in, so no two events share an id.
func (u *unit) eventRng(s *spec) rng {
	return newRng(mix(s.seed, uint64(s.step), uint64(s.kind), uint64(s.t), uint64(s.actor), uint64(s.api)<<8|uint64(s.region), uint64(u.a.idx)))
}

// renderSpec fills r with the background event s stands for; g, from
// u.eventRng, supplies its details and ids.
func (u *unit) renderSpec(r *record, s *spec, g *rng) {
	switch s.kind {
	case kDev, kDevAssume, kDevRole:
		u.renderDev(r, s, g)
	case kCheckMfa, kLogin, kConsole:
		u.renderConsole(r, s, g)
	case kInstAssume, kInst:
		u.renderInstance(r, s, g)
	case kLambdaAssume, kLambda:
		u.renderLambda(r, s, g)
	case kCIWeb, kCI, kCIXSource, kCIXTarget, kCIPut:
		u.renderCI(r, s, g)
	default:
		u.renderService(r, s, g)
	}
}

// episodeStart places an episode of span seconds inside the unit's hour,
// derived from the episode seed alone so renderers can recompute it.
func (u *unit) episodeStart(seed uint64, span int) int64 {
	g := newRng(seed ^ 0x5eed)
	return u.hour + int64(g.intn(hourSecs-span))
}
