package sigma

import (
	"fmt"
	"path"
	"strings"
)

type condError struct {
	msg         string
	unsupported bool
}

func (e *condError) Error() string { return e.msg }

func condErrf(format string, args ...any) error {
	return &condError{msg: fmt.Sprintf(format, args...)}
}

// parseCondition parses a detection condition:
//
//	expr    = or
//	or      = and { "or" and }
//	and     = not { "and" not }
//	not     = "not" not | primary
//	primary = "(" expr ")" | quant "of" (pattern | "them") | identifier
//	quant   = "1" | "any" | "all"
//
// order lists the search names as written, so that `1 of x*` expands
// deterministically.
func parseCondition(text string, searches map[string]Expr, order []string) (Expr, error) {
	if strings.Contains(text, "|") {
		return nil, &condError{msg: "the pipe (count(), near) is Sigma v1 aggregation syntax; write a correlation rule instead", unsupported: true}
	}
	toks := tokenize(text)
	if len(toks) == 0 {
		return nil, condErrf("empty condition")
	}
	cp := &condParser{toks: toks, searches: searches, order: order, used: map[string]bool{}}
	e, err := cp.or()
	if err != nil {
		return nil, err
	}
	if cp.pos < len(toks) {
		return nil, condErrf("unexpected %q", toks[cp.pos])
	}
	return e, nil
}

func tokenize(s string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			out = append(out, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

type condParser struct {
	toks     []string
	pos      int
	searches map[string]Expr
	order    []string
	used     map[string]bool
}

func (c *condParser) peek() string {
	if c.pos < len(c.toks) {
		return c.toks[c.pos]
	}
	return ""
}

func (c *condParser) keyword(k string) bool {
	return strings.EqualFold(c.peek(), k)
}

func (c *condParser) or() (Expr, error) {
	first, err := c.and()
	if err != nil {
		return nil, err
	}
	xs := []Expr{first}
	for c.keyword("or") {
		c.pos++
		x, err := c.and()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return first, nil
	}
	return Or{Xs: xs}, nil
}

func (c *condParser) and() (Expr, error) {
	first, err := c.not()
	if err != nil {
		return nil, err
	}
	xs := []Expr{first}
	for c.keyword("and") {
		c.pos++
		x, err := c.not()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return first, nil
	}
	return And{Xs: xs}, nil
}

func (c *condParser) not() (Expr, error) {
	if c.keyword("not") {
		c.pos++
		x, err := c.not()
		if err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	}
	return c.primary()
}

func (c *condParser) primary() (Expr, error) {
	t := c.peek()
	switch {
	case t == "":
		return nil, condErrf("the condition ends too early")
	case t == "(":
		c.pos++
		e, err := c.or()
		if err != nil {
			return nil, err
		}
		if c.peek() != ")" {
			return nil, condErrf("missing )")
		}
		c.pos++
		return e, nil
	case t == ")":
		return nil, condErrf("unexpected )")
	case isKeyword(t) && !strings.EqualFold(t, "1") && !strings.EqualFold(t, "all") && !strings.EqualFold(t, "any"):
		return nil, condErrf("unexpected %q", t)
	}
	if c.pos+1 < len(c.toks) && strings.EqualFold(c.toks[c.pos+1], "of") {
		quant := strings.ToLower(t)
		if quant != "1" && quant != "all" && quant != "any" {
			return nil, condErrf("%q of: only `1 of`, `any of` and `all of` are Sigma", t)
		}
		c.pos += 2
		target := c.peek()
		if target == "" || target == "(" || target == ")" {
			return nil, condErrf("%s of what?", t)
		}
		c.pos++
		names, err := c.matching(target)
		if err != nil {
			return nil, err
		}
		xs := make([]Expr, len(names))
		for i, n := range names {
			xs[i] = c.searches[n]
		}
		if quant == "all" {
			if len(xs) == 1 {
				return xs[0], nil
			}
			return And{Xs: xs}, nil
		}
		if len(xs) == 1 {
			return xs[0], nil
		}
		return Or{Xs: xs}, nil
	}
	c.pos++
	e, ok := c.searches[t]
	if !ok {
		return nil, condErrf("no search named %q in the detection", t)
	}
	return e, nil
}

func (c *condParser) matching(pattern string) ([]string, error) {
	var out []string
	for _, n := range c.order {
		if strings.EqualFold(pattern, "them") {
			if !strings.HasPrefix(n, "_") {
				out = append(out, n)
			}
			continue
		}
		if ok, err := path.Match(pattern, n); err != nil {
			return nil, condErrf("bad pattern %q", pattern)
		} else if ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, condErrf("%q matches no search", pattern)
	}
	return out, nil
}

func isKeyword(t string) bool {
	switch strings.ToLower(t) {
	case "and", "or", "not", "of", "them", "1", "all", "any":
		return true
	}
	return false
}
