package detect

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/sigma"
	"github.com/harrier-ir/harrier/internal/store"
)

// loadStore puts records into a fresh case database, as ingest would.
func loadStore(t testing.TB, records [][]byte) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.LoadRecords(ctx, "evidence/test.jsonl", records, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}

func readJSONL(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	return out
}

// sqlMatches runs one compiled expression over the store and returns the
// matching event ids, sorted.
func sqlMatches(t testing.TB, st *store.Store, x sigma.Expr) []string {
	t.Helper()
	q, err := Compile(DuckDB{}, x)
	if err != nil {
		t.Fatalf("compile %s: %v", sigma.String(x), err)
	}
	rows, err := st.DB().Query(`SELECT event_id FROM events WHERE ` + q + ` ORDER BY event_id`)
	if err != nil {
		t.Fatalf("query %s: %v\n%s", sigma.String(x), err, q)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// refMatches evaluates x on every event in memory.
func refMatches(t testing.TB, events []*Event, x sigma.Expr) []string {
	t.Helper()
	out := []string{}
	for _, e := range events {
		if Match(x, e) {
			out = append(out, e.ID())
		}
	}
	sort.Strings(out)
	return out
}

func prepare(t testing.TB, records [][]byte) []*Event {
	t.Helper()
	var out []*Event
	for i, r := range records {
		e, err := NewEvent(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}
