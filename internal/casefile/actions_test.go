package casefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestActionsAppendAndRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := Open(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if recs, bad, err := c.Actions(); err != nil || len(recs) != 0 || len(bad) != 0 {
		t.Fatalf("a new case has actions: %v %v %v", recs, bad, err)
	}
	for _, id := range []string{"a1", "a2"} {
		if err := c.AppendAction(map[string]string{"id": id, "note": "line\nbreak"}); err != nil {
			t.Fatal(err)
		}
	}
	// a damaged line (a crash mid-write) is reported with its number, and
	// the records around it are still read
	f, err := os.OpenFile(c.Path(ActionsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"id\":\"cut\n")
	f.Close()
	if err := c.AppendAction(map[string]string{"id": "a3"}); err != nil {
		t.Fatal(err)
	}
	recs, bad, err := c.Actions()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !strings.Contains(string(recs[0]), `"a1"`) || !strings.Contains(string(recs[2]), `"a3"`) {
		t.Errorf("records: %s", recs)
	}
	var le *ActionLineError
	if len(bad) != 1 || !errors.As(bad[0], &le) || le.Line != 3 {
		t.Errorf("damaged lines: %v", bad)
	}
	if err := c.AppendAction(func() {}); err == nil {
		t.Error("a record that cannot be encoded was accepted")
	}
}
