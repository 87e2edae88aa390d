package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// clock ticks a second at each call, from a fixed instant.
func clock() func() time.Time {
	t := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// TestAcquireFile images a file standing in for an attached device (what a
// loop device presents: a seekable source of known size) and checks the
// image, its hashes, the read-back and the sidecars.
func TestAcquireFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.dev")
	data := pattern(5<<20 + 512)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "disk.raw")
	who := Who{Tool: "harrier test", Command: []string{"harrier", "image", src, dst}, Operator: "tester (uid 1)", Host: "lab"}
	rec, err := Acquire(context.Background(), Request{Source: src, Dest: dst, Who: who, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the image differs from the source")
	}
	want := sumsOf(data)
	if rec.Sums != want || rec.Verify == nil || !rec.Verify.Match || rec.Verify.Sums != want {
		t.Errorf("sums %+v verify %+v, want %+v", rec.Sums, rec.Verify, want)
	}
	if rec.SourceSize != int64(len(data)) || rec.SectorsIn != int64(len(data))/512 || rec.SectorsOut != rec.SectorsIn || rec.BadSectors != 0 || rec.Outcome != "complete" {
		t.Errorf("record %+v", rec)
	}
	if !rec.End.After(rec.Start) {
		t.Errorf("start %s end %s", rec.Start, rec.End)
	}
	logPath, recPath := Sidecars(dst)
	for _, p := range []string{dst, logPath, recPath} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s is writable: %s", p, st.Mode())
		}
	}
	var back Record
	b, _ := os.ReadFile(recPath)
	if err := json.Unmarshal(b, &back); err != nil || back.Sums != want || back.Source != src {
		t.Errorf("record on disk %+v: %v", back, err)
	}
	l, _ := os.ReadFile(logPath)
	if !bytes.Contains(l, []byte(want.SHA256)) || !bytes.Contains(l, []byte("MATCH")) {
		t.Errorf("log lacks the hash or the verification:\n%s", l)
	}

	// a second acquisition to the same place is refused, and nothing changes
	if _, err := Acquire(context.Background(), Request{Source: src, Dest: dst}); !errors.Is(err, ErrExists) {
		t.Fatalf("err %v, want ErrExists", err)
	}
	if _, err := Acquire(context.Background(), Request{Source: src, Dest: filepath.Join(dir, "other.raw")}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "other.raw"))
	if _, err := Acquire(context.Background(), Request{Source: src, Dest: filepath.Join(dir, "other.raw")}); !errors.Is(err, ErrExists) {
		t.Fatalf("a log left behind: err %v, want ErrExists", err)
	}
}

func TestAcquireMissingSource(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "x.raw")
	if _, err := Acquire(context.Background(), Request{Source: filepath.Join(dir, "nope"), Dest: dst}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an image was created for a missing source")
	}
}

func TestRecordText(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := Record{
		Who:   Who{Tool: "harrier 0.1.0", Command: []string{"harrier", "image", "/dev/nvme1n1", "disk.raw"}, Operator: "ir (uid 1000)", Host: "forensics-1"},
		Start: start, End: start.Add(90 * time.Second), Source: "/dev/nvme1n1", SourceSize: 1 << 30, Dest: "disk.raw",
		SectorSize: 512, Bytes: 1 << 30, SectorsOut: 1 << 21, SectorsIn: 1<<21 - 3, BadSectors: 3,
		Bad:    []BadRange{{4096, 1024, "input/output error"}, {1 << 20, 512, "input/output error"}},
		Sums:   Sums{SHA256: "aa", MD5: "bb"},
		Verify: &Verification{Sums: Sums{SHA256: "aa", MD5: "bb"}, Match: true},
	}
	rec.Outcome = Outcome(nil, rec.BadSectors)
	golden(t, "log.golden", rec.Text())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", name, got)
	}
}
