package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// search turns one named search of a detection into an expression: a mapping
// is an AND of field conditions, a list of mappings an OR of them, and a list
// of plain values a keyword search.
func (p *parser) search(n *yaml.Node) (Expr, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return p.fieldMap(n)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, p.errf(n, "a search may not be an empty list")
		}
		maps, scalars := 0, 0
		for _, c := range n.Content {
			switch resolve(c).Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			default:
				return nil, p.errf(c, "a search list holds mappings or keywords, not nested lists")
			}
		}
		if maps > 0 && scalars > 0 {
			return nil, p.errf(n, "a search list mixes mappings and keywords")
		}
		if scalars > 0 {
			return p.fieldValues("", nil, n, n)
		}
		var alts []Expr
		for _, c := range n.Content {
			e, err := p.fieldMap(resolve(c))
			if err != nil {
				return nil, err
			}
			alts = append(alts, e)
		}
		return Or{Xs: alts}, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, p.errf(n, "a search may not be empty")
		}
		return p.fieldValues("", nil, n, n)
	}
	return nil, p.errf(n, "a search must be a mapping, a list of mappings or a list of keywords")
}

func (p *parser) fieldMap(n *yaml.Node) (Expr, error) {
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, p.errf(n, "a search may not be an empty mapping")
	}
	var all []Expr
	for _, kv := range pairs {
		parts := strings.Split(kv[0].Value, "|")
		e, err := p.fieldValues(parts[0], parts[1:], kv[0], kv[1])
		if err != nil {
			return nil, err
		}
		all = append(all, e)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return And{Xs: all}, nil
}

type value struct {
	null bool
	text string // the scalar as written (numbers keep their spelling)
	kind string // "str", "int", "float", "bool", "null"
	node *yaml.Node
}

// mods is the parsed modifier chain of one field.
type mods struct {
	transforms []string // value encodings, in order
	pos        string   // contains, startswith, endswith
	re         bool
	reFlags    string
	cidr       bool
	cmp        string // gt, gte, lt, lte
	exists     bool
	fieldref   bool
	expand     bool
	cased      bool
	all        bool
	neq        bool
	timePart   string
}

func (p *parser) parseMods(key *yaml.Node, names []string) (mods, error) {
	var m mods
	for i, name := range names {
		switch name {
		case "contains", "startswith", "endswith":
			if m.pos != "" {
				return m, p.errf(key, "modifiers %s and %s conflict", m.pos, name)
			}
			m.pos = name
		case "base64", "base64offset", "wide", "utf16le", "utf16be", "utf16", "windash":
			m.transforms = append(m.transforms, name)
		case "re":
			m.re = true
		case "i", "m", "s":
			if !m.re || (i > 0 && !isReFlagOrRe(names[i-1])) {
				return m, p.errf(key, "modifier %s must follow re", name)
			}
			m.reFlags += name
		case "cidr":
			m.cidr = true
		case "gt", "gte", "lt", "lte":
			if m.cmp != "" {
				return m, p.errf(key, "modifiers %s and %s conflict", m.cmp, name)
			}
			m.cmp = name
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "expand":
			m.expand = true
		case "cased":
			m.cased = true
		case "all":
			m.all = true
		case "neq":
			m.neq = true
		case "minute", "hour", "day", "week", "month", "year":
			m.timePart = name
		case "":
			return m, p.errf(key, "empty modifier in %q", key.Value)
		default:
			return m, p.errf(key, "unknown modifier %q", name)
		}
	}
	kinds := 0
	for _, b := range []bool{m.re, m.cidr, m.cmp != "" && m.timePart == "", m.exists, m.fieldref, m.timePart != ""} {
		if b {
			kinds++
		}
	}
	if kinds > 1 {
		return m, p.errf(key, "modifiers %s cannot be combined", strings.Join(names, "|"))
	}
	if (m.re || m.cidr || m.cmp != "" || m.exists || m.timePart != "") && (m.pos != "" || len(m.transforms) > 0) {
		return m, p.errf(key, "modifiers %s cannot be combined", strings.Join(names, "|"))
	}
	return m, nil
}

func isReFlagOrRe(s string) bool { return s == "re" || s == "i" || s == "m" || s == "s" }

// fieldValues builds the expression for one field (or keywords when field is
// empty) with its modifiers and one value or a list of them.
func (p *parser) fieldValues(field string, modNames []string, key, vn *yaml.Node) (Expr, error) {
	m, err := p.parseMods(key, modNames)
	if err != nil {
		return nil, err
	}
	var vals []value
	switch vn.Kind {
	case yaml.ScalarNode:
		vals = []value{scalar(vn)}
	case yaml.SequenceNode:
		if len(vn.Content) == 0 {
			return nil, p.errf(vn, "field %q has an empty list of values", field)
		}
		for _, c := range vn.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode {
				return nil, p.errf(c, "field %q: values must be plain strings, numbers, booleans or null", field)
			}
			vals = append(vals, scalar(c))
		}
	default:
		return nil, p.errf(vn, "field %q: a value must be a scalar or a list of scalars (nested mappings are written as dotted field names)", field)
	}
	if m.all && len(vals) < 2 {
		return nil, p.errf(key, "the all modifier needs a list of at least two values")
	}
	line := key.Line

	if m.exists {
		if field == "" {
			return nil, p.errf(key, "exists needs a field")
		}
		if len(vals) != 1 || vals[0].kind != "bool" {
			return nil, p.errf(vn, "exists takes true or false")
		}
		return &Match{Field: field, Op: OpExists, Exists: vals[0].text == "true", Line: line}, nil
	}

	if m.expand {
		var out []value
		for _, v := range vals {
			ex, err := p.expand(v)
			if err != nil {
				return nil, err
			}
			out = append(out, ex...)
		}
		vals = out
	}

	var terms []Expr
	for _, v := range vals {
		e, err := p.oneValue(field, m, v, line)
		if err != nil {
			return nil, err
		}
		terms = append(terms, e)
	}
	var combined Expr
	switch {
	case len(terms) == 1:
		combined = terms[0]
	case m.all:
		combined = And{Xs: terms}
	default:
		combined = Or{Xs: terms}
	}
	if m.neq {
		if field == "" {
			return nil, p.errf(key, "neq needs a field")
		}
		// present, and equal to none of the values
		return And{Xs: []Expr{Not{X: &Match{Field: field, Op: OpNull, Line: line}}, Not{X: combined}}}, nil
	}
	return combined, nil
}

func scalar(n *yaml.Node) value {
	v := value{text: n.Value, node: n, kind: "str"}
	switch n.Tag {
	case "!!null":
		v.null, v.kind, v.text = true, "null", ""
	case "!!int":
		v.kind = "int"
	case "!!float":
		v.kind = "float"
	case "!!bool":
		v.kind = "bool"
		v.text = strings.ToLower(n.Value)
	}
	return v
}

var namedGroup = regexp.MustCompile(`\(\?<`)

var placeholderRe = regexp.MustCompile(`^%([A-Za-z0-9_.-]+)%$`)

func (p *parser) expand(v value) ([]value, error) {
	m := placeholderRe.FindStringSubmatch(v.text)
	if m == nil {
		if strings.Contains(v.text, "%") {
			return nil, p.errf(v.node, "expand: %q mixes a placeholder with other text, which is not supported", v.text)
		}
		return []value{v}, nil
	}
	list, ok := p.opts.Placeholders[m[1]]
	if !ok {
		return nil, p.errf(v.node, "placeholder %%%s%% has no values: give them in a placeholders file", m[1])
	}
	if len(list) == 0 {
		return nil, p.errf(v.node, "placeholder %%%s%% has an empty list of values", m[1])
	}
	out := make([]value, len(list))
	for i, s := range list {
		out[i] = value{text: s, kind: "str", node: v.node}
	}
	return out, nil
}

func (p *parser) oneValue(field string, m mods, v value, line int) (Expr, error) {
	if v.null {
		if m.pos != "" || m.re || m.cidr || m.cmp != "" || m.fieldref || len(m.transforms) > 0 || m.timePart != "" {
			return nil, p.errf(v.node, "null cannot take modifiers")
		}
		if field == "" {
			return nil, p.errf(v.node, "a keyword cannot be null")
		}
		return &Match{Field: field, Op: OpNull, Line: line}, nil
	}
	switch {
	case m.re:
		flags := ""
		for _, f := range "ims" {
			if strings.ContainsRune(m.reFlags, f) {
				flags += string(f)
			}
		}
		// Go also reads (?<name>…); RE2 in DuckDB only (?P<name>…)
		pat := namedGroup.ReplaceAllString(v.text, "(?P<")
		if flags != "" {
			pat = "(?" + flags + ")" + pat
		}
		if _, err := regexp.Compile(pat); err != nil {
			return nil, unsupportedError{p.errf(v.node, "regular expression %q: %v (RE2 syntax: no look-around or back-references)", v.text, err).(*Error)}
		}
		return &Match{Field: field, Op: OpRegex, Regex: pat, Line: line}, nil
	case m.cidr:
		pfx, err := netip.ParsePrefix(v.text)
		if err != nil {
			return nil, p.errf(v.node, "cidr: %q is not a network in CIDR notation", v.text)
		}
		return &Match{Field: field, Op: OpCIDR, Prefix: pfx.Masked(), Line: line}, nil
	case m.timePart != "":
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil || (v.kind != "int" && v.kind != "float") || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, p.errf(v.node, "%s: %q is not a number", m.timePart, v.text)
		}
		cmp := m.cmp
		if cmp == "" {
			cmp = "eq"
		}
		return &Match{Field: field, Op: OpTime, Part: m.timePart, Cmp: cmp, Num: n, Line: line}, nil
	case m.cmp != "":
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil || (v.kind != "int" && v.kind != "float") || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, p.errf(v.node, "%s: %q is not a number", m.cmp, v.text)
		}
		return &Match{Field: field, Op: OpNumber, Cmp: m.cmp, Num: n, Line: line}, nil
	case m.fieldref:
		if field == "" {
			return nil, p.errf(v.node, "fieldref needs a field")
		}
		if v.kind != "str" || v.text == "" {
			return nil, p.errf(v.node, "fieldref takes a field name")
		}
		pos := m.pos
		if pos == "" {
			pos = "equals"
		}
		return &Match{Field: field, Op: OpFieldRef, Ref: v.text, RefPos: pos, Cased: m.cased, Line: line}, nil
	}
	// A string match: encode, then wildcards and position.
	if len(m.transforms) > 0 {
		if v.kind == "str" && strings.ContainsAny(unescapeProbe(v.text), "*?") {
			return nil, p.errf(v.node, "%q: wildcards cannot be encoded with %s", v.text, strings.Join(m.transforms, "|"))
		}
		raw := literalText(v.text)
		alts := []string{raw}
		for _, t := range m.transforms {
			alts = applyTransform(t, alts)
		}
		var xs []Expr
		for _, a := range alts {
			if !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
				return nil, unsupportedError{p.errf(v.node, "%q encoded with %s is binary, and CloudTrail's fields are text", v.text, strings.Join(m.transforms, "|")).(*Error)}
			}
			xs = append(xs, &Match{Field: field, Op: OpGlob, Glob: position(Glob{{Kind: GlobLit, Lit: a}}, m.pos), Cased: m.cased, Line: line})
		}
		if len(xs) == 1 {
			return xs[0], nil
		}
		return Or{Xs: xs}, nil
	}
	g := parseGlob(v.text)
	if field == "" && m.pos == "" {
		m.pos = "contains" // keywords are found anywhere in the record
	}
	return &Match{Field: field, Op: OpGlob, Glob: position(g, m.pos), Cased: m.cased, Line: line}, nil
}

// unescapeProbe removes escaped wildcards so that only live ones remain.
func unescapeProbe(s string) string {
	s = strings.ReplaceAll(s, `\\`, "")
	s = strings.ReplaceAll(s, `\*`, "")
	return strings.ReplaceAll(s, `\?`, "")
}

// literalText is a value's text with Sigma's escapes removed.
func literalText(s string) string {
	lit, _ := parseGlob(s).Literal()
	return lit
}

// parseGlob reads Sigma's wildcard syntax: * and ? are wildcards; \*, \? and
// \\ are the literal characters; any other backslash is itself.
func parseGlob(s string) Glob {
	var g Glob
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			g = append(g, GlobPart{Kind: GlobLit, Lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*':
			flush()
			if len(g) == 0 || g[len(g)-1].Kind != GlobStar {
				g = append(g, GlobPart{Kind: GlobStar})
			}
		case c == '?':
			flush()
			g = append(g, GlobPart{Kind: GlobOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return g
}

func position(g Glob, pos string) Glob {
	star := GlobPart{Kind: GlobStar}
	out := append(Glob(nil), g...)
	if (pos == "contains" || pos == "endswith") && (len(out) == 0 || out[0].Kind != GlobStar) {
		out = append(Glob{star}, out...)
	}
	if (pos == "contains" || pos == "startswith") && (len(out) == 0 || out[len(out)-1].Kind != GlobStar) {
		out = append(out, star)
	}
	return out
}

func applyTransform(t string, in []string) []string {
	var out []string
	for _, s := range in {
		switch t {
		case "base64":
			out = append(out, base64.StdEncoding.EncodeToString([]byte(s)))
		case "base64offset":
			out = append(out, base64Offsets(s)...)
		case "wide", "utf16le":
			out = append(out, utf16Bytes(s, false, false))
		case "utf16be":
			out = append(out, utf16Bytes(s, true, false))
		case "utf16":
			out = append(out, utf16Bytes(s, false, true))
		case "windash":
			out = append(out, windash(s)...)
		}
	}
	return out
}

// base64Offsets gives the three encodings of s as it would appear inside a
// longer base64 text, shifted by 0, 1 and 2 bytes, trimmed to the characters
// that do not depend on the neighbouring bytes (the Sigma definition).
func base64Offsets(s string) []string {
	startAt := [3]int{0, 2, 3}
	cutTail := [3]int{0, 3, 2}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
		end := len(enc) - cutTail[(len(s)+i)%3]
		if end < startAt[i] {
			end = startAt[i]
		}
		out = append(out, enc[startAt[i]:end])
	}
	return out
}

func utf16Bytes(s string, bigEndian, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func windash(s string) []string {
	out := []string{""}
	for _, r := range s {
		c := string(r)
		isDash := false
		for _, d := range dashes {
			if c == d {
				isDash = true
			}
		}
		var next []string
		for _, prefix := range out {
			if isDash {
				for _, d := range dashes {
					next = append(next, prefix+d)
				}
			} else {
				next = append(next, prefix+c)
			}
		}
		if len(next) > 4096 {
			return []string{s} // too many dashes to enumerate; keep the value as written
		}
		out = next
	}
	return out
}

// String renders an expression compactly, for tests and `rules show`.
func String(e Expr) string {
	switch x := e.(type) {
	case And:
		return join("and", x.Xs)
	case Or:
		return join("or", x.Xs)
	case Not:
		return "not " + String(x.X)
	case *Match:
		return x.String()
	}
	return fmt.Sprintf("%T", e)
}

func join(op string, xs []Expr) string {
	if len(xs) == 0 {
		if op == "and" {
			return "true"
		}
		return "false"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = String(x)
	}
	return "(" + strings.Join(parts, " "+op+" ") + ")"
}

func (m *Match) String() string {
	f := m.Field
	if f == "" {
		f = "<keyword>"
	}
	switch m.Op {
	case OpGlob:
		c := ""
		if m.Cased {
			c = " cased"
		}
		return fmt.Sprintf("%s ~ %s%s", f, m.Glob, c)
	case OpRegex:
		return fmt.Sprintf("%s =~ /%s/", f, m.Regex)
	case OpCIDR:
		return fmt.Sprintf("%s in %s", f, m.Prefix)
	case OpNumber:
		return fmt.Sprintf("%s %s %g", f, m.Cmp, m.Num)
	case OpTime:
		return fmt.Sprintf("%s.%s %s %g", f, m.Part, m.Cmp, m.Num)
	case OpExists:
		return fmt.Sprintf("exists(%s)=%v", f, m.Exists)
	case OpNull:
		return fmt.Sprintf("%s is null", f)
	case OpFieldRef:
		return fmt.Sprintf("%s %s field(%s)", f, m.RefPos, m.Ref)
	}
	return "?"
}

func (g Glob) String() string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, p := range g {
		switch p.Kind {
		case GlobStar:
			b.WriteByte('*')
		case GlobOne:
			b.WriteByte('?')
		default:
			b.WriteString(strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(p.Lit))
		}
	}
	b.WriteByte('\'')
	return b.String()
}
