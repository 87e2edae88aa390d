package respond

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrSelf means the target is the responder's own identity: their user,
// their access key, the role whose session they use, or the instance
// whose credentials they use. Containing it would lock the responder out
// mid-incident (or cut the instance they work from), so it is refused
// unless asked for (Plan.AllowSelf).
var ErrSelf = errors.New("the target is the caller's own identity")

// callerIdentity is what a caller ARN says about who is calling.
type callerIdentity struct {
	account  string
	user     string // IAM user name (arn:...:user/PATH/NAME)
	userARN  string
	role     string // role name of an assumed-role ARN
	instance string // the session name when it is an instance id (an instance profile's role)
}

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// parseCaller reads an STS caller ARN: arn:PART:iam::ACCT:user/PATH/NAME
// or arn:PART:sts::ACCT:assumed-role/ROLE/SESSION.
func parseCaller(arn string) callerIdentity {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return callerIdentity{}
	}
	id := callerIdentity{account: parts[4]}
	res := parts[5]
	switch {
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		id.user, id.userARN = res[strings.LastIndex(res, "/")+1:], arn
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		rs := strings.SplitN(strings.TrimPrefix(res, "assumed-role/"), "/", 2)
		id.role = rs[0]
		if len(rs) == 2 && instanceID.MatchString(rs[1]) {
			id.instance = rs[1]
		}
	}
	return id
}

// identities are every identity in the caller's chain: the caller itself
// first, then the base credentials that assumed its role.
func (p *Plan) identities() []Identity {
	return append([]Identity{{ARN: p.Caller, Key: p.CallerKey}}, p.Chain...)
}

// guardSelf refuses a target that is the caller's own (ErrSelf), or, when
// the plan allows it, adds a warning to its notes. what says how the
// target is the caller's, for the message; as is the identity it is.
func (p *Plan) guardSelf(what, as string) error {
	msg := fmt.Sprintf("%s (you are %s)", what, p.Caller)
	if as != p.Caller {
		msg = fmt.Sprintf("%s (you are %s, assumed with the credentials of %s: containing them cuts off every later AssumeRole)", what, p.Caller, as)
	}
	if !p.AllowSelf {
		return fmt.Errorf("%w: %s: containing it would cut off your own access; use other credentials, or --allow-self if you mean it", ErrSelf, msg)
	}
	p.Notes = append(p.Notes, "WARNING: "+msg+": --allow-self was given, so the plan goes on; it cuts off the credentials running harrier")
	return nil
}

// checkSelfUser guards a user's (or one of its keys') containment, against
// every identity in the caller's chain.
func (p *Plan) checkSelfUser(userARN, user, key string) error {
	for _, who := range p.identities() {
		id := parseCaller(who.ARN)
		switch {
		case key != "" && who.Key != "" && key == who.Key:
			return p.guardSelf("access key "+key+" is the one these credentials use", who.ARN)
		case id.userARN != "" && (id.userARN == userARN || userARN == "" && id.user == user && id.account == p.Account):
			return p.guardSelf("user "+user+" is the caller", who.ARN)
		}
	}
	return nil
}

// checkSelfRole guards a role's containment: a session in the caller's
// chain is one of the role's.
func (p *Plan) checkSelfRole(role string) error {
	for _, who := range p.identities() {
		if id := parseCaller(who.ARN); id.role != "" && id.role == role && id.account == p.Account {
			return p.guardSelf("role "+role+" issued the session these credentials are", who.ARN)
		}
	}
	return nil
}

// checkSelfInstance guards an instance's containment: credentials in the
// caller's chain are the instance profile's session of that instance.
func (p *Plan) checkSelfInstance(instance string) error {
	for _, who := range p.identities() {
		if id := parseCaller(who.ARN); id.instance != "" && id.instance == instance {
			return p.guardSelf("instance "+instance+" is where these credentials come from (its instance profile's session)", who.ARN)
		}
	}
	return nil
}
