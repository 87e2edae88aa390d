package report

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)

func TestChooseBins(t *testing.T) {
	tests := []struct {
		name        string
		first, last time.Time
		wantStart   time.Time
		wantBin     time.Duration
		wantBins    int
	}{
		{"a week in hours", t0.Add(90 * time.Minute), t0.Add(7*24*time.Hour - time.Second), t0.Add(time.Hour), time.Hour, 167},
		{"an hour in minutes", t0.Add(30 * time.Second), t0.Add(59 * time.Minute), t0, time.Minute, 60},
		{"one instant", t0.Add(5 * time.Minute), t0.Add(5 * time.Minute), t0.Add(5 * time.Minute), time.Minute, 1},
		{"a year in weeks", t0, t0.Add(365 * 24 * time.Hour), t0.Truncate(7 * 24 * time.Hour), 7 * 24 * time.Hour, 54},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, bin, n := ChooseBins(tc.first, tc.last, 240)
			if !start.Equal(tc.wantStart) || bin != tc.wantBin || n != tc.wantBins {
				t.Errorf("got %s %s %d, want %s %s %d", start, bin, n, tc.wantStart, tc.wantBin, tc.wantBins)
			}
			if end := start.Add(bin * time.Duration(n)); end.Before(tc.last) || !end.After(tc.last) {
				t.Errorf("bins end %s, last event %s: not covered", end, tc.last)
			}
		})
	}
}

func TestChartPlacesBinsAndMarkers(t *testing.T) {
	ch := VolumeChart{Start: t0, Bin: time.Hour, Bins: 10, Width: 1000 + chartLeft + chartRight, Height: 300,
		Series: []Series{
			{Name: "111111111111", Counts: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
			{Name: "<b>evil</b>", Counts: []int64{0, 0, 0, 0, 0, 0, 0, 0, 0, 200}},
		},
		Markers: []Marker{{At: t0.Add(3 * time.Hour), Severity: "high", Label: "finding <script>x</script>"}},
		Bands:   []Band{{From: t0.Add(5 * time.Hour), To: t0.Add(6 * time.Hour), Label: "untrusted"}},
	}
	plot := ch.Width - chartLeft - chartRight // 1000
	if got := ch.X(t0); got != chartLeft {
		t.Errorf("X(start) = %v, want the plot's left edge %v", got, chartLeft)
	}
	if got, want := ch.X(t0.Add(3*time.Hour)), chartLeft+plot*3/10; got != want {
		t.Errorf("X(bin 3) = %v, want %v", got, want)
	}
	if got, want := ch.X(t0.Add(10*time.Hour)), chartLeft+plot; got != want {
		t.Errorf("X(end) = %v, want %v", got, want)
	}
	if got := ch.X(t0.Add(-time.Hour)); got != chartLeft {
		t.Errorf("a time before the chart is clamped to its left edge, got %v", got)
	}
	if got, want := ch.Y(0, 200), 300-chartBottom; got != want {
		t.Errorf("Y(0) = %v, want the axis %v", got, want)
	}
	if got, want := ch.Y(200, 200), chartTop; got != want {
		t.Errorf("Y(max) = %v, want the top %v", got, want)
	}
	svg := ch.SVG()
	polylines := regexp.MustCompile(`<polyline [^>]*points="([^"]*)"`).FindAllStringSubmatch(svg, -1)
	if len(polylines) != 2 {
		t.Fatalf("%d polylines, want one per series (2)", len(polylines))
	}
	for _, p := range polylines {
		if pts := strings.Fields(p[1]); len(pts) != 10 {
			t.Errorf("%d points, want one per bin (10)", len(pts))
		}
	}
	// the first point sits in the middle of bin 0, at the bottom for 1 of 200
	first := strings.Fields(polylines[1][1])[0]
	if want := num(ch.X(t0.Add(30*time.Minute))) + "," + num(ch.Y(0, 200)); first != want {
		t.Errorf("first point %s, want %s", first, want)
	}
	marker := regexp.MustCompile(`<g class="marker"><title>[^<]*</title><line x1="([0-9.]+)"`).FindStringSubmatch(svg)
	if marker == nil || marker[1] != num(chartLeft+plot*3/10) {
		t.Errorf("marker at %v, want x %s", marker, num(chartLeft+plot*3/10))
	}
	band := regexp.MustCompile(`<rect class="band" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindStringSubmatch(svg)
	if band == nil || band[1] != num(chartLeft+plot/2) || band[2] != num(plot/10) {
		t.Errorf("band %v, want x %s width %s", band, num(chartLeft+plot/2), num(plot/10))
	}
	for _, want := range []string{`class="axis"`, `>200</text>`, `>100</text>`, `>0</text>`, `1-hour bins`, `&lt;b&gt;evil&lt;/b&gt;`, `finding &lt;script&gt;x&lt;/script&gt;`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %s", want)
		}
	}
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<b>") {
		t.Error("text reached the SVG unescaped")
	}
	// ticks every hour (span 10h / 8 rounds up to 3h): 00:00, 03:00, 06:00, 09:00
	labels := regexp.MustCompile(`<text class="xlabel"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1)
	var got []string
	for _, l := range labels {
		got = append(got, l[1])
	}
	if want := "03-08 00:00 03-08 03:00 03-08 06:00 03-08 09:00"; strings.Join(got, " ") != want {
		t.Errorf("x labels %q, want %q", strings.Join(got, " "), want)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{{0, 1}, {1, 1}, {2, 2}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {450, 500}, {501, 1000}, {1_200_000, 2_000_000}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
