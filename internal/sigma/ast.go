package sigma

import (
	"net/netip"
	"time"
)

// Meta is what every Sigma document carries about itself.
type Meta struct {
	Title          string
	ID             string
	Name           string // the handle correlations and filters use
	Status         string
	Description    string
	Author         string
	Date           string
	Modified       string
	References     []string
	Tags           []string
	FalsePositives []string
	Level          string
	Logsource      Logsource
	File           string // where it was read from
	Line           int    // the document's first line
}

// Logsource says which logs a rule is written for.
type Logsource struct {
	Product  string
	Service  string
	Category string
}

// Rule is a detection rule.
type Rule struct {
	Meta
	Detection Detection
}

// Detection holds a rule's named searches and the condition over them,
// already resolved into one expression.
type Detection struct {
	Searches  map[string]Expr
	Condition Expr
	Text      string // the condition as written
}

// Filter is a Sigma filter: its condition is ANDed onto the condition of each
// rule it names (by id or name; "any" for every rule of its log source), the
// way pySigma applies filters. Write `condition: not selection` to suppress.
type Filter struct {
	Meta
	Rules     []string
	AnyRule   bool
	Detection Detection
}

// CorrelationType is a correlation rule's kind.
type CorrelationType string

// The correlation types.
const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
	ValueSum        CorrelationType = "value_sum"
	ValueAvg        CorrelationType = "value_avg"
	ValueMin        CorrelationType = "value_min"
	ValueMax        CorrelationType = "value_max"
	ValueMedian     CorrelationType = "value_median"
)

// Correlation is a correlation rule over other rules' matches.
type Correlation struct {
	Meta
	Type     CorrelationType
	Rules    []string // ids or names, in the rule's order
	GroupBy  []string
	Timespan time.Duration
	// Aliases maps an alias used in GroupBy to the field it stands for in
	// the events of each referenced rule (by the rule's name).
	Aliases   map[string]map[string]string
	Field     string // value_* correlations: the field aggregated
	Condition []Bound
	Generate  bool
}

// Bound is one comparison of a correlation's condition; all must hold.
type Bound struct {
	Op    string // gt, gte, lt, lte, eq, neq
	Value float64
}

// Holds reports whether v satisfies every bound.
func Holds(bounds []Bound, v float64) bool {
	for _, b := range bounds {
		if !b.Holds(v) {
			return false
		}
	}
	return true
}

// Holds reports whether v satisfies b.
func (b Bound) Holds(v float64) bool {
	switch b.Op {
	case "gt":
		return v > b.Value
	case "gte":
		return v >= b.Value
	case "lt":
		return v < b.Value
	case "lte":
		return v <= b.Value
	case "eq":
		return v == b.Value
	case "neq":
		return v != b.Value
	}
	return false
}

// Expr is a boolean expression over an event.
type Expr interface{ expr() }

// And is true when every operand is (true when empty).
type And struct{ Xs []Expr }

// Or is true when any operand is (false when empty).
type Or struct{ Xs []Expr }

// Not negates.
type Not struct{ X Expr }

// Match is a leaf predicate on one field of an event.
type Match struct {
	// Field is the CloudTrail field, dotted for nesting; empty for a
	// keyword search over the whole record.
	Field string
	Op    Op
	Glob  Glob   // OpGlob
	Cased bool   // OpGlob, OpFieldRef: match case-sensitively
	Regex string // OpRegex: RE2 syntax, flags folded in as (?ims)
	// Prefix is OpCIDR's network.
	Prefix netip.Prefix
	Cmp    string  // OpNumber, OpTime: gt, gte, lt, lte, eq
	Num    float64 // OpNumber, OpTime
	Part   string  // OpTime: minute, hour, day, week, month, year
	Exists bool    // OpExists: true = must exist, false = must not
	Ref    string  // OpFieldRef: the other field
	RefPos string  // OpFieldRef: equals, contains, startswith, endswith
	Line   int
}

// Op is what a Match tests.
type Op int

// The predicates.
const (
	OpGlob     Op = iota // the value matches a wildcard pattern
	OpRegex              // the value matches a regular expression
	OpCIDR               // the value is an IP address inside a network
	OpNumber             // the value is a number comparing so
	OpExists             // the field is present (or not)
	OpNull               // the field is absent or null
	OpFieldRef           // the value equals (contains, ...) another field's
	OpTime               // a part of the value read as a time compares so
)

func (And) expr()    {}
func (Or) expr()     {}
func (Not) expr()    {}
func (*Match) expr() {}

// Glob is a wildcard pattern: literal runs, `*` (any run) and `?` (any one
// character).
type Glob []GlobPart

// GlobPart is one piece of a Glob.
type GlobPart struct {
	Kind GlobKind
	Lit  string // GlobLit
}

// GlobKind is a glob piece's kind.
type GlobKind int

// The glob pieces.
const (
	GlobLit GlobKind = iota
	GlobStar
	GlobOne
)

// Literal reports whether g has no wildcards, and its text.
func (g Glob) Literal() (string, bool) {
	s := ""
	for _, p := range g {
		if p.Kind != GlobLit {
			return "", false
		}
		s += p.Lit
	}
	return s, true
}
