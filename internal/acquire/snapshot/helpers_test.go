package snapshot

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// testAccount is moto's account.
const testAccount = "123456789012"

const testStamp = "20260301T120000Z"

var testTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testOptions(regions ...string) Options {
	return Options{Account: testAccount, Stamp: testStamp, Regions: regions, Concurrency: 4,
		Clock: func() time.Time { return testTime }}
}

// testCase is a case in a temporary folder and its sink.
type testCase struct {
	c    *casefile.Case
	sink evidence.Sink
}

func newTestCase(t *testing.T) *testCase {
	t.Helper()
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testCase{c: c, sink: evidence.CaseSink(c)}
}

// snapPath is rel under the test snapshot's folder, as the sink sees it.
func snapPath(elem ...string) string {
	return path.Join(append([]string{"aws", testAccount, "snapshots", testStamp}, elem...)...)
}

// read returns the stored file at rel (relative to evidence/).
func (tc *testCase) read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(tc.c.Path("evidence", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("the case lacks %s: %v", rel, err)
	}
	return b
}

// readJSON decodes the stored file at rel.
func (tc *testCase) readJSON(t *testing.T, rel string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(tc.read(t, rel), &v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return v
}

// entry returns the manifest's entry for rel and its provenance.
func (tc *testCase) entry(t *testing.T, rel string) (casefile.Entry, evidence.Source) {
	t.Helper()
	for _, e := range tc.c.Latest() {
		if e.Path == path.Join(casefile.EvidenceDir, rel) {
			var src evidence.Source
			if err := json.Unmarshal(e.Source, &src); err != nil {
				t.Fatal(err)
			}
			return e, src
		}
	}
	t.Fatalf("the manifest lacks %s", rel)
	return casefile.Entry{}, evidence.Source{}
}

// files are the case's evidence paths under prefix (relative to
// evidence/), with their hashes.
func (tc *testCase) files(prefix string) map[string]string {
	out := map[string]string{}
	for _, e := range tc.c.Latest() {
		rel := strings.TrimPrefix(e.Path, casefile.EvidenceDir+"/")
		if strings.HasPrefix(rel, prefix) {
			out[rel] = e.SHA256
		}
	}
	return out
}

// dig walks v by keys and indexes ("0"), failing the test where it cannot.
func dig(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("no %q in %v", k, x)
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				t.Fatalf("no [%s] in %v", k, x)
			}
			v = x[i]
		default:
			t.Fatalf("cannot take %q of %v", k, v)
		}
	}
	return v
}

// oneRow returns the only coverage row, failing otherwise.
func oneRow(t *testing.T, rows []evidence.Coverage) evidence.Coverage {
	t.Helper()
	if len(rows) != 1 {
		t.Fatalf("coverage rows = %+v, want one", rows)
	}
	return rows[0]
}

// checkCounts checks a row's Files and Bytes against what the case holds
// under prefix.
func (tc *testCase) checkCounts(t *testing.T, row evidence.Coverage, prefix string) {
	t.Helper()
	var n int
	var size int64
	for _, e := range tc.c.Latest() {
		if strings.HasPrefix(e.Path, path.Join(casefile.EvidenceDir, prefix)+"/") {
			n++
			size += e.Size
		}
	}
	if row.Files != n || row.Bytes != size {
		t.Fatalf("row counts %d files, %d bytes; the case holds %d, %d under %s", row.Files, row.Bytes, n, size, prefix)
	}
}
