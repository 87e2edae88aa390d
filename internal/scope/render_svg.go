package scope

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Geometry of the SVG drawing, in pixels. Text is monospace so its width
// can be estimated here without font metrics (0.6 em a cell, two cells for
// East Asian wide characters); a clip path keeps node text inside its box
// should a viewer's font be wider than estimated.
const (
	svgMargin   = 24.0
	svgNodeW    = 300.0
	svgLine     = 16.0 // between text baselines in a node
	svgMaxLines = 3    // label lines shown in a node; the tooltip has all
	svgRowGap   = 14.0
	svgColGap   = 170.0
	svgTextPad  = 10.0
	svgFont     = 12.0 // node labels
	svgSmall    = 11.0 // event counts, edge labels, legend
	svgTitle    = 16.0
	svgEm       = 0.6            // width of a monospace cell, in em
	svgEdgeLbl  = svgColGap - 24 // widest edge label text
	svgLabelH   = 16.0           // height of an edge label's ground
	svgNodesTop = svgMargin + 86
	svgFonts    = `ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace`
)

// svgStyle is how a node kind is drawn: light fills with dark outlines so
// the kinds stay apart in colour and in black-and-white print, where
// temporary keys are also dashed and principals are pills.
type svgStyle struct {
	name, fill, stroke, dash string
	width                    float64
	pill                     bool
}

var svgStyles = []svgStyle{
	{name: "seed", fill: "#fee4e2", stroke: "#b42318", width: 2.5},
	{name: "long-term-key", fill: "#fef0c7", stroke: "#b54708", width: 1.5},
	{name: "temporary-key", fill: "#d1e9ff", stroke: "#175cd3", width: 1.5, dash: "6 3"},
	{name: "principal", fill: "#d3f8df", stroke: "#087443", width: 1.5, pill: true},
	{name: "other", fill: "#f2f4f7", stroke: "#475467", width: 1.5, dash: "2 3"},
}

func svgStyleFor(kind string) svgStyle {
	for _, s := range svgStyles[:len(svgStyles)-1] {
		if s.name == kind {
			return s
		}
	}
	return svgStyles[len(svgStyles)-1]
}

// WriteSVG writes g as a standalone SVG image for a case report: no
// scripts, no links, no external fonts, nothing fetched. Each node sits in
// the column of its distance from the seed (nodes the seed does not reach in
// a last column of their own), in the order g gives them; arrows carry how
// each was obtained, and hovering a node or an edge label shows it in full.
// All text is escaped, so a label is only ever text.
func (g *Graph) WriteSVG(w io.Writer) error {
	v := g.renderView()
	col, seeded, lost := v.columns()
	d := svgDrawing{view: v, col: col, seeded: seeded, lost: lost}
	d.place()
	d.route()

	title := "Credential graph"
	for i, n := range v.nodes {
		if seeded && col[i] == 0 {
			title += " from " + strings.Join(renderLabelLines(n), " ")
			break
		}
	}
	legendW := d.legend()
	width := math.Ceil(max(d.maxX+svgMargin, legendW+2*svgMargin))
	height := math.Ceil(max(d.maxY+svgMargin, svgNodesTop))

	b := &d.out
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" font-family="%s" fill="#101828">`+"\n",
		svgNum(width), svgNum(height), svgFonts)
	fmt.Fprintf(b, "<title>%s</title>\n", svgEscape(title))
	fmt.Fprintf(b, `<defs><marker id="harrier-scope-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#475467"/></marker>`+
		`<clipPath id="harrier-scope-text"><rect x="%s" y="0" width="%s" height="%s"/></clipPath></defs>`+"\n",
		svgNum(svgTextPad/2), svgNum(svgNodeW-svgTextPad), svgNum(svgNodeHeight(svgMaxLines)))
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" font-weight="bold">%s</text>`+"\n",
		svgNum(svgMargin), svgNum(svgMargin+svgTitle-2), svgNum(svgTitle),
		svgEscape(svgClip(title, width-2*svgMargin, svgTitle)))
	b.Write(d.legendSVG.Bytes())
	d.writeHeaders()
	for _, e := range d.edges {
		fmt.Fprintf(b, `<path d="%s" fill="none" stroke="#475467" stroke-width="1.4" marker-end="url(#harrier-scope-arrow)"/>`+"\n", e.path)
	}
	for i := range v.nodes {
		d.writeNode(i)
	}
	for _, e := range d.edges {
		d.writeEdgeLabel(e)
	}
	b.WriteString("</svg>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

// svgDrawing is a drawing being laid out: node boxes first, then edge
// routes, each growing the extent the canvas is sized to.
type svgDrawing struct {
	view       renderView
	col        []int
	seeded     bool      // column 0 holds the seed, not a stand-in
	lost       int       // the column of nodes not reached, or -1
	x, y, h    []float64 // top left of each node's box, and its height
	columns    int
	edges      []svgEdge
	maxX, maxY float64
	placed     []svgBox // edge labels so far
	legendSVG  bytes.Buffer
	out        bytes.Buffer
}

type svgEdge struct {
	renderEdge
	path   string
	how    string  // the label, clipped to fit a column gap
	lx, ly float64 // centre of the label
	lw     float64 // width of the label's ground
}

type svgPoint struct{ x, y float64 }

type svgBox struct{ x, y, w float64 } // centre and width; all svgLabelH high

func (d *svgDrawing) grow(x, y float64) {
	d.maxX, d.maxY = max(d.maxX, x), max(d.maxY, y)
}

// place puts each node in its column, under the nodes before it there.
func (d *svgDrawing) place() {
	n := len(d.view.nodes)
	d.x, d.y, d.h = make([]float64, n), make([]float64, n), make([]float64, n)
	var bottom []float64 // of each column so far
	for i, c := range d.col {
		for len(bottom) <= c {
			bottom = append(bottom, svgNodesTop)
		}
		d.x[i] = svgMargin + float64(c)*(svgNodeW+svgColGap)
		d.y[i] = bottom[c]
		d.h[i] = svgNodeHeight(min(len(renderLabelLines(d.view.nodes[i])), svgMaxLines))
		bottom[c] += d.h[i] + svgRowGap
		d.grow(d.x[i]+svgNodeW, d.y[i]+d.h[i])
	}
	d.columns = len(bottom)
}

// route draws each edge as a cubic curve (a straight line when it can be)
// and finds where its label goes. Edges to the next column run between
// facing sides and put their label half way, in the gap between the
// columns; edges back to an earlier column bow downwards from the source's
// left side to the target's right side, their label in the gap beside the
// target; edges within a column loop out to its right. Repeated edges
// between the same nodes bow further, so none hides another.
func (d *svgDrawing) route() {
	seen := make(map[[2]int]int)
	for _, e := range d.view.edges {
		k := float64(seen[[2]int{e.from, e.to}])
		seen[[2]int{e.from, e.to}]++
		cs, ct := d.col[e.from], d.col[e.to]
		ys, yt := d.y[e.from]+d.h[e.from]/2, d.y[e.to]+d.h[e.to]/2
		how := svgClip(renderSafe(e.How), svgEdgeLbl, svgSmall)
		lw := svgTextWidth(how, svgSmall) + 8
		var p [4]svgPoint
		var label svgPoint
		switch {
		case ct > cs:
			x1, x2 := d.x[e.from]+svgNodeW, d.x[e.to]
			dx, o := (x2-x1)/2, 18*k
			p = [4]svgPoint{{x1, ys}, {x1 + dx, ys + o}, {x2 - dx, yt + o}, {x2, yt}}
			label = svgCubicAtX(p, x2-svgColGap/2)
		case ct < cs:
			x1, x2 := d.x[e.from], d.x[e.to]+svgNodeW
			o := 36 + 18*k
			p = [4]svgPoint{{x1, ys + 8}, {x1 - svgColGap/2, ys + 8 + o}, {x2 + svgColGap/2, yt + 8 + o}, {x2, yt + 8}}
			label = svgCubicAtX(p, x2+svgColGap/2)
		default:
			x := d.x[e.from] + svgNodeW
			if e.from == e.to {
				ys, yt = ys-8, yt+8
			}
			l := svgColGap/2 + 16*k
			p = [4]svgPoint{{x, ys}, {x + l, ys}, {x + l, yt}, {x, yt}}
			label = svgCubic(p, 0.5)
			label.x = max(label.x, x+4+lw/2) // clear of the node
		}
		path := "M" + svgNum(p[0].x) + "," + svgNum(p[0].y)
		if p[0].y == p[3].y && p[1].y == p[0].y && p[2].y == p[0].y {
			path += " L" + svgNum(p[3].x) + "," + svgNum(p[3].y)
		} else {
			path += " C" + svgNum(p[1].x) + "," + svgNum(p[1].y) + " " + svgNum(p[2].x) + "," + svgNum(p[2].y) + " " + svgNum(p[3].x) + "," + svgNum(p[3].y)
		}
		for _, q := range p { // a cubic stays inside its control points' hull
			d.grow(q.x, q.y)
		}
		if how != "" {
			label = d.labelSpot(label, lw)
			d.grow(label.x+lw/2, label.y+8)
		}
		d.edges = append(d.edges, svgEdge{renderEdge: e, path: path, how: how, lx: label.x, ly: label.y, lw: lw})
	}
}

// labelSpot is the nearest place to c, a few steps up or down, where a
// label of width w overlaps no label placed before it; where there is none
// it is c. Labels cluster in the gaps between columns when one node has
// many edges.
func (d *svgDrawing) labelSpot(c svgPoint, w float64) svgPoint {
	for i := range 13 {
		y := c.y + float64((i+1)/2)*svgLabelH*float64(1-2*(i%2)) // 0, +h, -h, +2h, ...
		if y-svgLabelH/2 < svgNodesTop-svgLabelH {
			continue // into the column headers
		}
		free := true
		for _, b := range d.placed {
			if math.Abs(c.x-b.x) < (w+b.w)/2+2 && math.Abs(y-b.y) < svgLabelH+1 {
				free = false
				break
			}
		}
		if free {
			c.y = y
			break
		}
	}
	d.placed = append(d.placed, svgBox{c.x, c.y, w})
	return c
}

// legend draws the key to the node kinds into legendSVG and returns its
// width.
func (d *svgDrawing) legend() float64 {
	used := map[string]bool{}
	for _, n := range d.view.nodes {
		used[svgStyleFor(n.Kind).name] = true
	}
	b := &d.legendSVG
	x, y := svgMargin, svgMargin+svgTitle+14
	for _, s := range svgStyles {
		if s.name == "other" && !used["other"] {
			continue
		}
		rx := 4.0
		if s.pill {
			rx = 8
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="28" height="16" rx="%s" fill="%s" stroke="%s" stroke-width="%s"%s/>`,
			svgNum(x), svgNum(y), svgNum(rx), s.fill, s.stroke, svgNum(s.width), svgDash(s.dash))
		text := strings.ReplaceAll(s.name, "-", " ")
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s">%s</text>`+"\n", svgNum(x+34), svgNum(y+12), svgNum(svgSmall), text)
		x += 34 + svgTextWidth(text, svgSmall) + 20
	}
	note := "columns: steps from the seed; arrows: how each was obtained"
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" fill="#475467">%s</text>`+"\n", svgNum(x), svgNum(y+12), svgNum(svgSmall), note)
	return x + svgTextWidth(note, svgSmall) - svgMargin
}

// writeHeaders names the columns above them.
func (d *svgDrawing) writeHeaders() {
	for c := range d.columns {
		var text string
		switch {
		case c == d.lost:
			text = "not reached from the seed"
		case c == 0 && d.seeded:
			text = "seed"
		case c == 0:
			text = "start (no seed in the graph)"
		case c == 1:
			text = "1 step"
		default:
			text = strconv.Itoa(c) + " steps"
		}
		fmt.Fprintf(&d.out, `<text x="%s" y="%s" font-size="%s" fill="#475467">%s</text>`+"\n",
			svgNum(svgMargin+float64(c)*(svgNodeW+svgColGap)), svgNum(svgNodesTop-10), svgNum(svgSmall), text)
	}
}

// writeNode draws node i: its box, its label lines and event count
// clipped to the box, and the whole of it as a tooltip.
func (d *svgDrawing) writeNode(i int) {
	n, s, h := d.view.nodes[i], svgStyleFor(d.view.nodes[i].Kind), d.h[i]
	lines, events := renderLabelLines(n), renderEvents(n.Events)
	kind := n.Kind
	if kind == "" {
		kind = "(none: an edge names it, the node list does not)"
	}
	tip := append(slices.Clone(lines), "id: "+renderSafe(n.ID), "kind: "+renderSafe(kind))
	if n.Principal != "" {
		tip = append(tip, "principal: "+renderSafe(n.Principal))
	}
	tip = append(tip, events)
	if len(lines) > svgMaxLines {
		lines = lines[:svgMaxLines]
		lines[svgMaxLines-1] += "…"
	}
	rx, inset := 8.0, svgTextPad
	if s.pill {
		rx, inset = h/2, svgTextPad+h/4 // keep text off the rounded ends
	}
	b := &d.out
	fmt.Fprintf(b, `<g transform="translate(%s,%s)"><title>%s</title>`+"\n", svgNum(d.x[i]), svgNum(d.y[i]), svgEscape(strings.Join(tip, "\n")))
	fmt.Fprintf(b, `<rect width="%s" height="%s" rx="%s" fill="%s" stroke="%s" stroke-width="%s"%s/>`+"\n<g clip-path=\"url(#harrier-scope-text)\">",
		svgNum(svgNodeW), svgNum(h), svgNum(rx), s.fill, s.stroke, svgNum(s.width), svgDash(s.dash))
	y := 18.0
	for _, l := range lines {
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s">%s</text>`, svgNum(inset), svgNum(y), svgNum(svgFont), svgEscape(svgClip(l, svgNodeW-2*inset, svgFont)))
		y += svgLine
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" fill="#475467">%s</text></g></g>`+"\n",
		svgNum(inset), svgNum(y), svgNum(svgSmall), svgEscape(svgClip(events, svgNodeW-2*inset, svgSmall)))
}

// svgNodeHeight is the height of a node showing this many label lines
// above its event count.
func svgNodeHeight(lines int) float64 {
	return 10 + svgLine*float64(lines+1)
}

// writeEdgeLabel writes how the edge's target was obtained on a white
// ground at the label point, with the full record as a tooltip.
func (d *svgDrawing) writeEdgeLabel(e svgEdge) {
	if e.how == "" {
		return
	}
	tip := []string{renderSafe(e.How)}
	if when, _ := renderWhen(e.Time, ""); when != "" {
		tip = append(tip, when)
	}
	for _, f := range [][2]string{{"account", e.Account}, {"event", e.EventID}, {"from", e.From}, {"to", e.To}} {
		if f[1] != "" {
			tip = append(tip, f[0]+": "+renderSafe(f[1]))
		}
	}
	fmt.Fprintf(&d.out, `<g><title>%s</title><rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff"/>`+
		`<text x="%s" y="%s" font-size="%s" text-anchor="middle">%s</text></g>`+"\n",
		svgEscape(strings.Join(tip, "\n")), svgNum(e.lx-e.lw/2), svgNum(e.ly-svgLabelH/2), svgNum(e.lw), svgNum(svgLabelH),
		svgNum(e.lx), svgNum(e.ly+4), svgNum(svgSmall), svgEscape(e.how))
}

// svgCubic is the point at t on the cubic Bézier curve p.
func svgCubic(p [4]svgPoint, t float64) svgPoint {
	u := 1 - t
	a, b, c, d := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return svgPoint{a*p[0].x + b*p[1].x + c*p[2].x + d*p[3].x, a*p[0].y + b*p[1].y + c*p[2].y + d*p[3].y}
}

// svgCubicAtX is the point of curve p, whose x runs monotonically from
// p[0] to p[3], where it crosses x (found by bisection).
func svgCubicAtX(p [4]svgPoint, x float64) svgPoint {
	lo, hi := 0.0, 1.0
	rising := p[3].x > p[0].x
	for range 40 {
		mid := (lo + hi) / 2
		if (svgCubic(p, mid).x < x) == rising {
			lo = mid
		} else {
			hi = mid
		}
	}
	return svgCubic(p, (lo+hi)/2)
}

// svgTextWidth estimates the width of s in the monospace font.
func svgTextWidth(s string, size float64) float64 {
	cells := 0
	for _, r := range s {
		cells += svgCells(r)
	}
	return float64(cells) * svgEm * size
}

// svgCells is how many monospace cells r takes: none for combining marks,
// two for East Asian wide and fullwidth characters and most emoji.
func svgCells(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1faff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// svgClip shortens s to fit width, ending it with an ellipsis when cut.
func svgClip(s string, width, size float64) string {
	if svgTextWidth(s, size) <= width {
		return s
	}
	room := width - svgTextWidth("…", size)
	var b strings.Builder
	used := 0.0
	for _, r := range s {
		w := float64(svgCells(r)) * svgEm * size
		if used+w > room {
			break
		}
		used += w
		b.WriteRune(r)
	}
	return b.String() + "…"
}

// svgEscape escapes display-safe text (renderSafe) for XML content and
// attribute values.
func svgEscape(s string) string { return svgEscaper.Replace(s) }

var svgEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func svgDash(dash string) string {
	if dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + dash + `"`
}

// svgNum writes a coordinate to a tenth of a pixel, which keeps the output
// short and the same on every platform.
func svgNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10+0, 'f', -1, 64)
}
