package report

import (
	"context"
	"fmt"
	"html/template"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/store"
)

// volumeBins is about how many bins the chart has: fine enough to show an
// hour-long attack in a week of logs.
const volumeBins = 240

// volumeGroups is how many accounts or principals get a line of their own.
const volumeGroups = 8

// manyMarkers is how many findings the chart marks in full; past it, low
// and informational findings are left off so the serious ones stay legible.
const manyMarkers = 50

// markerNote says which findings the chart marks and how many it does not,
// and why: nothing is left off silently.
func markerNote(findings, marked, minor, noTime int, many bool) string {
	if findings == 0 {
		return "no findings to mark"
	}
	which := "each finding"
	if many {
		which = "each medium, high and critical finding"
	}
	note := fmt.Sprintf("triangles mark where %s began (%d of %d findings marked", which, marked, findings)
	if minor > 0 {
		note += fmt.Sprintf("; %d low and informational ones are not, as there are more than %d findings", minor, manyMarkers)
	}
	if noTime > 0 {
		note += fmt.Sprintf("; %d have no time and are not", noTime)
	}
	return note + ")"
}

// volumeOf draws the event volume per account or principal, with each
// finding marked where it began (low and informational ones left out when
// there are many) and the untrusted periods shaded.
func volumeOf(ctx context.Context, st *store.Store, sum store.Summary, all []detect.Stored, untrusted []store.Period, opts Options) (volumeSection, error) {
	sec := volumeSection{By: opts.VolumeBy}
	if sum.First == nil {
		sec.Empty = true
		return sec, nil
	}
	start, bin, n := ChooseBins(*sum.First, *sum.Last, volumeBins)
	bins, groups, err := st.Volume(ctx, opts.VolumeBy, start, bin, volumeGroups)
	if err != nil {
		return sec, err
	}
	ch := VolumeChart{Start: start, Bin: bin, Bins: n}
	at := map[string]int{}
	for i, g := range groups {
		at[g] = i
		ch.Series = append(ch.Series, Series{Name: g, Counts: make([]int64, n)})
		sec.Legend = append(sec.Legend, legendEntry{Name: g, Class: fmt.Sprintf("sw%d", i%len(seriesColours))})
	}
	for _, b := range bins {
		if i, ok := at[b.Group]; ok && b.Bin >= 0 && b.Bin < int64(n) {
			ch.Series[i].Counts[b.Bin] = b.Events
		}
	}
	many := len(all) > manyMarkers
	var minor, noTime int
	for _, f := range all {
		switch {
		case f.FirstSeen.IsZero():
			noTime++
			continue
		case many && f.Severity.Rank() < detect.Medium.Rank():
			minor++
			continue
		}
		ch.Markers = append(ch.Markers, Marker{At: f.FirstSeen, Severity: string(f.Severity),
			Label: fmt.Sprintf("%s %s: %s (%s)", timeText(f.FirstSeen), f.Severity, f.Title, f.Principal)})
	}
	sec.Markers = len(ch.Markers)
	sec.MarkerNote = markerNote(len(all), len(ch.Markers), minor, noTime, many)
	for _, p := range untrusted {
		ch.Bands = append(ch.Bands, Band{From: p.Start, To: p.End,
			Label: fmt.Sprintf("evidence %s: %s %s, %s to %s", p.Status, p.Account, p.Region, timeText(p.Start), timeText(p.End))})
	}
	// the chart's code escapes every text it draws
	sec.SVG = template.HTML(ch.SVG())
	return sec, nil
}
