// Package respond changes AWS to contain a breach, and only on request:
// every change is first planned as a list of steps (each AWS call, on which
// resource, the state before fetched live, the expected effect, and how to
// undo it), printed, and applied only when the responder says so. Applying
// re-reads each step's resource and refuses when it changed since the plan;
// every call made is appended to the case's audit log before the next one,
// and any recorded action can be planned in reverse (undo).
//
// The framework is generic: an Op (registered by name in Ops) knows how to
// read the state a call changes, make the call, and build its reverse.
// Planners (PlanKey, PlanUser, PlanRole, PlanInstance) only choose steps;
// other commands (EC2 forensics) register their own ops and build Plans the
// same way. The package holds no DuckDB: what the case's events say (a
// role's sessions) is handed in by the caller.
package respond

import (
	"encoding/json"
	"errors"
	"maps"
	"time"
)

// State is what a step's resource looks like, as flat name → value text:
// easy to compare, print and record. An empty State means the thing does
// not exist (no policy, no tag).
type State map[string]string

// Equal says whether two states are the same.
func (s State) Equal(o State) bool { return maps.Equal(s, o) }

// Step is one AWS call of a plan. Steps are data (no closures) so that a
// plan prints and records as JSON and an undo can be rebuilt from the
// audit log: Op names the registered operation that reads, calls and
// reverses.
type Step struct {
	ID       string            `json:"id"`       // "1", "2", ... in plan order
	Op       string            `json:"op"`       // registered name: "service:API"
	Service  string            `json:"service"`  // e.g. "iam"
	API      string            `json:"api"`      // e.g. "UpdateAccessKey"
	Resource string            `json:"resource"` // what it acts on (an ARN or id)
	Params   map[string]string `json:"params"`   // the request's parameters
	// From fills parameters at apply time from earlier steps' outputs:
	// param name → "STEP_ID.OUTPUT" (a security group the plan creates).
	From map[string]string `json:"from,omitempty"`
	// Before is the live state read when planning; nil when the resource
	// does not exist yet (made by an earlier step), so not re-checked.
	Before State  `json:"before"`
	After  State  `json:"after"`  // the state the call should leave
	Effect string `json:"effect"` // what it does, in words
	// Undo says how to reverse the step, in words ("" when it cannot be).
	Undo string `json:"undo"`
	// Undoes is the action id this step reverses (undo plans only).
	Undoes string `json:"undoes,omitempty"`
	// Skip, when set, is why the step will not be made (already in effect).
	Skip string `json:"skip,omitempty"`
	// ContinueOnError marks a best-effort step: when its call fails, the
	// failure is recorded and the plan goes on (a memory capture that
	// fails must not cost the disk snapshots after it). Apply then ends
	// with ErrIncomplete. No later step may take an output from it.
	ContinueOnError bool `json:"continue_on_error,omitempty"`
}

// Plan is an ordered list of steps against one account and region,
// with what the responder should know beside them.
type Plan struct {
	ID       string    `json:"id"`       // the run's id; its actions are ID.STEP
	Case     string    `json:"case"`     // the case id
	Target   string    `json:"target"`   // "key AKIA...", "role NAME", ...
	Account  string    `json:"account"`  // the account the credentials were for when planned
	Caller   string    `json:"caller"`   // their ARN
	Region   string    `json:"region"`   // the region of the regional calls
	Created  time.Time `json:"created"`  // UTC
	Steps    []Step    `json:"steps"`    // in order
	Notes    []string  `json:"notes"`    // warnings and context for the responder
	Reach    []string  `json:"reach"`    // what the principal can still reach (groups, policies)
	Sessions []Session `json:"sessions"` // sessions seen in the case that a role revocation cuts off
	// Neighbours are other network interfaces in a subnet a network ACL
	// would isolate: the NACL's blast radius.
	Neighbours []string `json:"neighbours"`
	// AllowSelf lets a plan contain the caller's own user, key, role or
	// instance (--allow-self), with a warning in Notes; otherwise the
	// planners refuse with ErrSelf.
	AllowSelf bool `json:"allow_self,omitempty"`
	// CallerKey is the access key id of the credentials planning (from
	// Clients.CallerKey), compared with a key to contain.
	CallerKey string `json:"-"`
	// Chain are the identities behind the caller (Clients.Chain): the
	// base credentials that assumed its role. The self checks refuse them
	// too.
	Chain []Identity `json:"chain,omitempty"`
}

// Session is a role session seen in the case's events (an AssumeRole*
// call), handed in by the caller.
type Session struct {
	ARN         string    `json:"arn"` // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	AccessKeyID string    `json:"access_key_id"`
	Issued      time.Time `json:"issued"`
	Event       string    `json:"event"` // AssumeRole, AssumeRoleWithWebIdentity, ...
	SourceIPs   []string  `json:"source_ips"`
}

// ErrTemporaryKey means an ASIA key was named: temporary credentials cannot
// be deactivated; revoking the role's sessions is what stops them.
var ErrTemporaryKey = errors.New("a temporary (ASIA) access key cannot be deactivated")

// ErrNotFound means the principal or resource named does not exist.
var ErrNotFound = errors.New("not found")

// JSON renders the plan for --format json: indented, keys as documented
// in docs/CLI.md, parameters through RedactParams (a tool URL's signature
// is never shown).
func (p *Plan) JSON() ([]byte, error) {
	cp := *p
	cp.Steps = make([]Step, len(p.Steps))
	for i, s := range p.Steps {
		s.Params = RedactParams(s.Params)
		cp.Steps[i] = s
	}
	b, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Add appends a step, numbering it, without reading its state: for a
// resource an earlier step makes (its Before is then nil or empty).
func (p *Plan) Add(s Step) *Step {
	s.ID = itoa(len(p.Steps) + 1)
	if op, ok := Ops[s.Op]; ok {
		s.Service, s.API = op.Service, op.API
	}
	p.Steps = append(p.Steps, s)
	return &p.Steps[len(p.Steps)-1]
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
