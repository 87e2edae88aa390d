package casefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ActionsFile is the case's audit log of changes harrier made in AWS
// (containment, and their undoing): one JSON object a line, appended and
// synced to disk before the next change is made, never rewritten.
const ActionsFile = "actions.jsonl"

// AppendAction adds one record to the audit log and syncs it to disk: a
// change made in AWS is on record before harrier moves on to the next one,
// so a crash leaves no applied change unrecorded. rec is encoded as one
// line of JSON object, its first key the link to the line before
// (PrevKey, actions_chain.go).
func (c *Case) AppendAction(rec any) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("audit log: a record must be one line")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := os.OpenFile(c.Path(ActionsFile), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	old, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if line, err = chain(line, lastLine(old)); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit log: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// ActionLineError is a line of the audit log that is not a JSON object:
// the log was damaged by hand or by a crash mid-write; it says where.
type ActionLineError struct {
	Line int
	Err  error
}

func (e *ActionLineError) Error() string {
	return fmt.Sprintf("%s line %d: %v", ActionsFile, e.Line, e.Err)
}

func (e *ActionLineError) Unwrap() error { return e.Err }

// Actions returns the audit log's records in the order they were written,
// each as its JSON text. A case without changes has none. Damaged lines
// are returned as errors after the good records, so nothing readable is
// hidden by one bad line.
func (c *Case) Actions() ([]json.RawMessage, []error, error) {
	f, err := os.Open(c.Path(ActionsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	var recs []json.RawMessage
	var bad []error
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(b, &probe); err != nil {
			bad = append(bad, &ActionLineError{Line: n, Err: err})
			continue
		}
		recs = append(recs, append(json.RawMessage(nil), b...))
	}
	if err := sc.Err(); err != nil {
		return recs, bad, fmt.Errorf("audit log: %w", err)
	}
	return recs, bad, nil
}
