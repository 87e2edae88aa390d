package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// ErrUndoMismatch means an action's recorded undo is not the one its op
// builds from the recorded request, state before and outputs: the audit
// log was edited (or written by another version); harrier will not make
// calls a log line merely asks for.
var ErrUndoMismatch = errors.New("the recorded undo is not the one the action's op builds")

// ParseActions decodes audit log records (casefile.Case.Actions).
func ParseActions(recs []json.RawMessage) ([]Action, error) {
	out := make([]Action, 0, len(recs))
	for i, r := range recs {
		var a Action
		if err := json.Unmarshal(r, &a); err != nil {
			return out, fmt.Errorf("audit log record %d: %w", i+1, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Select finds the actions an undo names: an action id (RUN.STEP), or a
// run id for every action of that run applied, latest first, so that a
// whole containment is reversed in the reverse order. Failed actions are
// left out (they changed nothing known), as are undo actions when a run
// is named.
func Select(all []Action, ids []string) ([]Action, error) {
	var out []Action
	for _, id := range ids {
		var found []Action
		for _, a := range all {
			if a.ID == id && a.Status == "applied" {
				found = append(found, a)
			}
		}
		if len(found) == 0 {
			for i := len(all) - 1; i >= 0; i-- {
				if a := all[i]; a.Run == id && a.Status == "applied" {
					found = append(found, a)
				}
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no applied action or run %q in the case's audit log: %w", id, ErrNotFound)
		}
		out = append(out, found...)
	}
	return out, nil
}

// PlanUndo plans the reverse of recorded actions, in the order given
// (Select gives a run's latest first). The state each reverse acts on is
// read live; when it is no longer what the action left, the plan says so.
// Actions AWS cannot reverse (a console password, a deleted group) and
// actions already undone are noted, not planned.
func PlanUndo(ctx context.Context, c *Clients, caseID string, all, targets []Action, now time.Time) (*Plan, error) {
	ids := make([]string, 0, len(targets))
	for _, a := range targets {
		ids = append(ids, a.ID)
	}
	p, err := Begin(ctx, c, caseID, "undo "+strings.Join(ids, ","), now)
	if err != nil {
		return nil, err
	}
	undone := map[string]string{}
	for _, a := range all {
		if a.Undoes != "" && a.Status == "applied" {
			undone[a.Undoes] = a.ID
		}
	}
	for _, a := range targets {
		if a.Account != p.Account {
			return nil, fmt.Errorf("action %s was made in account %s: %w (now %s)", a.ID, a.Account, ErrWrongAccount, p.Account)
		}
		if a.Region != p.Region {
			return nil, fmt.Errorf("action %s was made in %s: %w (now %s)", a.ID, a.Region, ErrWrongRegion, p.Region)
		}
		if by, ok := undone[a.ID]; ok {
			p.Notes = append(p.Notes, fmt.Sprintf("%s was already undone by %s", a.ID, by))
			continue
		}
		if a.Undo == nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s (%s:%s on %s) cannot be undone: %s", a.ID, a.Service, a.API, a.Resource, a.UndoNote))
			continue
		}
		op, ok := Ops[a.Undo.Op]
		if !ok {
			return nil, fmt.Errorf("action %s: its undo names an unknown op %q", a.ID, a.Undo.Op)
		}
		if err := checkUndo(a); err != nil {
			return nil, err
		}
		s := *a.Undo
		s.Undoes = a.ID
		s.Effect = s.Effect + " (undoes " + a.ID + ")"
		live, err := op.Read(ctx, c, s.Params)
		if err != nil {
			return nil, fmt.Errorf("action %s: read %s: %w", a.ID, s.Resource, err)
		}
		s.Before = live
		if a.After != nil && !live.Equal(a.After) {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %s changed since the action (it left %s, it is %s now)", a.ID, s.Resource, a.After.String(), live.String()))
		}
		if s.After != nil && live.Equal(s.After) {
			s.Skip = "already as it was before " + a.ID
		}
		p.Add(s)
	}
	return p, nil
}

// checkUndo rebuilds an action's undo from what the action recorded (its
// op's Reverse of the request, the state before and the outputs) and
// refuses when it differs from the recorded undo in op, resource,
// parameters or intended state.
func checkUndo(a Action) error {
	op, ok := Ops[a.Op]
	if !ok {
		return fmt.Errorf("action %s: unknown op %q: %w", a.ID, a.Op, ErrUndoMismatch)
	}
	back, ok, _ := op.Reverse(a.Request, a.Before, a.Outputs)
	if !ok {
		return fmt.Errorf("action %s: %s:%s has no undo, yet one is recorded: %w", a.ID, op.Service, op.API, ErrUndoMismatch)
	}
	rec := a.Undo
	if back.Op != rec.Op || back.Resource != rec.Resource || !maps.Equal(RedactParams(back.Params), RedactParams(rec.Params)) ||
		!maps.Equal(back.From, rec.From) || !back.After.Equal(rec.After) {
		return fmt.Errorf("action %s: recorded %s on %s %v, rebuilt %s on %s %v: %w", a.ID, rec.Op, rec.Resource, RedactParams(rec.Params),
			back.Op, back.Resource, RedactParams(back.Params), ErrUndoMismatch)
	}
	return nil
}
