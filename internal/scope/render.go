package scope

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds what both drawings of a Graph share, and the DOT writer;
// render_svg.go draws the SVG. Every string a drawing shows may come from
// CloudTrail, where an attacker chooses it (a session name, a user name, a
// failed call's parameters), so it goes through renderSafe before anything
// else: a label can neither break the file's syntax nor hide or fake text.

// WriteDOT writes g as a Graphviz digraph drawn left to right, for people
// who want to lay the graph out or restyle it with their own tools. Nodes
// and edges are written in the order g gives them, under generated ids
// (n0, n1, ...), so attacker-chosen ids never reach DOT syntax. Node
// shapes say the kind; node labels (a line break in a Label stays one) end
// with the event count; edge labels say how and when (UTC, with the date
// when it changes from the previous edge's). An edge naming a node that is
// not in g.Nodes gets a node of its own, labelled with the id, after the
// others.
func (g *Graph) WriteDOT(w io.Writer) error {
	v := g.renderView()
	var b bytes.Buffer
	b.WriteString("digraph scope {\n\tgraph [rankdir=LR];\n")
	for i, n := range v.nodes {
		lines := append(renderLabelLines(n), renderEvents(n.Events))
		fmt.Fprintf(&b, "\tn%d [label=%s, %s];\n", i, dotLabel(lines...), dotShape(n.Kind))
	}
	prevDate := ""
	for _, e := range v.edges {
		var when string
		when, prevDate = renderWhen(e.Time, prevDate)
		var lines []string
		for _, s := range []string{renderSafe(e.How), when} {
			if s != "" {
				lines = append(lines, s)
			}
		}
		if len(lines) == 0 {
			fmt.Fprintf(&b, "\tn%d -> n%d;\n", e.from, e.to)
			continue
		}
		fmt.Fprintf(&b, "\tn%d -> n%d [label=%s];\n", e.from, e.to, dotLabel(lines...))
	}
	b.WriteString("}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write dot: %w", err)
	}
	return nil
}

// dotShape is the attribute list that draws a node of the given kind.
func dotShape(kind string) string {
	switch kind {
	case "seed":
		return "shape=doubleoctagon"
	case "long-term-key":
		return "shape=box"
	case "temporary-key":
		return `shape=box, style=rounded`
	case "principal":
		return "shape=ellipse"
	}
	return `shape=box, style=dashed`
}

// dotLabel quotes display-safe lines (renderSafe) as one DOT string, joined
// by the escString line break. Doubling backslashes keeps Graphviz from
// reading \N, \G, \l and friends in a label, and from taking a final
// backslash as escaping the closing quote.
func dotLabel(lines ...string) string {
	for i, l := range lines {
		lines[i] = dotEscaper.Replace(l)
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// renderView is the graph as the writers draw it: the nodes as given, then
// a node for every edge end missing from them, and edges resolved to node
// indexes. With duplicate node ids, edges attach to the first.
type renderView struct {
	nodes []Node
	edges []renderEdge
}

type renderEdge struct {
	Edge
	from, to int
}

func (g *Graph) renderView() renderView {
	if g == nil {
		return renderView{}
	}
	v := renderView{nodes: slices.Clone(g.Nodes)}
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		if _, dup := index[n.ID]; !dup {
			index[n.ID] = i
		}
	}
	resolve := func(id string) int {
		i, ok := index[id]
		if !ok {
			i = len(v.nodes)
			index[id] = i
			v.nodes = append(v.nodes, Node{ID: id, Label: id})
		}
		return i
	}
	for _, e := range g.Edges {
		from := resolve(e.From)
		v.edges = append(v.edges, renderEdge{Edge: e, from: from, to: resolve(e.To)})
	}
	return v
}

// columns is each node's distance from the seed along edges (breadth first,
// so cycles end), with nodes the seed does not reach in a column after the
// last. The roots are the nodes of kind (or id) "seed"; a graph without one
// is drawn from its first node. seeded says whether a seed was found;
// lost is the column of the nodes not reached, or -1 if there are none.
func (v renderView) columns() (col []int, seeded bool, lost int) {
	col = make([]int, len(v.nodes))
	next := make([][]int, len(v.nodes))
	for _, e := range v.edges {
		next[e.from] = append(next[e.from], e.to)
	}
	var queue []int
	for i, n := range v.nodes {
		col[i] = -1
		if n.Kind == "seed" || n.ID == "seed" {
			col[i] = 0
			queue = append(queue, i)
		}
	}
	seeded = len(queue) > 0
	if !seeded && len(v.nodes) > 0 {
		col[0] = 0
		queue = append(queue, 0)
	}
	last := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range next[i] {
			if col[j] < 0 {
				col[j] = col[i] + 1
				last = max(last, col[j])
				queue = append(queue, j)
			}
		}
	}
	lost = -1
	for i := range col {
		if col[i] < 0 {
			col[i], lost = last+1, last+1
		}
	}
	return col, seeded, lost
}

// renderLabelLines is what a node shows above its event count: its label,
// or its id when the label is empty, one display-safe line for each line of
// it (graph builders put a key and its principal on two lines).
func renderLabelLines(n Node) []string {
	label := n.Label
	if label == "" {
		label = n.ID
	}
	lines := strings.Split(label, "\n")
	for i, l := range lines {
		lines[i] = renderSafe(l)
	}
	return lines
}

// renderEvents is the node's second line.
func renderEvents(n int64) string {
	if n == 1 {
		return "1 event"
	}
	return strconv.FormatInt(n, 10) + " events"
}

// renderWhen formats an edge's RFC 3339 time as HH:MM:SS UTC, led by the
// date when it is not prevDate, and returns the date to compare the next
// edge with. A time that does not parse is shown as it is; an empty one
// as nothing.
func renderWhen(ts, prevDate string) (text, date string) {
	if ts == "" {
		return "", prevDate
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return renderSafe(ts), prevDate
	}
	t = t.UTC()
	date = t.Format(time.DateOnly)
	if date == prevDate {
		return t.Format("15:04:05 UTC"), date
	}
	return t.Format("2006-01-02 15:04:05 UTC"), date
}

// renderSafe makes s fit to show on one line in any drawing: control and
// format characters (newlines, escape sequences, bidirectional overrides,
// zero-width and tag characters), line separators, noncharacters and bytes
// that are not UTF-8 are written as Go-style escapes (\n, \x1b, \u202e),
// so an attacker's label can neither add lines, reorder or hide text, nor
// make the output invalid. Everything else, backslashes included, is kept.
func renderSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || renderNonchar(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// renderNonchar reports Unicode noncharacters, which XML 1.0 partly forbids.
func renderNonchar(r rune) bool {
	return r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe
}
