package casefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionChain: each appended action links to the line before; a
// consistent edit of one line (key, user and undo changed together), a
// removed line, an edit of the last line after its head was recorded, are
// refused naming the line; lines written before the chain are read.
func TestActionChain(t *testing.T) {
	rec := func(id, key, user string) map[string]any {
		return map[string]any{"id": id, "resource": key, "request": map[string]string{"UserName": user, "AccessKeyId": key},
			"undo": map[string]any{"op": "iam:UpdateAccessKey", "params": map[string]string{"UserName": user, "AccessKeyId": key, "Status": "Active"}}}
	}
	build := func(t *testing.T, legacy string) *Case {
		c, err := Open(filepath.Join(t.TempDir(), "case"), "test", true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if legacy != "" {
			if err := os.WriteFile(c.Path(ActionsFile), []byte(legacy), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"r.1", "r.2", "r.3"} {
			if err := c.AppendAction(rec(id, "AKIAMALLORY0000000"+id[2:], "mallory")); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	edit := func(t *testing.T, c *Case, from, to string) {
		b, err := os.ReadFile(c.Path(ActionsFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), from) {
			t.Fatalf("%q not in the log", from)
		}
		if err := os.WriteFile(c.Path(ActionsFile), []byte(strings.Replace(string(b), from, to, -1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		legacy  string
		head    bool // record the head before tampering
		tamper  func(t *testing.T, c *Case)
		badLine int // 0: the log verifies
	}{
		{"intact", "", false, func(*testing.T, *Case) {}, 0},
		{"legacy lines before the chain", `{"id":"old.1"}` + "\n" + `{"id":"old.2"}` + "\n", false, func(*testing.T, *Case) {}, 0},
		{"the reviewer's consistent edit of one line", "", false, func(t *testing.T, c *Case) {
			// key, user and undo changed together: line 2 parses and its undo matches its request
			edit(t, c, "AKIAMALLORY00000002", "AKIAALICE0000000002")
			edit(t, c, `"AccessKeyId":"AKIAALICE0000000002","Status":"Active","UserName":"mallory"`, `"AccessKeyId":"AKIAALICE0000000002","Status":"Active","UserName":"alice"`)
			edit(t, c, `"AccessKeyId":"AKIAALICE0000000002","UserName":"mallory"`, `"AccessKeyId":"AKIAALICE0000000002","UserName":"alice"`)
		}, 3},
		{"a line removed", "", false, func(t *testing.T, c *Case) {
			b, _ := os.ReadFile(c.Path(ActionsFile))
			lines := strings.SplitAfter(string(b), "\n")
			os.WriteFile(c.Path(ActionsFile), []byte(lines[0]+lines[2]), 0o644)
		}, 2},
		{"the last line edited after its head was recorded", "", true, func(t *testing.T, c *Case) {
			edit(t, c, "AKIAMALLORY00000003", "AKIAALICE0000000003")
		}, 3},
		{"the last line removed after its head was recorded", "", true, func(t *testing.T, c *Case) {
			b, _ := os.ReadFile(c.Path(ActionsFile))
			lines := strings.SplitAfter(string(b), "\n")
			os.WriteFile(c.Path(ActionsFile), []byte(lines[0]+lines[1]), 0o644)
		}, 3},
		{"a legacy line after chained ones", "", false, func(t *testing.T, c *Case) {
			f, _ := os.OpenFile(c.Path(ActionsFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"id":"forged"}` + "\n")
			f.Close()
		}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := build(t, tc.legacy)
			if tc.head {
				if _, err := c.RecordActionsHead("r"); err != nil {
					t.Fatal(err)
				}
			}
			tc.tamper(t, c)
			head, err := c.VerifyActions()
			var ce *ActionChainError
			if tc.badLine == 0 {
				if err != nil || head.LastID != "r.3" {
					t.Fatalf("head %+v, err %v", head, err)
				}
				return
			}
			if !errors.As(err, &ce) || !errors.Is(err, ErrActionChain) || ce.Line != tc.badLine {
				t.Fatalf("err = %v, want line %d", err, tc.badLine)
			}
		})
	}
}

// TestActionsHeadRecorded: the head is kept in the case's evidence, hashed
// in the manifest.
func TestActionsHeadRecorded(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AppendAction(map[string]string{"id": "r.1"}); err != nil {
		t.Fatal(err)
	}
	e, err := c.RecordActionsHead("r")
	if err != nil || e.Path != "evidence/harrier/actions/r/actions-head.json" || e.SHA256 == "" {
		t.Fatalf("%+v %v", e, err)
	}
	b, _ := os.ReadFile(c.Path(e.Path))
	if !strings.Contains(string(b), `"lines": 1`) || !strings.Contains(string(b), `"last_action_id": "r.1"`) {
		t.Errorf("head: %s", b)
	}
}
