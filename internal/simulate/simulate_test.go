package simulate

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestWriteIsDeterministic(t *testing.T) {
	t.Parallel()
	// The fixture went to disk with a worker per CPU; redo it in memory with
	// a single worker and compare names and bytes of every file: log
	// files, digests (signatures included), sidecars and the key list.
	resA, a := fixtureAll(t)
	one := fixtureOpts
	one.Workers = 1
	resB, b := writeMem(t, one)
	if len(a) != len(b) || resA.Bytes != resB.Bytes || resA.Digests != resB.Digests {
		t.Fatalf("first run: %d files, %d bytes, %d digests; second: %d files, %d bytes, %d digests",
			len(a), resA.Bytes, resA.Digests, len(b), resB.Bytes, resB.Digests)
	}
	for i := range a {
		if a[i].rel != b[i].rel {
			t.Fatalf("file %d named %s then %s", i, a[i].rel, b[i].rel)
		}
		if !bytes.Equal(a[i].gz, b[i].gz) {
			t.Fatalf("%s differs between runs", a[i].rel)
		}
	}
	if !reflect.DeepEqual(resA.Truth, resB.Truth) {
		t.Error("ground truth differs between runs")
	}

	other := newPlan(newCast(uint64(fixtureOpts.Seed)+1, 1), fixtureOpts.Start, 1).truth
	if other.LeakedAccessKeyID == resA.Truth.LeakedAccessKeyID || other.Steps[0].EventID == resA.Truth.Steps[0].EventID {
		t.Error("two seeds produced the same attack")
	}
}

func TestWriteRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{"negative scale", Options{Scale: -1}},
		{"huge scale", Options{Scale: maxScale + 1}},
		{"negative days", Options{Days: -2}},
		{"negative workers", Options{Workers: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Write(context.Background(), dir, tc.opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestWriteHonoursCancellation(t *testing.T) {
	t.Parallel()
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := Write(ctx, t.TempDir(), Options{Days: 1})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if res.Files != 0 {
			t.Errorf("wrote %d files after cancellation", res.Files)
		}
	})
	t.Run("while writing", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		res, err := Write(ctx, t.TempDir(), Options{Days: 30, Scale: 3})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v (after %d files), want context.DeadlineExceeded", err, res.Files)
		}
	})
}

func TestWriteReportsIOErrors(t *testing.T) {
	t.Parallel()
	// A file where the output folder should be makes every write fail.
	dir := t.TempDir() + "/not-a-dir"
	if err := os.WriteFile(dir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Write(context.Background(), dir, Options{Days: 1})
	if err == nil {
		t.Fatal("Write into a regular file succeeded")
	}
	if errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("I/O failure reported as invalid options: %v", err)
	}
}

func TestScaleMultipliesBackground(t *testing.T) {
	t.Parallel()
	res1, _ := fixture(t)
	o := fixtureOpts
	o.Scale = 2
	res2, _ := writeMem(t, o)
	one, two := float64(res1.Events-res1.Truth.Events), float64(res2.Events-res2.Truth.Events)
	if ratio := two / one; math.Abs(ratio-2) > 0.3 {
		t.Errorf("scale 2 background = %.0f events, scale 1 = %.0f: ratio %.2f, want about 2", two, one, ratio)
	}
	if res1.Truth.Events != res2.Truth.Events {
		t.Errorf("attack has %d events at scale 1, %d at scale 2", res1.Truth.Events, res2.Truth.Events)
	}
}

func TestFilesHoldRealisticBatches(t *testing.T) {
	t.Parallel()
	res, logs := fixture(t)
	if res.Files != len(logs) {
		t.Fatalf("Result.Files = %d, found %d files", res.Files, len(logs))
	}
	n := len(all(logs))
	if res.Events != n {
		t.Fatalf("Result.Events = %d, found %d records", res.Events, n)
	}
	if mean := float64(n) / float64(len(logs)); mean < 2 || mean > 200 {
		t.Errorf("mean records per file = %.1f, want a few to a few hundred", mean)
	}
	for _, f := range logs {
		if len(f.records) == 0 || len(f.records) > defaultMaxPerFile {
			t.Errorf("%s holds %d records", f.rel, len(f.records))
		}
	}

	// A low cap splits busy windows without losing or duplicating records.
	o := fixtureOpts
	o.maxPerFile = 5
	small, split := writeMem(t, o)
	if small.Events != res.Events || small.Files <= res.Files {
		t.Errorf("cap 5: %d events in %d files, want %d events in more than %d files", small.Events, small.Files, res.Events, res.Files)
	}
	total := 0
	for _, f := range logsOnly(split) {
		recs, err := rawRecords(f.gz)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 5 {
			t.Errorf("%s holds %d records, cap is 5", f.rel, len(recs))
		}
		total += len(recs)
	}
	if total != res.Events {
		t.Errorf("split files hold %d records, want %d", total, res.Events)
	}
}
