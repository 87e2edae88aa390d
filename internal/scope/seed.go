package scope

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// ErrBadSeed is wrapped by NewSeed's errors: the value is not an indicator
// scoping can start from.
var ErrBadSeed = errors.New("not an indicator to scope from")

// accessKeyID is what AWS documents an access key id to be: 16 to 128
// word characters; CloudTrail's are upper-case letters and digits (8 are
// accepted: test cases and redacted logs use short ones).
var accessKeyID = regexp.MustCompile(`^[A-Z0-9]{8,128}$`)

// NewSeed checks an indicator before a scope starts from it, the one check
// the command line, timeline --scope and the investigation UI share: an
// access key id, a principal's ARN (a role ARN takes all its sessions), or
// an IP address. A service's hostname where CloudTrail puts the source IP
// (config.amazonaws.com), or a principal that is not an ARN (a service, an
// account), has no credentials to follow.
func NewSeed(kind, value string) (Seed, error) {
	switch kind {
	case "key":
		if !accessKeyID.MatchString(value) {
			return Seed{}, fmt.Errorf("%w: %q is not an access key id (upper-case letters and digits)", ErrBadSeed, value)
		}
	case "principal":
		if p := strings.SplitN(value, ":", 6); len(p) != 6 || p[0] != "arn" || p[5] == "" {
			return Seed{}, fmt.Errorf("%w: a principal to scope from is an ARN (arn:aws:iam::ACCOUNT:user/NAME, a role or a role session), not %q: a service or an account has no credentials to follow", ErrBadSeed, value)
		}
	case "ip":
		if ip, err := netip.ParseAddr(value); err != nil || ip.Zone() != "" {
			return Seed{}, fmt.Errorf("%w: %q is not an IP address (CloudTrail names an AWS service's own calls by its hostname, which has no credentials to follow)", ErrBadSeed, value)
		}
	default:
		return Seed{}, fmt.Errorf("%w: the kind is key, principal or ip, not %q", ErrBadSeed, kind)
	}
	return Seed{Kind: kind, Value: value}, nil
}
