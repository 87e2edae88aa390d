package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Collection is what one or more rule files hold.
type Collection struct {
	Rules        []*Rule
	Correlations []*Correlation
	Filters      []*Filter
}

// Add appends another collection's documents.
func (c *Collection) Add(o *Collection) {
	c.Rules = append(c.Rules, o.Rules...)
	c.Correlations = append(c.Correlations, o.Correlations...)
	c.Filters = append(c.Filters, o.Filters...)
}

// Options tune parsing.
type Options struct {
	// Placeholders are the values of `|expand` placeholders, by name
	// without the % signs. A rule using a placeholder not listed here
	// fails to load.
	Placeholders map[string][]string
}

// Parse reads every YAML document of one rule file.
func Parse(file string, data []byte, opts Options) (*Collection, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	out := &Collection{}
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{File: file, Line: yamlErrLine(err), Msg: "YAML: " + cleanYAMLErr(err)}
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document
		}
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: file, Line: root.Line, Col: root.Column, Msg: "a Sigma document must be a mapping"}
		}
		p := &parser{file: file, opts: opts}
		switch {
		case p.has(root, "correlation"):
			c, err := p.correlation(root)
			if err != nil {
				return nil, err
			}
			out.Correlations = append(out.Correlations, c)
		case p.has(root, "filter"):
			f, err := p.filter(root)
			if err != nil {
				return nil, err
			}
			out.Filters = append(out.Filters, f)
		case p.has(root, "action"):
			a := p.get(root, "action")
			return nil, p.unsupported(a, "Sigma v1 rule collections (action: %s) are not Sigma v2; write each rule as its own document", a.Value)
		case p.has(root, "detection"):
			r, err := p.rule(root)
			if err != nil {
				return nil, err
			}
			out.Rules = append(out.Rules, r)
		default:
			return nil, &Error{File: file, Line: root.Line, Col: root.Column, Msg: "not a Sigma rule: no detection, correlation or filter section"}
		}
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func cleanYAMLErr(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

type parser struct {
	file string
	opts Options
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

func (p *parser) unsupported(n *yaml.Node, format string, args ...any) error {
	return unsupportedError{p.errf(n, format, args...).(*Error)}
}

// pairs returns a mapping's key and value nodes; duplicate keys are an error
// (YAML forbids them and a rule that repeats one is ambiguous).
func (p *parser) pairs(m *yaml.Node) ([][2]*yaml.Node, error) {
	if m.Kind != yaml.MappingNode {
		return nil, p.errf(m, "expected a mapping")
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k, "a key must be a plain string")
		}
		if seen[k.Value] {
			return nil, p.errf(k, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, resolve(v)})
	}
	return out, nil
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (p *parser) get(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

func (p *parser) has(m *yaml.Node, key string) bool { return p.get(m, key) != nil }

func (p *parser) str(n *yaml.Node, what string) (string, error) {
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s must be a string", what)
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func (p *parser) strs(n *yaml.Node, what string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil, nil
		}
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "%s must be a list of strings", what)
	}
	var out []string
	for _, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode {
			return nil, p.errf(c, "%s must be a list of strings", what)
		}
		out = append(out, c.Value)
	}
	return out, nil
}

// meta reads the attributes every document shares.
func (p *parser) meta(root *yaml.Node) (Meta, error) {
	m := Meta{File: p.file, Line: root.Line}
	pairs, err := p.pairs(root)
	if err != nil {
		return m, err
	}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		var err error
		switch k.Value {
		case "title":
			m.Title, err = p.str(v, "title")
		case "id":
			m.ID, err = p.str(v, "id")
		case "name":
			m.Name, err = p.str(v, "name")
		case "status":
			m.Status, err = p.str(v, "status")
		case "description":
			m.Description, err = p.str(v, "description")
		case "author":
			m.Author, err = p.str(v, "author")
		case "date":
			m.Date, err = p.str(v, "date")
		case "modified":
			m.Modified, err = p.str(v, "modified")
		case "references":
			m.References, err = p.strs(v, "references")
		case "tags":
			m.Tags, err = p.strs(v, "tags")
		case "falsepositives":
			m.FalsePositives, err = p.strs(v, "falsepositives")
		case "level":
			m.Level, err = p.str(v, "level")
			if err == nil && m.Level != "" {
				switch m.Level {
				case "informational", "low", "medium", "high", "critical":
				default:
					err = p.errf(v, "level %q is not one of informational, low, medium, high, critical", m.Level)
				}
			}
		case "logsource":
			m.Logsource, err = p.logsource(v)
		}
		if err != nil {
			return m, err
		}
	}
	if m.Title == "" {
		return m, p.errf(root, "the rule has no title")
	}
	return m, nil
}

func (p *parser) logsource(n *yaml.Node) (Logsource, error) {
	var ls Logsource
	pairs, err := p.pairs(n)
	if err != nil {
		return ls, err
	}
	for _, kv := range pairs {
		var err error
		switch kv[0].Value {
		case "product":
			ls.Product, err = p.str(kv[1], "logsource.product")
		case "service":
			ls.Service, err = p.str(kv[1], "logsource.service")
		case "category":
			ls.Category, err = p.str(kv[1], "logsource.category")
		}
		if err != nil {
			return ls, err
		}
	}
	return ls, nil
}

func (p *parser) rule(root *yaml.Node) (*Rule, error) {
	m, err := p.meta(root)
	if err != nil {
		return nil, err
	}
	det, err := p.detection(p.get(root, "detection"))
	if err != nil {
		return nil, err
	}
	return &Rule{Meta: m, Detection: det}, nil
}

func (p *parser) filter(root *yaml.Node) (*Filter, error) {
	m, err := p.meta(root)
	if err != nil {
		return nil, err
	}
	fn := p.get(root, "filter")
	if fn.Kind != yaml.MappingNode {
		return nil, p.errf(fn, "filter must be a mapping with rules, the searches and a condition")
	}
	f := &Filter{Meta: m}
	rules := p.get(fn, "rules")
	if rules == nil {
		return nil, p.errf(fn, "filter has no rules: name the rules (ids or names) it applies to, or `any`")
	}
	if f.Rules, err = p.strs(rules, "filter.rules"); err != nil {
		return nil, err
	}
	if len(f.Rules) == 1 && strings.EqualFold(f.Rules[0], "any") { // `rules: any` or `rules: [any]`
		f.AnyRule, f.Rules = true, nil
	}
	// The filter section is a detection whose extra key is `rules`.
	det := &yaml.Node{Kind: yaml.MappingNode, Line: fn.Line, Column: fn.Column}
	for i := 0; i+1 < len(fn.Content); i += 2 {
		if fn.Content[i].Value != "rules" {
			det.Content = append(det.Content, fn.Content[i], fn.Content[i+1])
		}
	}
	if f.Detection, err = p.detection(det); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *parser) detection(n *yaml.Node) (Detection, error) {
	var d Detection
	if n == nil || n.Kind != yaml.MappingNode {
		return d, p.errf(n, "detection must be a mapping of searches and a condition")
	}
	pairs, err := p.pairs(n)
	if err != nil {
		return d, err
	}
	d.Searches = map[string]Expr{}
	var cond *yaml.Node
	var order []string
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "condition":
			cond = v
			continue
		case "timeframe":
			return d, p.unsupported(k, "detection.timeframe belongs to Sigma v1 aggregations; use a correlation rule's timespan")
		case "fields":
			continue
		}
		e, err := p.search(v)
		if err != nil {
			return d, err
		}
		d.Searches[k.Value] = e
		order = append(order, k.Value)
	}
	if cond == nil {
		return d, p.errf(n, "detection has no condition")
	}
	var texts []string
	var condNodes []*yaml.Node
	switch cond.Kind {
	case yaml.ScalarNode:
		texts, condNodes = []string{cond.Value}, []*yaml.Node{cond}
	case yaml.SequenceNode:
		for _, c := range cond.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode {
				return d, p.errf(c, "condition must be a string (or a list of strings)")
			}
			texts = append(texts, c.Value)
			condNodes = append(condNodes, c)
		}
	default:
		return d, p.errf(cond, "condition must be a string")
	}
	var alts []Expr
	for i, t := range texts {
		e, err := parseCondition(t, d.Searches, order)
		if err != nil {
			var ce *condError
			if errors.As(err, &ce) {
				e := p.errf(condNodes[i], "condition %q: %s", t, ce.msg)
				if ce.unsupported {
					return d, unsupportedError{e.(*Error)}
				}
				return d, e
			}
			return d, err
		}
		alts = append(alts, e)
	}
	d.Text = strings.Join(texts, " | ")
	if len(alts) == 1 {
		d.Condition = alts[0]
	} else {
		d.Condition = Or{Xs: alts}
	}
	return d, nil
}

var timespanRe = regexp.MustCompile(`^([0-9]+)([smhdw])$`)

// ParseTimespan reads a correlation timespan: a number and s, m, h, d or w.
func ParseTimespan(s string) (time.Duration, error) {
	m := timespanRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("timespan %q is not a number followed by s, m, h, d or w", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, fmt.Errorf("timespan %q is out of range", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func (p *parser) correlation(root *yaml.Node) (*Correlation, error) {
	m, err := p.meta(root)
	if err != nil {
		return nil, err
	}
	c := &Correlation{Meta: m}
	if g := p.get(root, "generate"); g != nil {
		if err := g.Decode(&c.Generate); err != nil {
			return nil, p.errf(g, "generate must be true or false")
		}
	}
	cn := p.get(root, "correlation")
	pairs, err := p.pairs(cn)
	if err != nil {
		return nil, err
	}
	var condNode, spanNode *yaml.Node
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "type":
			t, err := p.str(v, "correlation.type")
			if err != nil {
				return nil, err
			}
			switch CorrelationType(t) {
			case EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueAvg, ValueMin, ValueMax, ValueMedian:
				c.Type = CorrelationType(t)
			case "value_percentile":
				return nil, p.unsupported(v, "correlation type value_percentile is not supported")
			default:
				return nil, p.errf(v, "unknown correlation type %q", t)
			}
		case "rules":
			if c.Rules, err = p.strs(v, "correlation.rules"); err != nil {
				return nil, err
			}
		case "group-by":
			if c.GroupBy, err = p.strs(v, "correlation.group-by"); err != nil {
				return nil, err
			}
		case "timespan", "timeframe":
			spanNode = v
		case "condition":
			condNode = v
		case "generate":
			if err := v.Decode(&c.Generate); err != nil {
				return nil, p.errf(v, "generate must be true or false")
			}
		case "aliases":
			if c.Aliases, err = p.aliases(v); err != nil {
				return nil, err
			}
		default:
			return nil, p.errf(k, "unknown correlation attribute %q", k.Value)
		}
	}
	if c.Type == "" {
		return nil, p.errf(cn, "correlation has no type")
	}
	if len(c.Rules) == 0 {
		return nil, p.errf(cn, "correlation names no rules")
	}
	if spanNode == nil {
		return nil, p.errf(cn, "correlation has no timespan")
	}
	if c.Timespan, err = ParseTimespan(spanNode.Value); err != nil {
		return nil, p.errf(spanNode, "%v", err)
	}
	if condNode != nil {
		if err := p.correlationCondition(c, condNode); err != nil {
			return nil, err
		}
	}
	switch c.Type {
	case Temporal, TemporalOrdered:
		if len(c.Condition) == 0 { // all the rules, by default
			c.Condition = []Bound{{Op: "gte", Value: float64(len(c.Rules))}}
		}
		if c.Type == TemporalOrdered && (len(c.Condition) != 1 || c.Condition[0].Op != "gte" || int(c.Condition[0].Value) != len(c.Rules)) {
			return nil, unsupportedError{p.errf(condNode, "a temporal_ordered correlation needs all its rules in order; a condition on how many is not supported").(*Error)}
		}
		if c.Field != "" {
			return nil, p.errf(condNode, "a %s correlation takes no field", c.Type)
		}
	default:
		if len(c.Condition) == 0 {
			return nil, p.errf(cn, "a %s correlation needs a condition", c.Type)
		}
		needField := c.Type != EventCount
		if needField && c.Field == "" {
			return nil, p.errf(condNode, "a %s correlation needs condition.field", c.Type)
		}
		if !needField && c.Field != "" {
			return nil, p.errf(condNode, "an event_count correlation takes no field")
		}
	}
	return c, nil
}

func (p *parser) correlationCondition(c *Correlation, n *yaml.Node) error {
	pairs, err := p.pairs(n)
	if err != nil {
		return p.errf(n, "correlation condition must be a mapping such as {gte: 10}")
	}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "field":
			if c.Field, err = p.str(v, "condition.field"); err != nil {
				return err
			}
		case "gt", "gte", "lt", "lte", "eq", "neq":
			f, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || v.Kind != yaml.ScalarNode || math.IsInf(f, 0) || math.IsNaN(f) {
				return p.errf(v, "condition %s must be a number", k.Value)
			}
			c.Condition = append(c.Condition, Bound{Op: k.Value, Value: f})
		default:
			return p.errf(k, "unknown correlation condition %q (gt, gte, lt, lte, eq, neq, field)", k.Value)
		}
	}
	return nil
}

func (p *parser) aliases(n *yaml.Node) (map[string]map[string]string, error) {
	pairs, err := p.pairs(n)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, kv := range pairs {
		inner, err := p.pairs(kv[1])
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, rv := range inner {
			if m[rv[0].Value], err = p.str(rv[1], "alias field"); err != nil {
				return nil, err
			}
		}
		out[kv[0].Value] = m
	}
	return out, nil
}

// ParsePlaceholders reads a placeholders file: a YAML mapping of placeholder
// names (without the % signs) to lists of values.
func ParsePlaceholders(file string, data []byte) (map[string][]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: file, Line: yamlErrLine(err), Msg: "YAML: " + cleanYAMLErr(err)}
	}
	out := map[string][]string{}
	if len(doc.Content) == 0 {
		return out, nil
	}
	p := &parser{file: file}
	pairs, err := p.pairs(doc.Content[0])
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		vals, err := p.strs(kv[1], "placeholder "+kv[0].Value)
		if err != nil {
			return nil, err
		}
		out[kv[0].Value] = vals
	}
	return out, nil
}
