package detect

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/sigma"
)

// Event is one CloudTrail record prepared for the reference matcher: the
// columns the store would keep (through the same parser) and the record's
// JSON tree.
type Event struct {
	ev   cloudtrail.Event
	raw  string
	root *jv
}

// NewEvent prepares a record for Match.
func NewEvent(raw []byte) (*Event, error) {
	ev, err := cloudtrail.ParseEvent(raw)
	if err != nil {
		return nil, err
	}
	valid := cloudtrail.ValidUTF8(raw)
	root, err := decodeJV(valid)
	if err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &Event{ev: ev, raw: string(valid), root: root}, nil
}

// ID is the record's eventID.
func (e *Event) ID() string { return e.ev.EventID }

// Time is the record's eventTime.
func (e *Event) Time() time.Time { return e.ev.Time }

// Match evaluates an expression against one event in memory, straight from
// the Sigma specification's meaning. It is the reference the SQL compiler is
// tested against, not the way hunting runs.
func Match(x sigma.Expr, e *Event) bool {
	switch x := x.(type) {
	case sigma.And:
		for _, c := range x.Xs {
			if !Match(c, e) {
				return false
			}
		}
		return true
	case sigma.Or:
		for _, c := range x.Xs {
			if Match(c, e) {
				return true
			}
		}
		return false
	case sigma.Not:
		return !Match(x.X, e)
	case *sigma.Match:
		return matchLeaf(x, e)
	}
	panic(fmt.Sprintf("detect: unknown expression %T", x))
}

// values are the field's non-null values as text: for a column field its
// string (empty is absent); for a JSON field the value at the path (an
// object or array as compact JSON) and, when it is an object or array, every
// value nested in it at any depth (so a policy document held as a string
// inside requestParameters is searched as itself), and the values found
// through one array met on the way (the member itself included:
// resources.ARN reads the ARN of every element of resources).
func (e *Event) values(field string) []string {
	if field == "" {
		return []string{e.raw}
	}
	loc := locate(field)
	if loc.getter != nil {
		if s := loc.getter(e); s != "" {
			return []string{s}
		}
		return nil
	}
	start := e.root
	if loc.jsonCol != "raw" {
		start = e.root.member(memberName(loc.jsonCol))
		if start != nil && start.kind == 'z' {
			start = nil
		}
	}
	var out []string
	add := func(v *jv) {
		if s, ok := v.text(); ok {
			out = append(out, s)
		}
	}
	exact := walk(start, loc.path)
	add(exact)
	var descend func(v *jv)
	descend = func(v *jv) {
		for _, c := range v.vals {
			add(c)
			descend(c)
		}
	}
	if exact != nil {
		descend(exact)
	}
	for i := 0; i < len(loc.path); i++ {
		a := walk(start, loc.path[:i])
		if a == nil || a.kind != 'a' {
			continue
		}
		for _, el := range a.vals {
			if el.kind != 'o' {
				continue
			}
			add(walk(el, loc.path[i:]))
		}
	}
	return out
}

func memberName(col string) string {
	for k, v := range jsonMembers {
		if v == col {
			return k
		}
	}
	return ""
}

func walk(v *jv, path []string) *jv {
	for _, p := range path {
		v = v.member(p)
		if v == nil {
			return nil
		}
	}
	return v
}

func matchLeaf(m *sigma.Match, e *Event) bool {
	switch m.Op {
	case sigma.OpExists:
		return e.exists(m.Field) == m.Exists
	case sigma.OpNull:
		return len(e.values(m.Field)) == 0
	case sigma.OpTime:
		t, ok := e.timeField(m.Field)
		if !ok {
			return false
		}
		return compare(float64(timePart(t, m.Part)), m.Cmp, m.Num)
	case sigma.OpFieldRef:
		for _, a := range e.values(m.Field) {
			for _, b := range e.values(m.Ref) {
				if !m.Cased {
					a, b = strings.ToLower(a), strings.ToLower(b)
				}
				var ok bool
				switch m.RefPos {
				case "contains":
					ok = strings.Contains(a, b)
				case "startswith":
					ok = strings.HasPrefix(a, b)
				case "endswith":
					ok = strings.HasSuffix(a, b)
				default:
					ok = a == b
				}
				if ok {
					return true
				}
			}
		}
		return false
	}
	for _, v := range e.values(m.Field) {
		if leafValue(m, v) {
			return true
		}
	}
	return false
}

func leafValue(m *sigma.Match, v string) bool {
	switch m.Op {
	case sigma.OpGlob:
		if !m.Cased {
			v = strings.ToLower(v)
		}
		return globMatch(m.Glob, v, !m.Cased)
	case sigma.OpRegex:
		re := cachedRegexp(m.Regex)
		return re != nil && re.MatchString(v)
	case sigma.OpCIDR:
		// an address as CloudTrail writes it: dotted quad, or IPv6 in
		// hexadecimal (no zone, no embedded IPv4)
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" || (a.Is6() && strings.Contains(v, ".")) {
			return false
		}
		return m.Prefix.Contains(a)
	case sigma.OpNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		return compare(f, m.Cmp, m.Num)
	}
	return false
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "gt":
		return a > b
	case "gte":
		return a >= b
	case "lt":
		return a < b
	case "lte":
		return a <= b
	case "eq":
		return a == b
	}
	return false
}

// exists reports whether the field is present in the record, even as null
// or empty: the path is followed through objects only.
func (e *Event) exists(field string) bool {
	return walk(e.root, strings.Split(field, ".")) != nil
}

// timeFields are the fields time modifiers may read: both are kept as
// TIMESTAMP columns (UTC).
var timeFields = map[string]struct {
	column string
	get    func(e *Event) time.Time
}{
	"eventTime": {"event_time", func(e *Event) time.Time { return e.ev.Time }},
	"userIdentity.sessionContext.attributes.creationDate": {"session_created", func(e *Event) time.Time { return e.ev.Identity.SessionCreated }},
}

func (e *Event) timeField(field string) (time.Time, bool) {
	f, ok := timeFields[field]
	if !ok {
		return time.Time{}, false
	}
	t := f.get(e)
	return t, !t.IsZero()
}

func timePart(t time.Time, part string) int {
	switch part {
	case "minute":
		return t.Minute()
	case "hour":
		return t.Hour()
	case "day":
		return t.Day()
	case "week":
		_, w := t.ISOWeek()
		return w
	case "month":
		return int(t.Month())
	case "year":
		return t.Year()
	}
	return -1
}

// globMatch matches s against g (both already lower-cased when folding).
func globMatch(g sigma.Glob, s string, fold bool) bool {
	if len(g) == 0 {
		return s == ""
	}
	p := g[0]
	switch p.Kind {
	case sigma.GlobLit:
		lit := p.Lit
		if fold {
			lit = strings.ToLower(lit)
		}
		if !strings.HasPrefix(s, lit) {
			return false
		}
		return globMatch(g[1:], s[len(lit):], fold)
	case sigma.GlobOne:
		for i := range s {
			if i > 0 {
				return globMatch(g[1:], s[i:], fold)
			}
		}
		if s == "" {
			return false
		}
		return globMatch(g[1:], "", fold)
	default: // star
		if len(g) == 1 {
			return true
		}
		for i := 0; i <= len(s); i++ {
			if i < len(s) && i > 0 && !isRuneStart(s[i]) {
				continue
			}
			if globMatch(g[1:], s[i:], fold) {
				return true
			}
		}
		return false
	}
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

var reCache sync.Map

// cachedRegexp compiles a rule's regular expression once; nil when it does
// not compile (the parser refuses such rules, so only a hand-built
// expression gets here).
func cachedRegexp(p string) *regexp.Regexp {
	if r, ok := reCache.Load(p); ok {
		return r.(*regexp.Regexp)
	}
	r, err := regexp.Compile(p)
	if err != nil {
		return nil
	}
	reCache.Store(p, r)
	return r
}
