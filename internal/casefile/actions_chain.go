package casefile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// PrevKey is the key every audit-log line written since the hash chain
// carries: the SHA-256 (hex) of the previous line's bytes (without its
// newline), "" for the first. A consistent edit of one line (a key, a user
// and the undo changed together) then breaks the next line's link, and
// harrier undo refuses the log instead of acting on the edit.
const PrevKey = "prev_sha256"

// ActionsHeadDir is where, under evidence/, each apply run records the
// audit log's head (ActionsHead), hashed in the manifest: editing the log
// consistently to its end still differs from the head on record.
const ActionsHeadDir = "harrier/actions"

// ActionsHead is the audit log's state at one moment: how many lines it
// had, the SHA-256 of the file's bytes through them, of the last line, and
// the last action's id.
type ActionsHead struct {
	Lines          int    `json:"lines"`
	SHA256         string `json:"sha256"`
	LastLineSHA256 string `json:"last_line_sha256"`
	LastID         string `json:"last_action_id"`
}

// ErrActionChain means the audit log's hash chain is broken, or it
// differs from a head recorded in the manifest: a line was changed,
// removed or inserted.
var ErrActionChain = errors.New("the audit log was changed after it was written")

// ActionChainError names the first line at which the audit log is found
// changed.
type ActionChainError struct {
	Line int
	Why  string
}

func (e *ActionChainError) Error() string {
	return fmt.Sprintf("%s line %d: %s: %v", ActionsFile, e.Line, e.Why, ErrActionChain)
}

func (e *ActionChainError) Unwrap() error { return ErrActionChain }

// actionLines splits the audit log into its lines (without newlines) and,
// for each, the offset just past its newline.
func actionLines(data []byte) (lines [][]byte, ends []int) {
	off := 0
	for off < len(data) {
		i := bytes.IndexByte(data[off:], '\n')
		end := len(data)
		if i >= 0 {
			end = off + i + 1
		}
		lines = append(lines, bytes.TrimSuffix(data[off:end], []byte("\n")))
		ends = append(ends, end)
		off = end
	}
	return lines, ends
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chain inserts the link to prev (the last line's bytes; nil for none) as
// the line's first key.
func chain(line, prev []byte) ([]byte, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(line, &probe); err != nil || len(line) < 2 || line[0] != '{' {
		return nil, errors.New("audit log: a record must be a JSON object")
	}
	if _, ok := probe[PrevKey]; ok {
		return nil, errors.New("audit log: a record must not carry " + PrevKey + " itself")
	}
	link := ""
	if prev != nil {
		link = sumHex(prev)
	}
	head, _ := json.Marshal(map[string]string{PrevKey: link})
	out := head[: len(head)-1 : len(head)-1] // {"prev_sha256":"..."
	if len(probe) > 0 {
		out = append(out, ',')
	}
	return append(out, line[1:]...), nil
}

// lastLine is the audit log's last non-empty line, nil when it has none.
func lastLine(data []byte) []byte {
	lines, _ := actionLines(data)
	for i := len(lines) - 1; i >= 0; i-- {
		if len(bytes.TrimSpace(lines[i])) > 0 {
			return lines[i]
		}
	}
	return nil
}

// VerifyActions checks the audit log's hash chain line by line, then the
// log against every head recorded in the manifest (ActionsHeadDir), and
// returns its current head. Lines written before the chain (no
// prev_sha256) are read as they are, but once a line carries the link
// every later one must. The error is an *ActionChainError naming the first
// line found changed.
func (c *Case) VerifyActions() (ActionsHead, error) {
	data, err := os.ReadFile(c.Path(ActionsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return ActionsHead{}, fmt.Errorf("audit log: %w", err)
	}
	lines, ends := actionLines(data)
	var prev []byte
	chained := false
	head := ActionsHead{Lines: len(lines), SHA256: sumHex(data)}
	for i, l := range lines {
		n := i + 1
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(l, &rec); err != nil {
			return head, &ActionChainError{Line: n, Why: "not a JSON object"}
		}
		raw, ok := rec[PrevKey]
		switch {
		case ok:
			var link string
			if err := json.Unmarshal(raw, &link); err != nil {
				return head, &ActionChainError{Line: n, Why: PrevKey + " is not a string"}
			}
			want := ""
			if prev != nil {
				want = sumHex(prev)
			}
			if link != want {
				return head, &ActionChainError{Line: n, Why: fmt.Sprintf("%s does not match line %d: line %d (or this one) was changed, removed or inserted", PrevKey, n-1, n-1)}
			}
			chained = true
		case chained:
			return head, &ActionChainError{Line: n, Why: "no " + PrevKey + " after chained lines"}
		}
		prev = l
		head.LastLineSHA256 = sumHex(l)
		var id string
		_ = json.Unmarshal(rec["id"], &id)
		head.LastID = id
	}
	for _, e := range c.Entries() {
		if !strings.HasPrefix(e.Path, EvidenceDir+"/"+ActionsHeadDir+"/") {
			continue
		}
		b, err := os.ReadFile(c.Path(e.Path))
		if err != nil {
			return head, fmt.Errorf("audit log head %s: %w", e.Path, err)
		}
		var rec ActionsHead
		if err := json.Unmarshal(b, &rec); err != nil {
			return head, fmt.Errorf("audit log head %s: %w", e.Path, err)
		}
		switch {
		case rec.Lines == 0:
		case rec.Lines > len(lines):
			return head, &ActionChainError{Line: len(lines) + 1, Why: fmt.Sprintf("the log has %d lines, %d when %s was recorded: lines were removed", len(lines), rec.Lines, e.Path)}
		case sumHex(lines[rec.Lines-1]) != rec.LastLineSHA256:
			return head, &ActionChainError{Line: rec.Lines, Why: "differs from the head recorded in " + e.Path}
		case sumHex(data[:ends[rec.Lines-1]]) != rec.SHA256:
			return head, &ActionChainError{Line: rec.Lines, Why: "the log through this line differs from the head recorded in " + e.Path}
		}
	}
	return head, nil
}

// RecordActionsHead records the audit log's current head in the case
// (evidence/harrier/actions/RUN/actions-head.json, hashed in the
// manifest) after an apply run, so that a later check, harrier undo's
// among them, can tell the log was edited consistently to its end.
func (c *Case) RecordActionsHead(run string) (Entry, error) {
	data, err := os.ReadFile(c.Path(ActionsFile))
	if err != nil {
		return Entry{}, fmt.Errorf("audit log head: %w", err)
	}
	lines, _ := actionLines(data)
	head := ActionsHead{Lines: len(lines), SHA256: sumHex(data)}
	if len(lines) > 0 {
		last := lines[len(lines)-1]
		head.LastLineSHA256 = sumHex(last)
		var rec struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(last, &rec)
		head.LastID = rec.ID
	}
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	return c.AddAcquired(ActionsHeadDir+"/"+run+"/actions-head.json", "harrier:"+ActionsFile, "application/json", append(b, '\n'),
		map[string]any{"file": ActionsFile, "run": run, "lines": head.Lines})
}
