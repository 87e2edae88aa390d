package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixtureOpts is the scenario most tests read: a working Monday with the
// attack in it, small enough to parse quickly under the race detector.
var fixtureOpts = Options{Seed: 7, Days: 1, Start: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}

var (
	fixtureOnce  sync.Once
	fixtureDir   string
	fixtureRes   Result
	fixtureFiles []logFile // every file written, unparsed
	fixtureLogs  []logFile // the log files, parsed
	fixtureErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// logFile is one written file (a log file, parsed, or a digest, its
// metadata sidecar or the public key list).
type logFile struct {
	rel     string // slash-separated path under the output folder
	gz      []byte // as written: gzip'd but for sidecars and the key list
	records []logRecord
}

// isLog tells log files from digests, sidecars and the public key list.
func isLog(rel string) bool { return strings.Contains(rel, "/CloudTrail/") }

// logsOnly returns the log files among files.
func logsOnly(files []logFile) []logFile {
	var out []logFile
	for _, f := range files {
		if isLog(f.rel) {
			out = append(out, f)
		}
	}
	return out
}

// logRecord is one record, decoded and raw (for key order).
type logRecord struct {
	m   map[string]any
	raw json.RawMessage
}

// fixture writes the shared scenario once and returns its log files
// parsed.
func fixture(t *testing.T) (Result, []logFile) {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "simulate-fixture-")
		if fixtureErr != nil {
			return
		}
		fixtureRes, fixtureErr = Write(context.Background(), fixtureDir, fixtureOpts)
		if fixtureErr != nil {
			return
		}
		if fixtureFiles, fixtureErr = readFiles(fixtureDir); fixtureErr != nil {
			return
		}
		fixtureLogs, fixtureErr = parseLogs(logsOnly(fixtureFiles))
	})
	if fixtureErr != nil {
		t.Fatalf("fixture: %v", fixtureErr)
	}
	return fixtureRes, fixtureLogs
}

// fixtureAll returns every file of the shared scenario, unparsed: log
// files, digests, sidecars and the public key list.
func fixtureAll(t *testing.T) (Result, []logFile) {
	t.Helper()
	res, _ := fixture(t)
	return res, fixtureFiles
}

// memSink keeps files in memory: most tests need the bytes, not the disk,
// and creating thousands of small files dominates their run time.
type memSink struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memSink) writeFile(rel string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	if _, dup := m.files[rel]; dup {
		return fmt.Errorf("%s written twice", rel)
	}
	m.files[rel] = bytes.Clone(data)
	return nil
}

// writeMem runs Write into memory and returns the files sorted by path.
func writeMem(t *testing.T, o Options) (Result, []logFile) {
	t.Helper()
	sink := &memSink{}
	o.sink = sink
	res, err := Write(context.Background(), "unused", o)
	if err != nil {
		t.Fatal(err)
	}
	var out []logFile
	for rel, gz := range sink.files {
		out = append(out, logFile{rel: rel, gz: gz})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return res, out
}

// readFiles reads every file under dir, sorted by path, without parsing.
func readFiles(dir string) ([]logFile, error) {
	var out []logFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, logFile{rel: filepath.ToSlash(rel), gz: b})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, err
}

// rawRecords decompresses a file and splits it into records.
func rawRecords(gz []byte) ([]json.RawMessage, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	var doc struct{ Records []json.RawMessage }
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.Records, nil
}

// parseLogs parses log files, in place.
func parseLogs(files []logFile) ([]logFile, error) {
	for i := range files {
		raws, err := rawRecords(files[i].gz)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", files[i].rel, err)
		}
		for _, raw := range raws {
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				return nil, fmt.Errorf("%s: %w", files[i].rel, err)
			}
			files[i].records = append(files[i].records, logRecord{m: m, raw: raw})
		}
	}
	return files, nil
}

// all returns every record of logs.
func all(logs []logFile) []logRecord {
	var out []logRecord
	for _, f := range logs {
		out = append(out, f.records...)
	}
	return out
}

// get walks a dotted path ("userIdentity.sessionContext.attributes").
func get(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// str returns the string at path, or "".
func str(m map[string]any, path string) string {
	s, _ := get(m, path).(string)
	return s
}

// topKeys returns the keys of a JSON object in document order.
func topKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
