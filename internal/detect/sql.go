package detect

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// Dialect is the seam between the compiler and a SQL engine: DuckDB for a
// case's own store, Trino for Amazon Athena over an organisation's trail.
// Both read the same logical columns (docs/SCHEMA.md).
type Dialect interface {
	Name() string
	// JSONText is the text of the value at path in a JSON column (NULL when
	// absent or null; objects and arrays as compact JSON).
	JSONText(col string, path []string) string
	// JSONElems is the list of the texts of the value at inner inside each
	// element of the array at path (empty when it is not an array).
	JSONElems(col string, path, inner []string) string
	// JSONDescendants is the list of the texts of every value nested at
	// any depth in the object or array at path (empty for a scalar).
	JSONDescendants(col string, path []string) string
	// JSONExists is true when path is present in the JSON column.
	JSONExists(col string, path []string) string
	// ListAny is true when pred (over the variable v) holds for an element.
	ListAny(list, v, pred string) string
	// ListConcat joins lists.
	ListConcat(lists []string) string
	// ListOf makes a one-element list.
	ListOf(x string) string
	// NonNullCount counts the list's non-null elements.
	NonNullCount(list string) string
	Lower(x string) string
	Like(x, pattern string) string // pattern escaped with backslash
	Regex(x, pattern string) string
	ToDouble(x string) string
	Contains(x, y string) string
	StartsWith(x, y string) string
	EndsWith(x, y string) string
	TimePart(col, part string) string
	// IPv4 returns the address's value as an integer when x is a canonical
	// dotted-quad IPv4 address, else NULL.
	IPv4(x string) string
	// IPv6Hex returns the address's 128 bits as 32 lower-case hex digits
	// when x is an IPv6 address in hexadecimal notation, else NULL.
	IPv6Hex(x string) string
}

// Compile turns an expression into a SQL boolean expression over the events
// table. Every predicate is two-valued (never NULL), so `not` means what
// Sigma means.
func Compile(d Dialect, x sigma.Expr) (string, error) {
	c := compiler{d: d}
	return c.expr(x)
}

type compiler struct{ d Dialect }

func (c compiler) expr(x sigma.Expr) (string, error) {
	switch x := x.(type) {
	case sigma.And:
		if len(x.Xs) == 0 {
			return "true", nil
		}
		return c.join(x.Xs, " AND ")
	case sigma.Or:
		if len(x.Xs) == 0 {
			return "false", nil
		}
		return c.join(x.Xs, " OR ")
	case sigma.Not:
		s, err := c.expr(x.X)
		if err != nil {
			return "", err
		}
		return "(NOT " + s + ")", nil
	case *sigma.Match:
		s, err := c.leaf(x)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", x.Line, err)
		}
		return s, nil
	}
	return "", fmt.Errorf("unknown expression %T", x)
}

func (c compiler) join(xs []sigma.Expr, op string) (string, error) {
	parts := make([]string, len(xs))
	for i, x := range xs {
		s, err := c.expr(x)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return "(" + strings.Join(parts, op) + ")", nil
}

// value is where a field's values come from: one scalar expression, or a
// list of them.
type value struct {
	scalar string
	list   string
}

func (c compiler) field(name string) (value, error) {
	if name == "" {
		return value{scalar: "raw"}, nil
	}
	loc := locate(name)
	if loc.column != "" {
		return value{scalar: loc.column}, nil
	}
	for _, p := range loc.path {
		if p == "" || strings.ContainsAny(p, `"'\`) {
			return value{}, fmt.Errorf("field %q: a path part may not be empty or hold quotes or backslashes", name)
		}
	}
	if loc.jsonCol != "raw" && len(loc.path) == 0 {
		// a whole member as text
		return value{list: c.d.ListConcat([]string{c.d.ListOf(c.d.JSONText(loc.jsonCol, nil)), c.d.JSONDescendants(loc.jsonCol, nil)})}, nil
	}
	lists := []string{c.d.ListOf(c.d.JSONText(loc.jsonCol, loc.path)), c.d.JSONDescendants(loc.jsonCol, loc.path)}
	for i := 0; i < len(loc.path); i++ {
		if i == 0 && loc.jsonCol == "raw" {
			continue // a record is an object, never an array
		}
		lists = append(lists, c.d.JSONElems(loc.jsonCol, loc.path[:i], loc.path[i:]))
	}
	return value{list: c.d.ListConcat(lists)}, nil
}

// over applies a predicate on one value (written with x) to a field.
func (c compiler) over(v value, pred func(x string) string) string {
	if v.scalar != "" {
		return "coalesce(" + pred(v.scalar) + ", false)"
	}
	return "coalesce(" + c.d.ListAny(v.list, "x", pred("x")) + ", false)"
}

func (c compiler) leaf(m *sigma.Match) (string, error) {
	switch m.Op {
	case sigma.OpExists:
		parts := strings.Split(m.Field, ".")
		for _, p := range parts {
			if p == "" || strings.ContainsAny(p, `"'\`) {
				return "", fmt.Errorf("field %q: a path part may not be empty or hold quotes or backslashes", m.Field)
			}
		}
		s := "coalesce(" + c.d.JSONExists("raw", parts) + ", false)"
		if !m.Exists {
			s = "(NOT " + s + ")"
		}
		return s, nil
	case sigma.OpTime:
		tf, ok := timeFields[m.Field]
		if !ok {
			return "", fmt.Errorf("time modifiers read eventTime or userIdentity.sessionContext.attributes.creationDate, not %q", m.Field)
		}
		return "coalesce(" + c.d.TimePart(tf.column, m.Part) + " " + sqlCmp(m.Cmp) + " " + sqlNum(m.Num) + ", false)", nil
	}
	v, err := c.field(m.Field)
	if err != nil {
		return "", err
	}
	switch m.Op {
	case sigma.OpNull:
		if v.scalar != "" {
			return "(" + v.scalar + " IS NULL)", nil
		}
		return "coalesce(" + c.d.NonNullCount(v.list) + " = 0, true)", nil
	case sigma.OpGlob:
		return c.over(v, func(x string) string { return c.glob(x, m.Glob, m.Cased) }), nil
	case sigma.OpRegex:
		return c.over(v, func(x string) string { return c.d.Regex(x, sqlString(m.Regex)) }), nil
	case sigma.OpNumber:
		return c.over(v, func(x string) string { return c.d.ToDouble(x) + " " + sqlCmp(m.Cmp) + " " + sqlNum(m.Num) }), nil
	case sigma.OpCIDR:
		if !m.Prefix.Addr().Is4() {
			return c.over(v, func(x string) string { return c.ipv6In(x, m.Prefix) }), nil
		}
		a := m.Prefix.Addr().As4()
		lo := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
		hi := lo + (uint64(1) << (32 - m.Prefix.Bits())) - 1
		return c.over(v, func(x string) string {
			return fmt.Sprintf("%s BETWEEN %d AND %d", c.d.IPv4(x), lo, hi)
		}), nil
	case sigma.OpFieldRef:
		r, err := c.field(m.Ref)
		if err != nil {
			return "", err
		}
		return c.over(v, func(x string) string {
			rp := func(y string) string {
				a, b := x, y
				if !m.Cased {
					a, b = c.d.Lower(a), c.d.Lower(b)
				}
				switch m.RefPos {
				case "contains":
					return c.d.Contains(a, b)
				case "startswith":
					return c.d.StartsWith(a, b)
				case "endswith":
					return c.d.EndsWith(a, b)
				}
				return a + " = " + b
			}
			if r.scalar != "" {
				return rp(r.scalar)
			}
			return "coalesce(" + c.d.ListAny(r.list, "y", rp("y")) + ", false)"
		}), nil
	}
	return "", fmt.Errorf("unknown predicate %d", m.Op)
}

func (c compiler) glob(x string, g sigma.Glob, cased bool) string {
	if !cased {
		x = c.d.Lower(x)
	}
	fold := func(s string) string {
		if cased {
			return s
		}
		return strings.ToLower(s)
	}
	if lit, ok := g.Literal(); ok {
		return x + " = " + sqlString(fold(lit))
	}
	var b strings.Builder
	for _, p := range g {
		switch p.Kind {
		case sigma.GlobStar:
			b.WriteByte('%')
		case sigma.GlobOne:
			b.WriteByte('_')
		default:
			for _, r := range fold(p.Lit) {
				if r == '%' || r == '_' || r == '\\' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
		}
	}
	if b.String() == "%" {
		return x + " IS NOT NULL"
	}
	return c.d.Like(x, sqlString(b.String()))
}

func sqlCmp(op string) string {
	switch op {
	case "gt":
		return ">"
	case "gte":
		return ">="
	case "lt":
		return "<"
	case "lte":
		return "<="
	}
	return "="
}

func sqlNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// jsonPath writes a JSON path with every key quoted.
func jsonPath(path []string, suffix string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, p := range path {
		b.WriteString(`."`)
		b.WriteString(p)
		b.WriteString(`"`)
	}
	b.WriteString(suffix)
	return b.String()
}

// ipv6In tests an IPv6 address against a network by its hex digits: the
// whole nibbles of the prefix compare as text, a partial nibble by value.
func (c compiler) ipv6In(x string, p netip.Prefix) string {
	b := p.Addr().As16()
	hex := fmt.Sprintf("%x", b[:])
	whole, rest := p.Bits()/4, p.Bits()%4
	h := c.d.IPv6Hex(x)
	conds := []string{h + " IS NOT NULL"}
	if whole > 0 {
		conds = append(conds, "substr("+h+", 1, "+strconv.Itoa(whole)+") = "+sqlString(hex[:whole]))
	}
	if rest > 0 {
		nib, _ := strconv.ParseUint(hex[whole:whole+1], 16, 8)
		lo := nib &^ (1<<(4-rest) - 1)
		hi := lo + 1<<(4-rest) - 1
		pos := "(strpos('0123456789abcdef', substr(" + h + ", " + strconv.Itoa(whole+1) + ", 1)) - 1)"
		conds = append(conds, fmt.Sprintf("%s BETWEEN %d AND %d", pos, lo, hi))
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}
