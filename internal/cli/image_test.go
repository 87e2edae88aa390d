package cli

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/casefile"
)

func TestImageCommand(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.dev")
	data := make([]byte, 3<<20+512)
	for i := range data {
		data[i] = byte(i * 31)
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, m := sha256.Sum256(data), md5.Sum(data)
	wantSHA, wantMD5 := hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
	dst := filepath.Join(dir, "disk.raw")
	caseDir := filepath.Join(dir, "case")

	out, errOut, code := harrier(t, "image", src, dst, "--case", caseDir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"sha256:            " + wantSHA, "md5:               " + wantMD5, "MATCH", "outcome:           complete", "harrier image " + src} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	got, _ := os.ReadFile(dst)
	if string(got) != string(data) {
		t.Error("the image differs from the source")
	}
	c, err := casefile.Open(caseDir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]casefile.Entry{}
	for _, e := range c.Latest() {
		entries[e.Path] = e
	}
	c.Close()
	for _, p := range []string{"evidence/images/disk.raw.log", "evidence/images/disk.raw.json"} {
		e, ok := entries[p]
		if !ok {
			t.Fatalf("case lacks %s: %v", p, entries)
		}
		var src map[string]any
		json.Unmarshal(e.Source, &src)
		if src["image_sha256"] != wantSHA || src["image_md5"] != wantMD5 || e.OriginalPath != "image:"+filepath.Join(dir, "disk.dev") {
			t.Errorf("%s: provenance %s from %s", p, e.Source, e.OriginalPath)
		}
	}

	tests := []struct {
		name    string
		args    []string
		code    int
		errText string
	}{
		{"never overwrites an image", []string{"image", src, dst}, ExitError, "never overwritten"},
		{"needs two paths", []string{"image", src}, ExitUsage, "needs SRC and DST"},
		{"sector size a power of two", []string{"image", "--sector-size", "500", src, filepath.Join(dir, "x.raw")}, ExitUsage, "power of two"},
		{"missing source", []string{"image", filepath.Join(dir, "nope"), filepath.Join(dir, "y.raw")}, ExitError, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := harrier(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.errText) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.errText)
			}
		})
	}

	t.Run("json record", func(t *testing.T) {
		out, errOut, code := harrier(t, "image", "--format", "json", "--sector-size", "4096", src, filepath.Join(dir, "z.raw"))
		var rec struct {
			Sums       struct{ SHA256, MD5 string }
			SectorSize int   `json:"sector_size"`
			SectorsOut int64 `json:"sectors_out"`
			Verify     struct{ Match bool }
			Command    []string
		}
		if err := json.Unmarshal([]byte(out), &rec); err != nil || code != ExitOK {
			t.Fatalf("exit %d %v: %s %s", code, err, out, errOut)
		}
		if rec.Sums.SHA256 != wantSHA || rec.Sums.MD5 != wantMD5 || !rec.Verify.Match || rec.SectorSize != 4096 || rec.SectorsOut != 769 || rec.Command[1] != "image" {
			t.Errorf("record %+v", rec)
		}
	})
}
