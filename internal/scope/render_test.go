package scope

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* files")

// renderHostile is markup an attacker can put in a CloudTrail field that
// ends up in a label; the drawings must show it as text.
const renderHostile = "<script>alert(1)</script>"

type renderCase struct {
	name string
	g    Graph
}

// renderCaseNamed is the graph of the case with that name.
func renderCaseNamed(name string) *Graph {
	i := slices.IndexFunc(renderCases, func(c renderCase) bool { return c.name == name })
	return &renderCases[i].g
}

// renderCases are the graphs the drawings are pinned on; each is written to
// testdata/render_NAME.golden.dot and .svg.
var renderCases = []renderCase{
	{"empty", Graph{}},
	{"seed-only", Graph{Nodes: []Node{{ID: "seed", Kind: "seed", Label: "access-key AKIAIOSFODNN7EXAMPLE", Events: 1}}}},
	{"chain", Graph{
		Nodes: []Node{
			{ID: "seed", Kind: "seed", Label: "access-key AKIAIOSFODNN7EXAMPLE"},
			{ID: "AKIAIOSFODNN7EXAMPLE", Kind: "long-term-key", Label: "AKIAIOSFODNN7EXAMPLE\narn:aws:iam::111122223333:user/ci-deploy", Principal: "arn:aws:iam::111122223333:user/ci-deploy", Events: 412},
			{ID: "AKIAI44QH8DHBEXAMPLE", Kind: "long-term-key", Label: "AKIAI44QH8DHBEXAMPLE\narn:aws:iam::111122223333:user/backup-svc", Principal: "arn:aws:iam::111122223333:user/backup-svc", Events: 37},
			{ID: "ASIAQNZGKIQY56JQ7WML", Kind: "temporary-key", Label: "ASIAQNZGKIQY56JQ7WML\narn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/x", Events: 1},
			{ID: "user:111122223333/backup-svc", Kind: "principal", Label: "user backup-svc (111122223333)"},
		},
		Edges: []Edge{
			{From: "seed", To: "AKIAIOSFODNN7EXAMPLE", How: "seed"},
			{From: "AKIAIOSFODNN7EXAMPLE", To: "AKIAI44QH8DHBEXAMPLE", How: "CreateAccessKey", EventID: "e1", Time: "2026-03-14T10:02:00Z", Account: "111122223333"},
			{From: "AKIAIOSFODNN7EXAMPLE", To: "user:111122223333/backup-svc", How: "CreateLoginProfile", EventID: "e2", Time: "2026-03-14T10:03:30Z", Account: "111122223333"},
			{From: "AKIAI44QH8DHBEXAMPLE", To: "ASIAQNZGKIQY56JQ7WML", How: "AssumeRole", EventID: "e3", Time: "2026-03-15T01:00:00+02:00", Account: "444455556666"},
		},
	}},
	{"cycle", Graph{
		Nodes: []Node{
			{ID: "seed", Kind: "seed", Label: "access-key AKIA0000000000000001"},
			{ID: "A", Kind: "long-term-key", Label: "A", Events: 3},
			{ID: "B", Kind: "long-term-key", Label: "B", Events: 2},
		},
		Edges: []Edge{
			{From: "seed", To: "A", How: "seed"},
			{From: "A", To: "B", How: "CreateAccessKey", Time: "2026-03-14T10:00:00Z"},
			{From: "B", To: "A", How: "UpdateAccessKey", Time: "2026-03-14T10:05:00Z"},
		},
	}},
	{"hostile", Graph{
		Nodes: []Node{
			{ID: "seed", Kind: "seed", Label: `say "hi" \N\G\l \` + "\n" + renderHostile},
			{ID: `"]; evil -> x [label="`, Kind: "temporary-key", Label: "ANSI \x1b[31mred\x1b[0m tab\there cr\rnul\x00 del\x7f", Events: 5},
			{ID: "bidi", Kind: "principal", Label: "invoice\u202egpj.exe zero\u200bwidth bad\xffutf8 nonchar\uffff"},
			{ID: "wide", Kind: "long-term-key", Label: "ключ 鍵の所有者 🔑 e\u0301 " + strings.Repeat("long-", 40) + "end"},
			{ID: "lines", Kind: "long-term-key", Label: "one\ntwo\nthree\nfour", Events: 2},
		},
		Edges: []Edge{
			{From: "seed", To: `"]; evil -> x [label="`, How: "Assume\"Role\"\n" + renderHostile, Time: "yesterday <b>"},
			{From: `"]; evil -> x [label="`, To: "bidi", How: `back\slash\`, Time: "2026-03-14T10:00:00Z"},
			{From: "seed", To: "wide", How: strings.Repeat("VeryLongApiCallName", 5), Time: "2026-03-14T10:00:00Z"},
			{From: "wide", To: "lines", How: "x & y", Time: "2026-03-14T10:00:00Z"},
		},
	}},
	{"odd-shapes", Graph{
		Nodes: []Node{
			{ID: "seed", Kind: "seed", Label: "access-key AKIA0000000000000002"},
			{ID: "K1", Kind: "long-term-key", Label: "K1"},
			{ID: "K2", Kind: "temporary-key", Label: "K2"},
			{ID: "K3", Kind: "temporary-key", Label: "K3"},
			{ID: "lonely", Kind: "principal", Label: "not reached"},
			{ID: "odd", Kind: "something-new", Label: ""},
		},
		Edges: []Edge{
			{From: "seed", To: "K1", How: "seed"},
			{From: "K1", To: "K2", How: "AssumeRole", Time: "2026-03-14T10:00:00Z"},
			{From: "K1", To: "K2", How: "AssumeRole", Time: "2026-03-14T10:01:00Z"},
			{From: "K1", To: "K3", How: "GetSessionToken", Time: "2026-03-14T10:02:00Z"},
			{From: "K2", To: "K3", How: "same-column", Time: "2026-03-14T10:03:00Z"},
			{From: "K3", To: "K3", How: "self", Time: "2026-03-14T10:04:00Z"},
			{From: "K3", To: "seed", How: "back-two", Time: "2026-03-14T10:05:00Z"},
			{From: "lonely", To: "odd", How: "ConsoleLogin", Time: "2026-03-14T10:06:00Z"},
			{From: "K2", To: "ghost", How: "used-from-ip"},
			{From: "K2", To: "odd"},
		},
	}},
	{"no-seed", Graph{
		Nodes: []Node{
			{ID: "AKIA0000000000000003", Kind: "long-term-key", Label: "first"},
			{ID: "ASIA0000000000000004", Kind: "temporary-key", Label: "second"},
		},
		Edges: []Edge{{From: "AKIA0000000000000003", To: "ASIA0000000000000004", How: "AssumeRole", Time: "2026-03-14T10:00:00Z"}},
	}},
}

// TestRenderGolden pins both drawings of every case; rewrite them with
// -update after a deliberate change, and look at the SVGs before committing.
func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			for ext, write := range map[string]func(*Graph, io.Writer) error{"dot": (*Graph).WriteDOT, "svg": (*Graph).WriteSVG} {
				var b bytes.Buffer
				if err := write(&tc.g, &b); err != nil {
					t.Fatal(err)
				}
				renderGolden(t, "render_"+tc.name+".golden."+ext, b.Bytes())
			}
		})
	}
}

func renderGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (go test ./internal/scope -run %s -update to accept):\n%s", path, t.Name(), got)
	}
}

// TestRenderSVGIsOnlyText parses every drawing as XML: it must be well
// formed, draw nothing active or external, and show hostile labels as text.
func TestRenderSVGIsOnlyText(t *testing.T) {
	cases := append(slices.Clone(renderCases), renderCase{"large", renderLarge(200)})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.g.WriteSVG(&b); err != nil {
				t.Fatal(err)
			}
			doc := renderParseSVG(t, b.Bytes())
			if tc.name == "hostile" && !strings.Contains(doc.text, renderHostile) {
				t.Errorf("the text of %q is not in the drawing", renderHostile)
			}
			if nodes := len(tc.g.renderView().nodes); doc.nodes != nodes {
				t.Errorf("drew %d nodes, want %d", doc.nodes, nodes)
			}
		})
	}
}

type renderSVGDoc struct {
	width, height float64
	text          string // all character data
	nodes         int    // node boxes: groups placed by a translate
}

func renderParseSVG(t *testing.T, b []byte) renderSVGDoc {
	t.Helper()
	var doc renderSVGDoc
	var text strings.Builder
	dec := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch strings.ToLower(tok.Name.Local) {
			case "script", "foreignobject", "iframe", "image", "use", "a", "style":
				t.Errorf("the drawing has a <%s> element", tok.Name.Local)
			}
			if depth == 0 && tok.Name.Local != "svg" {
				t.Fatalf("root element is <%s>", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(name, "on") || name == "href" || strings.Contains(a.Value, "://") && !(depth == 0 && name == "xmlns") {
					t.Errorf("<%s> has attribute %s=%q", tok.Name.Local, a.Name.Local, a.Value)
				}
				switch {
				case depth == 0 && name == "width":
					doc.width, _ = strconv.ParseFloat(a.Value, 64)
				case depth == 0 && name == "height":
					doc.height, _ = strconv.ParseFloat(a.Value, 64)
				case tok.Name.Local == "g" && name == "transform":
					doc.nodes++
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(tok)
		}
	}
	if doc.width <= 0 || doc.height <= 0 {
		t.Errorf("canvas is %gx%g", doc.width, doc.height)
	}
	doc.text = text.String()
	return doc
}

// renderLarge is a graph of n nodes shaped like a noisy compromise: a seed
// key that made ten keys, each of which assumed roles many times, a few of
// them looping back, and some nodes nothing reaches.
func renderLarge(n int) Graph {
	g := Graph{Nodes: []Node{{ID: "seed", Kind: "seed", Label: "access-key AKIA0000000000000000"}}}
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("ASIA%016d", i)
		node := Node{ID: id, Kind: "temporary-key", Label: id + "\narn:aws:sts::111122223333:assumed-role/Role/session-" + strconv.Itoa(i), Events: int64(i)}
		from := fmt.Sprintf("AKIA%016d", (i-11)%10+1)
		switch {
		case i <= 10:
			node.ID, node.Kind, node.Label = fmt.Sprintf("AKIA%016d", i), "long-term-key", fmt.Sprintf("AKIA%016d", i)
			from = "seed"
		case i%50 == 0:
			from = "nowhere"
		}
		g.Nodes = append(g.Nodes, node)
		g.Edges = append(g.Edges, Edge{From: from, To: node.ID, How: "AssumeRole", Time: fmt.Sprintf("2026-03-14T%02d:%02d:00Z", i/60%24, i%60)})
		if i%37 == 0 {
			g.Edges = append(g.Edges, Edge{From: node.ID, To: "seed", How: "CreateAccessKey"})
		}
	}
	return g
}

// TestRenderLargeSize holds the drawing of 200 nodes to a size that grows
// with the tallest column and the number of columns, not with labels.
func TestRenderLargeSize(t *testing.T) {
	g := renderLarge(200)
	for i := range g.Nodes[1:] {
		g.Nodes[i+1].Label += strings.Repeat("x", 500)
	}
	var b bytes.Buffer
	if err := g.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	doc := renderParseSVG(t, b.Bytes())
	col, _, _ := g.renderView().columns()
	rows := map[int]int{}
	for _, c := range col {
		rows[c]++
	}
	tallest := slices.Max(slices.Collect(func(yield func(int) bool) {
		for _, r := range rows {
			yield(r)
		}
	}))
	maxW := float64(len(rows))*(svgNodeW+svgColGap) + 2*svgMargin
	maxH := svgNodesTop + float64(tallest)*(svgNodeHeight(svgMaxLines)+svgRowGap) + 200
	if doc.width > maxW || doc.height > maxH {
		t.Errorf("canvas is %gx%g for %d columns and %d rows, want at most %gx%g", doc.width, doc.height, len(rows), tallest, maxW, maxH)
	}
	if b.Len() > 2000*(len(g.Nodes)+len(g.Edges)) {
		t.Errorf("the drawing is %d bytes", b.Len())
	}
}

// TestRenderColumns checks the layering: distance from the seed along
// edges, cycles included, and a last column for what the seed does not
// reach.
func TestRenderColumns(t *testing.T) {
	nodes := func(ids ...string) []Node {
		var ns []Node
		for _, id := range ids {
			kind := "long-term-key"
			if id == "S" {
				kind = "seed"
			}
			ns = append(ns, Node{ID: id, Kind: kind})
		}
		return ns
	}
	for _, tc := range []struct {
		name   string
		g      Graph
		want   []int
		seeded bool
		lost   int
	}{
		{"empty", Graph{}, []int{}, false, -1},
		{"seed only", Graph{Nodes: nodes("S")}, []int{0}, true, -1},
		{"cycle", Graph{Nodes: nodes("S", "A", "B"), Edges: []Edge{{From: "S", To: "A"}, {From: "A", To: "B"}, {From: "B", To: "A"}}}, []int{0, 1, 2}, true, -1},
		{"shortest path wins", Graph{Nodes: nodes("S", "A", "B", "C"), Edges: []Edge{{From: "S", To: "A"}, {From: "A", To: "B"}, {From: "B", To: "C"}, {From: "S", To: "C"}}}, []int{0, 1, 2, 1}, true, -1},
		{"unreached", Graph{Nodes: nodes("S", "A", "X", "Y"), Edges: []Edge{{From: "S", To: "A"}, {From: "X", To: "Y"}, {From: "Y", To: "S"}}}, []int{0, 1, 2, 2}, true, 2},
		{"edges against the arrow do not count", Graph{Nodes: nodes("S", "A"), Edges: []Edge{{From: "A", To: "S"}}}, []int{0, 1}, true, 1},
		{"no seed starts at the first node", Graph{Nodes: nodes("A", "B", "C"), Edges: []Edge{{From: "A", To: "B"}}}, []int{0, 1, 2}, false, 2},
		{"unknown ends become nodes", Graph{Nodes: nodes("S"), Edges: []Edge{{From: "S", To: "ghost"}, {From: "ghost", To: "S"}}}, []int{0, 1}, true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col, seeded, lost := tc.g.renderView().columns()
			if !slices.Equal(col, tc.want) || seeded != tc.seeded || lost != tc.lost {
				t.Errorf("columns = %v, seeded %v, lost %d; want %v, %v, %d", col, seeded, lost, tc.want, tc.seeded, tc.lost)
			}
		})
	}
}

// TestRenderDOTSyntax parses every DOT drawing statement by statement
// with DOT's own quoting rules and decodes each label as Graphviz would:
// no label may end a string early, span lines, or carry an escape Graphviz
// would expand (\N, \l, ...), and each must read back as expected.
func TestRenderDOTSyntax(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.g.WriteDOT(&b); err != nil {
				t.Fatal(err)
			}
			labels := renderParseDOT(t, b.String())
			v := tc.g.renderView()
			for i, n := range v.nodes {
				want := strings.Join(append(renderLabelLines(n), renderEvents(n.Events)), "\n")
				if got := labels[fmt.Sprintf("n%d", i)]; got != want {
					t.Errorf("node %d label reads back as %q, want %q", i, got, want)
				}
			}
		})
	}
	// What the hostile labels must read back as, spelled out rather than
	// computed by the code under test.
	var b bytes.Buffer
	if err := renderCaseNamed("hostile").WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	labels := renderParseDOT(t, b.String())
	for stmt, want := range map[string]string{
		"n0":       `say "hi" \N\G\l \` + "\n" + renderHostile + "\n0 events",
		"n1":       `ANSI \x1b[31mred\x1b[0m tab\there cr\rnul\x00 del\x7f` + "\n5 events",
		"n2":       `invoice\u202egpj.exe zero\u200bwidth bad\xffutf8 nonchar\uffff` + "\n0 events",
		"n0 -> n1": `Assume"Role"\n` + renderHostile + "\nyesterday <b>",
		"n1 -> n2": `back\slash\` + "\n2026-03-14 10:00:00 UTC",
		"n3 -> n4": "x & y\n10:00:00 UTC",
	} {
		if got := labels[stmt]; got != want {
			t.Errorf("%s label reads back as %q, want %q", stmt, got, want)
		}
	}
}

// renderParseDOT checks that dot is one digraph of node, edge and attribute
// statements, one to a line, and returns each node's and edge's label as
// Graphviz would show it, keyed by "n1" or "n1 -> n2".
func renderParseDOT(t *testing.T, dot string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(dot, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "digraph scope {" || lines[len(lines)-1] != "}" {
		t.Fatalf("not one digraph:\n%s", dot)
	}
	labels := map[string]string{}
	for _, line := range lines[1 : len(lines)-1] {
		toks, err := renderDOTTokens(line)
		if err != nil {
			t.Fatalf("%v in line %q", err, line)
		}
		key, attrs, err := renderDOTStatement(toks)
		if err != nil {
			t.Fatalf("%v in line %q", err, line)
		}
		if l, ok := attrs["label"]; ok {
			if labels[key], err = renderEscString(l); err != nil {
				t.Fatalf("%v in line %q", err, line)
			}
		} else if key != "graph" {
			labels[key] = ""
		}
	}
	return labels
}

// renderDOTTokens splits a line into DOT tokens: IDs, quoted strings (kept
// quoted, with only \" unescaped), and punctuation.
func renderDOTTokens(line string) ([]string, error) {
	var toks []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			var s strings.Builder
			s.WriteByte('"')
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] < 0x20 || line[j] == 0x7f {
					return nil, fmt.Errorf("control byte %#x in a string", line[j])
				}
				if line[j] == '\\' && j+1 < len(line) {
					if line[j+1] != '"' {
						s.WriteByte('\\')
					}
					j++
				}
				s.WriteByte(line[j])
			}
			if j == len(line) {
				return nil, errors.New("string runs past the end of the line")
			}
			s.WriteByte('"')
			toks = append(toks, s.String())
			i = j + 1
		case strings.HasPrefix(line[i:], "->"):
			toks = append(toks, "->")
			i += 2
		case strings.IndexByte("[]=,;", c) >= 0:
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(line) && (line[j] == '_' || line[j] >= '0' && line[j] <= '9' || line[j]|0x20 >= 'a' && line[j]|0x20 <= 'z') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			toks = append(toks, line[i:j])
			i = j
		}
	}
	return toks, nil
}

// renderDOTStatement parses `ID [-> ID] [attrs];` or `graph [attrs];`.
func renderDOTStatement(toks []string) (key string, attrs map[string]string, err error) {
	isID := func(s string) bool { return s != "" && s[0] != '"' && strings.IndexAny(s, "[]=,;->") < 0 }
	if len(toks) < 2 || !isID(toks[0]) || toks[len(toks)-1] != ";" {
		return "", nil, errors.New("not a statement")
	}
	key, toks = toks[0], toks[1:len(toks)-1]
	if len(toks) >= 2 && toks[0] == "->" {
		if !isID(toks[1]) {
			return "", nil, errors.New("edge to nothing")
		}
		key, toks = key+" -> "+toks[1], toks[2:]
	}
	attrs = map[string]string{}
	if len(toks) == 0 {
		return key, attrs, nil
	}
	if toks[0] != "[" || toks[len(toks)-1] != "]" {
		return "", nil, errors.New("no attribute list")
	}
	toks = toks[1 : len(toks)-1]
	for len(toks) > 0 {
		if len(toks) < 3 || !isID(toks[0]) || toks[1] != "=" {
			return "", nil, errors.New("bad attribute")
		}
		attrs[toks[0]] = toks[2]
		toks = toks[3:]
		if len(toks) > 0 {
			if toks[0] != "," {
				return "", nil, errors.New("attributes not separated by commas")
			}
			toks = toks[1:]
		}
	}
	return key, attrs, nil
}

// renderEscString reads a quoted label as Graphviz shows it: \\ is a
// backslash and \n a line break; any other escape would be expanded by
// Graphviz, so it is an error here.
func renderEscString(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' {
		return "", fmt.Errorf("label %s is not quoted", q)
	}
	var b strings.Builder
	s := q[1 : len(q)-1]
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("label %s ends in a lone backslash", q)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		default:
			return "", fmt.Errorf("label %s has escape \\%c", q, s[i])
		}
	}
	return b.String(), nil
}

// TestRenderEdgeTimes checks the edge label times: UTC, the date only when
// it changes, what does not parse shown as it is.
func TestRenderEdgeTimes(t *testing.T) {
	g := Graph{Nodes: []Node{{ID: "seed", Kind: "seed"}}}
	times := []struct{ in, want string }{
		{"2026-03-14T23:59:58Z", "2026-03-14 23:59:58 UTC"},
		{"2026-03-14T23:59:59.250Z", "23:59:59 UTC"},
		{"", ""},
		{"2026-03-15T01:00:00+02:00", "23:00:00 UTC"},
		{"not a time", "not a time"},
		{"2026-03-15T00:00:00Z", "2026-03-15 00:00:00 UTC"},
		{"2026-03-15T00:00:01Z", "00:00:01 UTC"},
	}
	for _, tm := range times {
		g.Edges = append(g.Edges, Edge{From: "seed", To: "seed", How: "Call", Time: tm.in})
	}
	var b bytes.Buffer
	if err := g.WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(b.String(), "\n") {
		if _, label, ok := strings.Cut(line, `[label="Call`); ok {
			got = append(got, strings.TrimPrefix(strings.TrimSuffix(label, `"];`), `\n`))
		}
	}
	var want []string
	for _, tm := range times {
		want = append(want, tm.want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("edge times\n got %q\nwant %q", got, want)
	}
}

// TestRenderNilGraph checks that a nil graph draws as an empty one.
func TestRenderNilGraph(t *testing.T) {
	var g *Graph
	for name, write := range map[string]func(*Graph, io.Writer) error{"dot": (*Graph).WriteDOT, "svg": (*Graph).WriteSVG} {
		var got, want bytes.Buffer
		if err := write(g, &got); err != nil {
			t.Fatal(err)
		}
		if err := write(&Graph{}, &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s of a nil graph:\n%s\nwant\n%s", name, &got, &want)
		}
	}
}

// TestRenderWriteError checks that a failed write is reported.
func TestRenderWriteError(t *testing.T) {
	g := renderCaseNamed("chain")
	for name, write := range map[string]func(io.Writer) error{"dot": g.WriteDOT, "svg": g.WriteSVG} {
		if err := write(renderFailingWriter{}); !errors.Is(err, errRenderDiskFull) {
			t.Errorf("%s: err = %v, want %v", name, err, errRenderDiskFull)
		}
	}
}

var errRenderDiskFull = errors.New("disk full")

type renderFailingWriter struct{}

func (renderFailingWriter) Write([]byte) (int, error) { return 0, errRenderDiskFull }

// FuzzRender checks that no label, id or call name breaks either drawing.
func FuzzRender(f *testing.F) {
	f.Add("seed", `a"b\`, "<x>&\n\x00\xff", "2026-03-14T10:00:00Z")
	f.Add("", "\u202e", "]]>", "")
	f.Fuzz(func(t *testing.T, id, label, how, when string) {
		g := Graph{
			Nodes: []Node{{ID: "seed", Kind: "seed", Label: label}, {ID: id, Kind: how, Label: label + how}},
			Edges: []Edge{{From: "seed", To: id, How: how, Time: when}, {From: id, To: label, How: label}},
		}
		var svg, dot bytes.Buffer
		if err := g.WriteSVG(&svg); err != nil {
			t.Fatal(err)
		}
		renderParseSVG(t, svg.Bytes())
		if err := g.WriteDOT(&dot); err != nil {
			t.Fatal(err)
		}
		renderParseDOT(t, dot.String())
	})
}
