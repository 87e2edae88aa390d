package ebsimage

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/respond/image"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestRecordText(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := Record{
		Who:   image.Who{Tool: "harrier 0.1.0", Command: []string{"harrier", "collect", "snapshot", "snap-0abc", "--image", "disk.raw"}, Operator: "ir (uid 1000)", Host: "forensics-1"},
		Start: start, End: start.Add(10 * time.Minute), SnapshotID: "snap-0abc", Region: "eu-west-1",
		Snapshot: &Snapshot{VolumeID: "vol-0def", OwnerID: "111122223333", StartTime: start.Add(-time.Hour), State: "completed", Encrypted: true, KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k", Description: "web-1 root"},
		Dest:     "disk.raw", VolumeSize: 8, BlockSize: 524288, Bytes: 8 << 30,
		BlocksListed: 1200, BlocksFetched: 700, BlocksResumed: 499, BlocksRefetched: 1, ChecksumFailures: 2, TokenRefreshes: 0,
		Sums:    image.Sums{SHA256: "aa", MD5: "bb"},
		Outcome: "complete",
	}
	got := rec.Text()
	path := filepath.Join("testdata", "log.golden")
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("log differs (run with -update to accept):\n%s", got)
	}
}

func TestLoadState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.state")
	h := stateHeader{SnapshotID: "snap-1", VolumeSize: 1, BlockSize: 512}
	s, err := createState(path, h)
	if err != nil {
		t.Fatal(err)
	}
	s.add(3, "c3")
	s.add(9, "c9")
	s.close()
	// a crash in the middle of a line: the line is dropped, the rest kept
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"block":12,"sha`)
	f.Close()
	s, err = appendState(path)
	if err != nil {
		t.Fatal(err)
	}
	s.add(12, "c12")
	s.close()
	gotH, done, err := loadState(path)
	if err != nil || gotH != h || len(done) != 3 || done[3] != "c3" || done[9] != "c9" || done[12] != "c12" {
		t.Fatalf("header %+v, blocks %v, err %v", gotH, done, err)
	}
	os.WriteFile(path, []byte("not json\n"), 0o644)
	if _, _, err := loadState(path); err == nil {
		t.Fatal("a damaged header was accepted")
	}
}
