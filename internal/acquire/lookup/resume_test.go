package lookup

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
)

func TestResume(t *testing.T) {
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	for _, w := range [][2]time.Time{{d(1, 0), d(2, 0)}, {d(2, 0), d(3, 12)}, {d(5, 0), d(6, 0)}} {
		if _, err := c.AddAcquired(Dir("111", "us-east-1", w[0], w[1])+"/"+MarkerName, "x", ContentMarker, []byte(w[0].String()), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AddAcquired(Dir("111", "eu-west-1", d(1, 0), d(9, 0))+"/page-00001.json", "x", ContentPage, []byte("{}"), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		region string
		since  time.Time
		want   time.Time
	}{
		{"us-east-1", d(1, 0), d(3, 12)}, // two windows joined up
		{"us-east-1", d(1, 6), d(3, 12)}, // from inside the first
		{"us-east-1", d(4, 0), d(4, 0)},  // in the gap: nothing to skip
		{"us-east-1", d(5, 0), d(6, 0)},  // the later window
		{"eu-west-1", d(1, 0), d(1, 0)},  // pages without a marker do not count
		{"ap-south-1", d(1, 0), d(1, 0)}, // nothing there
	} {
		if got := Resume(c, "111", tc.region, tc.since); !got.Equal(tc.want) {
			t.Errorf("%s from %s: resume at %s, want %s", tc.region, tc.since, got, tc.want)
		}
	}
}
