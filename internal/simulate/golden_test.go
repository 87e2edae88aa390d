package simulate

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// TestGolden pins a small scenario: its counts, its ground truth and a
// digest of every file name and uncompressed byte, log files, digests
// (signatures included), sidecars and key list alike (compressed bytes are
// left out so a compression library upgrade does not count as a change).
// Any change to the generator shows up here; if it is intended, refresh
// with `go test -run TestGolden -update`.
func TestGolden(t *testing.T) {
	t.Parallel()
	res, files := fixtureAll(t)
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.rel))
		if !bytes.HasPrefix(f.gz, []byte{0x1f, 0x8b}) {
			h.Write(f.gz) // a sidecar or the key list
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(f.gz))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(h, zr); err != nil {
			t.Fatal(err)
		}
	}
	got, err := json.MarshalIndent(struct {
		Files     int
		Events    int
		JSONBytes int64
		Digests   int
		Digest    string
		Truth     Truth
	}{res.Files, res.Events, res.JSONBytes, res.Digests, hex.EncodeToString(h.Sum(nil)), res.Truth}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "scenario.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("scenario differs from %s; if the change is intended, run go test -run TestGolden -update\ngot:\n%s", path, got)
	}
}
