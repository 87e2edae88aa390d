package sigma

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const head = "title: t\nid: 1\nlogsource: {product: aws, service: cloudtrail}\n"

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
		line            int
		unsupported     bool
	}{
		{"yaml", head + "detection: [\n", "YAML", 4, false},
		{"no detection", "title: t\n", "no detection, correlation or filter", 1, false},
		{"no title", "id: x\ndetection: {sel: {a: b}, condition: sel}\n", "no title", 1, false},
		{"bad level", head + "level: severe\ndetection: {sel: {a: b}, condition: sel}\n", "level \"severe\"", 4, false},
		{"no condition", head + "detection:\n    sel:\n        a: b\n", "no condition", 5, false},
		{"unknown search", head + "detection:\n    sel:\n        a: b\n    condition: sel and other\n", `no search named "other"`, 7, false},
		{"unknown modifier", head + "detection:\n    sel:\n        a|bogus: b\n    condition: sel\n", `unknown modifier "bogus"`, 6, false},
		{"conflicting", head + "detection:\n    sel:\n        a|contains|startswith: b\n    condition: sel\n", "conflict", 6, false},
		{"re flag alone", head + "detection:\n    sel:\n        a|i: b\n    condition: sel\n", "must follow re", 6, false},
		{"bad regex", head + "detection:\n    sel:\n        a|re: '(?<=x)y'\n    condition: sel\n", "regular expression", 6, true},
		{"bad cidr", head + "detection:\n    sel:\n        a|cidr: 10.0.0/8\n    condition: sel\n", "cidr", 6, false},
		{"gt string", head + "detection:\n    sel:\n        a|gt: ten\n    condition: sel\n", "not a number", 6, false},
		{"all single", head + "detection:\n    sel:\n        a|all: b\n    condition: sel\n", "at least two", 6, false},
		{"exists value", head + "detection:\n    sel:\n        a|exists: maybe\n    condition: sel\n", "true or false", 6, false},
		{"nested map", head + "detection:\n    sel:\n        a:\n            b: c\n    condition: sel\n", "dotted field names", 7, false},
		{"mixed list", head + "detection:\n    sel:\n        - a: b\n        - kw\n    condition: sel\n", "mixes", 6, false},
		{"pipe", head + "detection:\n    sel:\n        a: b\n    condition: sel | count() > 5\n", "Sigma v1 aggregation", 7, true},
		{"timeframe", head + "detection:\n    sel:\n        a: b\n    timeframe: 5m\n    condition: sel\n", "timeframe", 7, true},
		{"two of", head + "detection:\n    sel:\n        a: b\n    condition: 2 of sel\n", "only `1 of`", 7, false},
		{"pattern none", head + "detection:\n    sel:\n        a: b\n    condition: 1 of x*\n", "matches no search", 7, false},
		{"paren", head + "detection:\n    sel:\n        a: b\n    condition: (sel\n", "missing )", 7, false},
		{"trailing", head + "detection:\n    sel:\n        a: b\n    condition: sel sel\n", "unexpected", 7, false},
		{"placeholder", head + "detection:\n    sel:\n        a|expand: '%nope%'\n    condition: sel\n", "placeholder %nope%", 6, false},
		{"null modifier", head + "detection:\n    sel:\n        a|contains: null\n    condition: sel\n", "null cannot take modifiers", 6, false},
		{"base64 wildcard", head + "detection:\n    sel:\n        a|base64: 'x*'\n    condition: sel\n", "wildcards cannot be encoded", 6, false},
		{"binary", head + "detection:\n    sel:\n        a|utf16le: 'x'\n    condition: sel\n", "binary", 6, true},
		{"duplicate key", head + "detection:\n    sel:\n        a: b\n        a: c\n    condition: sel\n", "", 0, false},
		{"v1 collection", "action: global\ntitle: t\n", "rule collections", 1, true},
		{"correlation type", "title: c\ncorrelation:\n    type: bogus\n    rules: [a]\n    timespan: 1h\n", "unknown correlation type", 3, false},
		{"correlation span", "title: c\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1 hour\n    condition: {gte: 2}\n", "timespan", 5, false},
		{"correlation no cond", "title: c\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1h\n", "needs a condition", 3, false},
		{"value_count no field", "title: c\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 1h\n    condition: {gte: 2}\n", "condition.field", 6, false},
		{"percentile", "title: c\ncorrelation:\n    type: value_percentile\n    rules: [a]\n    timespan: 1h\n", "value_percentile", 3, true},
		{"correlation attr", "title: c\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1h\n    window: 5\n    condition: {gte: 2}\n", `unknown correlation attribute "window"`, 6, false},
		{"filter rules", "title: f\nlogsource: {product: aws}\nfilter:\n    selection: {a: b}\n    condition: not selection\n", "filter has no rules", 4, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("r.yml", []byte(c.doc), Options{})
			if err == nil {
				t.Fatalf("parsed without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), "r.yml:"+strconv.Itoa(c.line)+":") {
				t.Errorf("error %q should point at line %d", err, c.line)
			}
			if errors.Is(err, ErrUnsupported) != c.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v, want %v", !c.unsupported, c.unsupported)
			}
		})
	}
}

func TestParseDocuments(t *testing.T) {
	doc := `title: base
id: 11111111-1111-4111-8111-111111111111
name: failed_login
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventName: ConsoleLogin
        errorMessage|contains: Failed
    condition: selection
level: low
---
title: brute force
id: 22222222-2222-4222-8222-222222222222
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [sourceIPAddress]
    timespan: 15m
    condition:
        field: userIdentity.userName
        gte: 3
        lt: 100
    aliases:
        ip:
            failed_login: sourceIPAddress
level: high
generate: true
---
title: quiet admin
logsource: {product: aws, service: cloudtrail}
filter:
    rules: any
    selection:
        userIdentity.arn|endswith: ':role/admin'
    condition: not selection
`
	c, err := Parse("multi.yml", []byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 1 || len(c.Correlations) != 1 || len(c.Filters) != 1 {
		t.Fatalf("got %d rules, %d correlations, %d filters", len(c.Rules), len(c.Correlations), len(c.Filters))
	}
	k := c.Correlations[0]
	if k.Type != ValueCount || k.Timespan != 15*time.Minute || k.Field != "userIdentity.userName" || len(k.Condition) != 2 || !k.Generate || k.Line != 12 {
		t.Errorf("correlation parsed as %+v", k)
	}
	if !Holds(k.Condition, 3) || Holds(k.Condition, 2) || Holds(k.Condition, 100) {
		t.Error("condition bounds wrong")
	}
	if k.Aliases["ip"]["failed_login"] != "sourceIPAddress" {
		t.Errorf("aliases %v", k.Aliases)
	}
	if !c.Filters[0].AnyRule || String(c.Filters[0].Detection.Condition) != "not userIdentity.arn ~ '*:role/admin'" {
		t.Errorf("filter %+v: %s", c.Filters[0], String(c.Filters[0].Detection.Condition))
	}
	if got := String(c.Rules[0].Detection.Condition); got != "(eventName ~ 'ConsoleLogin' and errorMessage ~ '*Failed*')" {
		t.Errorf("rule condition %s", got)
	}
}

func TestGlobAndEncodings(t *testing.T) {
	cases := []struct{ in, want string }{
		{`abc`, `'abc'`},
		{`a*b?c`, `'a*b?c'`},
		{`a\*b\?c\\d\e`, `'a\*b\?c\\d\\e'`},
		{`**x`, `'*x'`},
	}
	for _, c := range cases {
		if got := parseGlob(c.in).String(); got != c.want {
			t.Errorf("parseGlob(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	// base64offset: the three shifts of "curl" as Sigma defines them
	got := base64Offsets("curl")
	want := []string{"Y3Vyb", "N1cm", "jdXJs"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("base64Offsets(curl) = %v, want %v", got, want)
	}
	if w := windash("-a"); len(w) != 5 {
		t.Errorf("windash gave %v", w)
	}
}
