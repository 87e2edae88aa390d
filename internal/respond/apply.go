package respond

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// ErrWrongAccount means the credentials are for another account than the
// plan's (or than the responder said): nothing is changed.
var ErrWrongAccount = errors.New("the credentials are for another account than planned")

// ErrWrongRegion means the clients are for another region than the plan's.
var ErrWrongRegion = errors.New("the clients are for another region than planned")

// ErrIncomplete means every step was attempted but a best-effort one
// (Step.ContinueOnError) failed; Result says which.
var ErrIncomplete = errors.New("a best-effort step failed; the steps after it were made")

// ErrStopped means applying stopped part-way; Result says what was done.
var ErrStopped = errors.New("stopped before the end of the plan")

// StateChangedError is a step whose resource no longer looks as it did
// when planned: applying stops there rather than act on a guess.
type StateChangedError struct {
	Step          Step
	Planned, Live State
}

func (e *StateChangedError) Error() string {
	return fmt.Sprintf("step %s (%s:%s on %s): the state changed since the plan (planned %s, now %s); plan again",
		e.Step.ID, e.Step.Service, e.Step.API, e.Step.Resource, e.Planned.String(), e.Live.String())
}

// String renders a state for a terminal: name=value, sorted; "absent"
// when empty.
func (s State) String() string {
	if len(s) == 0 {
		return "absent"
	}
	b, _ := json.Marshal(s) // keys sorted
	return string(b)
}

// Action is one record of the case's audit log (actions.jsonl): one AWS
// call harrier made, or tried to make. Its keys are documented in
// docs/RESPOND.md; the log is append-only.
type Action struct {
	ID       string            `json:"id"`     // RUN.STEP: stable, printable, what `harrier undo` takes
	Run      string            `json:"run"`    // the plan's id
	Case     string            `json:"case"`   // the case id
	Kind     string            `json:"kind"`   // "contain" or "undo"
	Target   string            `json:"target"` // what the plan was for
	Undoes   string            `json:"undoes,omitempty"`
	Time     time.Time         `json:"time"` // when the call was made, UTC
	Operator casefile.Operator `json:"operator"`
	Caller   string            `json:"caller"` // the AWS principal's ARN
	Account  string            `json:"account"`
	Region   string            `json:"region"`
	Op       string            `json:"op"`
	Service  string            `json:"service"`
	API      string            `json:"api"`
	Resource string            `json:"resource"`
	Request  map[string]string `json:"request"`  // the parameters sent
	Response json.RawMessage   `json:"response"` // AWS's answer, without the SDK's metadata
	Outputs  map[string]string `json:"outputs,omitempty"`
	Before   State             `json:"before"` // read just before the call
	After    State             `json:"after"`  // read just after it
	// AfterError is why the state after could not be read.
	AfterError string `json:"after_error,omitempty"`
	Status     string `json:"status"` // "applied" or "failed"
	Error      string `json:"error,omitempty"`
	// Undo is the step that reverses this one; nil when AWS allows none,
	// and then UndoNote says what can be done instead.
	Undo     *Step  `json:"undo"`
	UndoNote string `json:"undo_note,omitempty"`
}

// Outcome is what became of one step.
type Outcome struct {
	Step     Step
	Status   string // applied, skipped, failed, not done
	ActionID string // for applied and failed steps
	Note     string
}

// Result is what an apply did, step by step.
type Result struct {
	Outcomes []Outcome
}

// Applied lists the ids of the actions applied, in order.
func (r Result) Applied() []string {
	var ids []string
	for _, o := range r.Outcomes {
		if o.Status == "applied" {
			ids = append(ids, o.ActionID)
		}
	}
	return ids
}

// ApplyOptions are what Apply needs besides the plan.
type ApplyOptions struct {
	Operator casefile.Operator
	Now      func() time.Time
	// Record appends an action to the audit log, durably; applying stops
	// if it fails (a change that cannot be recorded is not followed by
	// another).
	Record func(Action) error
	Kind   string // "contain" or "undo"
}

// Begin starts a plan: whose credentials these are (the account every
// later apply must match), the region, and the plan's id.
func Begin(ctx context.Context, c *Clients, caseID, target string, now time.Time) (*Plan, error) {
	if c.STS == nil {
		return nil, fmt.Errorf("sts: %w", ErrNoClient)
	}
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	now = now.UTC().Truncate(time.Second)
	sum := sha256.Sum256([]byte(target + "\x00" + now.Format(time.RFC3339Nano)))
	p := &Plan{ID: now.Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:])[:4], Case: caseID, Target: target,
		Account: aws.ToString(id.Account), Caller: aws.ToString(id.Arn), Region: c.Region, Created: now,
		Notes: []string{}, Reach: []string{}, Sessions: []Session{}, Neighbours: []string{}, CallerKey: c.CallerKey,
		Chain: append([]Identity(nil), c.Chain...)}
	for _, n := range c.ChainNotes {
		p.Notes = append(p.Notes, "WARNING: "+n)
	}
	return p, nil
}

// Apply makes a plan's calls in order. Before anything it checks that the
// credentials are still the plan's account and the clients its region.
// For each step it re-reads the live state: the planned state → the call is
// made; already the intended state → skipped and said; anything else →
// stop. After each call it reads the state again and records the action
// (fsync) before the next step. On any failure it stops: Result says which
// steps were applied (with their action ids) and which were not, and the
// error is ErrStopped wrapping the cause. The exception is a call failing
// in a step marked ContinueOnError: recorded as failed, the plan goes on,
// and the error at the end is ErrIncomplete wrapping each such failure.
func Apply(ctx context.Context, c *Clients, p *Plan, o ApplyOptions) (Result, error) {
	var res Result
	if c.Region != p.Region {
		return res, fmt.Errorf("%w: plan %s, clients %s", ErrWrongRegion, p.Region, c.Region)
	}
	if c.STS == nil {
		return res, fmt.Errorf("sts: %w", ErrNoClient)
	}
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return res, fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	if got := aws.ToString(id.Account); got != p.Account {
		return res, fmt.Errorf("%w: planned for %s, the credentials are for %s", ErrWrongAccount, p.Account, got)
	}
	caller := aws.ToString(id.Arn)
	outputs := map[string]map[string]string{}
	var failed []error // best-effort steps that failed
	stop := func(i int, cause error) (Result, error) {
		for _, s := range p.Steps[i:] {
			if len(res.Outcomes) > 0 && res.Outcomes[len(res.Outcomes)-1].Step.ID == s.ID {
				continue
			}
			res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "not done"})
		}
		return res, fmt.Errorf("%w: %w", ErrStopped, cause)
	}
	for i, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return stop(i, err)
		}
		if s.Skip != "" {
			res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "skipped", Note: s.Skip})
			continue
		}
		op, ok := Ops[s.Op]
		if !ok {
			return stop(i, fmt.Errorf("step %s: unknown op %q", s.ID, s.Op))
		}
		params, err := resolve(s, outputs)
		if err != nil {
			return stop(i, err)
		}
		live, err := op.Read(ctx, c, params)
		if err != nil {
			return stop(i, fmt.Errorf("step %s: read %s before the call: %w", s.ID, s.Resource, err))
		}
		if s.Before != nil && !live.Equal(s.Before) {
			if s.After != nil && live.Equal(s.After) {
				res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "skipped", Note: "already in effect: " + live.String()})
				continue
			}
			res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "not done"})
			return stop(i, &StateChangedError{Step: s, Planned: s.Before, Live: live})
		}
		a := Action{ID: p.ID + "." + s.ID, Run: p.ID, Case: p.Case, Kind: o.Kind, Target: p.Target, Time: o.Now().UTC(), Operator: o.Operator,
			Caller: caller, Account: p.Account, Region: p.Region, Op: s.Op, Service: op.Service, API: op.API, Resource: s.Resource,
			Request: RedactParams(params), Before: live}
		a.Undoes = s.Undoes
		resp, out, callErr := op.Call(ctx, c, params)
		a.Response = responseJSON(resp)
		a.Outputs = out
		outputs[s.ID] = out
		if callErr != nil {
			a.Status, a.Error = "failed", callErr.Error()
		} else {
			a.Status = "applied"
		}
		// the state after, even after a failure: a call can half-succeed
		if after, err := op.Read(ctx, c, params); err != nil {
			a.AfterError = err.Error()
		} else {
			a.After = after
		}
		if callErr == nil {
			if back, ok, why := op.Reverse(params, live, out); ok {
				a.Undo = &back
			} else {
				a.UndoNote = why
			}
		}
		if err := o.Record(a); err != nil {
			res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: a.Status, ActionID: a.ID, Note: "NOT RECORDED: " + err.Error()})
			return stop(i+1, fmt.Errorf("record action %s: %w", a.ID, err))
		}
		if callErr != nil {
			res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "failed", ActionID: a.ID, Note: callErr.Error()})
			stepErr := fmt.Errorf("step %s (%s:%s on %s): %w", s.ID, op.Service, op.API, s.Resource, callErr)
			if s.ContinueOnError {
				failed = append(failed, stepErr)
				continue
			}
			return stop(i+1, stepErr)
		}
		res.Outcomes = append(res.Outcomes, Outcome{Step: s, Status: "applied", ActionID: a.ID})
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(failed...))
	}
	return res, nil
}

// resolve fills a step's parameters from earlier steps' outputs.
func resolve(s Step, outputs map[string]map[string]string) (map[string]string, error) {
	params := make(map[string]string, len(s.Params)+len(s.From))
	for k, v := range s.Params {
		params[k] = v
	}
	for k, ref := range s.From {
		step, name, _ := strings.Cut(ref, ".")
		v := outputs[step][name]
		if v == "" {
			return nil, fmt.Errorf("step %s: %s comes from step %s's %s, which was not made", s.ID, k, step, name)
		}
		params[k] = v
	}
	return params, nil
}

// responseJSON renders an SDK output without its ResultMetadata (request
// ids and the like are not the answer), keys sorted.
func responseJSON(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	delete(m, "ResultMetadata")
	b, _ = json.Marshal(m)
	return b
}
