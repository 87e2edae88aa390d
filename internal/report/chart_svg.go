package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// VolumeChart is the event volume over time, one line per group (account or
// principal), with findings marked where they began and untrusted periods
// shaded, so that an attack stands out against normal activity. It draws
// itself as inline SVG: no script, nothing fetched, every text escaped.
type VolumeChart struct {
	Start   time.Time     // the first bin's start
	Bin     time.Duration // each bin's width
	Bins    int           // how many bins
	Series  []Series      // drawn in order, each in its own colour
	Markers []Marker      // findings, at their first event
	Bands   []Band        // shaded periods (evidence not verified)
	Width   float64       // the picture's size; 0 gives 1000 by 320
	Height  float64
}

// Series is one group's events per bin.
type Series struct {
	Name   string
	Counts []int64 // len == Bins
}

// Marker is a finding on the time axis.
type Marker struct {
	At       time.Time
	Severity string
	Label    string
}

// Band is a shaded stretch of the time axis.
type Band struct {
	From, To time.Time
	Label    string
}

// The plot area's margins.
const (
	chartLeft   = 64.0
	chartRight  = 16.0
	chartTop    = 24.0
	chartBottom = 40.0
)

// seriesColours are told apart in colour and in print (dash patterns
// repeat them after eight).
var seriesColours = []string{"#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#0e7490", "#a16207", "#be123c", "#4d7c0f"}

// severityColours colour findings' markers.
var severityColours = map[string]string{
	"critical": "#7f1d1d", "high": "#dc2626", "medium": "#ea580c", "low": "#ca8a04", "informational": "#64748b",
}

func (c VolumeChart) size() (w, h float64) {
	w, h = c.Width, c.Height
	if w <= 0 {
		w = 1000
	}
	if h <= 0 {
		h = 320
	}
	return w, h
}

// X is where time t falls on the chart: bin k starts at
// chartLeft + k*binWidth; times within a bin fall proportionally.
func (c VolumeChart) X(t time.Time) float64 {
	w, _ := c.size()
	if c.Bins <= 0 || c.Bin <= 0 {
		return chartLeft
	}
	span := float64(c.Bins) * float64(c.Bin)
	f := float64(t.Sub(c.Start)) / span
	f = math.Max(0, math.Min(1, f))
	return chartLeft + f*(w-chartLeft-chartRight)
}

// Y is where a count falls, on a scale whose top is max.
func (c VolumeChart) Y(n, max int64) float64 {
	_, h := c.size()
	if max <= 0 {
		return h - chartBottom
	}
	return h - chartBottom - float64(n)/float64(max)*(h-chartTop-chartBottom)
}

// Max is the highest count of any series in any bin.
func (c VolumeChart) Max() int64 {
	var m int64
	for _, s := range c.Series {
		for _, n := range s.Counts {
			m = max(m, n)
		}
	}
	return m
}

// SVG draws the chart.
func (c VolumeChart) SVG() string {
	w, h := c.size()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart volume" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" role="img" font-family="sans-serif" font-size="11">`, num(w), num(h))
	b.WriteString(`<title>Events over time</title>`)
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>`)
	bottom, right := h-chartBottom, w-chartRight
	for _, bd := range c.Bands {
		x0, x1 := c.X(bd.From), c.X(bd.To)
		fmt.Fprintf(&b, `<rect class="band" x="%s" y="%s" width="%s" height="%s" fill="#fde68a" fill-opacity="0.55"><title>%s</title></rect>`,
			num(x0), num(chartTop), num(math.Max(x1-x0, 1.5)), num(bottom-chartTop), esc(bd.Label))
	}
	top := niceCeil(c.Max())
	// y axis: 0, half and top, with grid lines
	for _, v := range []int64{0, top / 2, top} {
		y := c.Y(v, top)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%[2]s" stroke="#e5e7eb"/>`, num(chartLeft), num(y), num(right))
		fmt.Fprintf(&b, `<text class="ytick" x="%s" y="%s" text-anchor="end">%s</text>`, num(chartLeft-6), num(y+4), esc(humanCount(v)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%[2]s" stroke="#374151"/>`, num(chartLeft), num(bottom), num(right))
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%[1]s" y2="%s" stroke="#374151"/>`, num(chartLeft), num(chartTop), num(bottom))
	for _, t := range c.ticks() {
		x := c.X(t)
		if x > right-30 && x > chartLeft {
			continue // its label would run off the picture
		}
		fmt.Fprintf(&b, `<line class="xtick" x1="%s" y1="%s" x2="%[1]s" y2="%s" stroke="#374151"/>`, num(x), num(bottom), num(bottom+4))
		fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(bottom+16), esc(tickLabel(t, c.Bin*time.Duration(c.Bins))))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#4b5563">time (UTC), %s bins; events per bin</text>`, num((chartLeft+right)/2), num(h-6), esc(durText(c.Bin)))
	for i, s := range c.Series {
		var pts []string
		for k, n := range s.Counts {
			// each count at its bin's middle
			x := c.X(c.Start.Add(c.Bin*time.Duration(k) + c.Bin/2))
			pts = append(pts, num(x)+","+num(c.Y(n, top)))
		}
		dash := ""
		if i >= len(seriesColours) {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.5"%s points="%s"><title>%s</title></polyline>`,
			seriesColours[i%len(seriesColours)], dash, strings.Join(pts, " "), esc(s.Name))
	}
	for _, m := range c.Markers {
		x := c.X(m.At)
		col := severityColours[m.Severity]
		if col == "" {
			col = "#64748b"
		}
		fmt.Fprintf(&b, `<g class="marker"><title>%s</title><line x1="%s" y1="%s" x2="%[2]s" y2="%s" stroke="%s" stroke-width="1" stroke-dasharray="2,2"/><path d="M%[2]s,%[3]s l-5,-9 h10 z" fill="%[5]s"/></g>`,
			esc(m.Label), num(x), num(chartTop+9), num(bottom), col)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// ticks are the x axis's labelled times: round instants, about eight.
func (c VolumeChart) ticks() []time.Time {
	if c.Bins <= 0 || c.Bin <= 0 {
		return nil
	}
	span := c.Bin * time.Duration(c.Bins)
	step := pickStep(span / 8)
	end := c.Start.Add(span)
	var out []time.Time
	for t := c.Start.Truncate(step); !t.After(end); t = t.Add(step) {
		if !t.Before(c.Start) {
			out = append(out, t)
		}
	}
	return out
}

// steps are the bin and tick widths charts use, smallest first.
var steps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// pickStep is the smallest step at least d.
func pickStep(d time.Duration) time.Duration {
	for _, s := range steps {
		if s >= d {
			return s
		}
	}
	return steps[len(steps)-1]
}

// ChooseBins fits a span of time into at most about maxBins bins of a
// round width: it returns the first bin's start (the span's start, rounded
// down to the width), the width and the count.
func ChooseBins(first, last time.Time, maxBins int) (time.Time, time.Duration, int) {
	span := last.Sub(first)
	bin := pickStep(span / time.Duration(max(maxBins, 1)))
	start := first.Truncate(bin)
	n := int(last.Sub(start)/bin) + 1
	return start, bin, n
}

func tickLabel(t time.Time, span time.Duration) string {
	if span <= 48*time.Hour {
		return t.UTC().Format("01-02 15:04")
	}
	return t.UTC().Format("2006-01-02")
}

func durText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "-day"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "-hour"
	}
	return strconv.Itoa(int(d/time.Minute)) + "-minute"
}

// niceCeil rounds a count up to 1, 2 or 5 times a power of ten.
func niceCeil(n int64) int64 {
	if n <= 1 {
		return 1
	}
	p := int64(1)
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func humanCount(n int64) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1_000 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// num writes a coordinate with at most one decimal, for small stable output.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func esc(s string) string { return html.EscapeString(s) }
