package store

import (
	"net/netip"
	"testing"
)

func TestGlobToLike(t *testing.T) {
	cases := []struct{ glob, like string }{
		{"arn:aws:iam::*:role/Admin*", "arn:aws:iam::%:role/Admin%"},
		{"Get?bject", "Get_bject"},
		{"100%_sure", `100\%\_sure`},
		{`literal\*star`, "literal*star"},
		{`back\\slash`, `back\\slash`},
		{`trailing\`, `trailing\\`},
		{"", ""},
	}
	for _, c := range cases {
		if got := globToLike(c.glob); got != c.like {
			t.Errorf("globToLike(%q) = %q, want %q", c.glob, got, c.like)
		}
	}
}

func TestIPv4Bounds(t *testing.T) {
	cases := []struct {
		cidr   string
		lo, hi uint32
	}{
		{"203.0.113.0/24", 0xCB007100, 0xCB0071FF},
		{"10.0.0.0/8", 0x0A000000, 0x0AFFFFFF},
		{"192.0.2.7/32", 0xC0000207, 0xC0000207},
		{"0.0.0.0/0", 0, 0xFFFFFFFF},
	}
	for _, c := range cases {
		p := netip.MustParsePrefix(c.cidr).Masked()
		lo := ipv4Int(p.Addr())
		hi := lo | (1<<(32-p.Bits()) - 1)
		if lo != c.lo || hi != c.hi {
			t.Errorf("%s: %x-%x, want %x-%x", c.cidr, lo, hi, c.lo, c.hi)
		}
	}
}

func TestFilterRejectsBadCIDR(t *testing.T) {
	if _, _, _, err := (Filter{IPs: []string{"10.0.0.0/40"}}).where(); err == nil {
		t.Error("a CIDR with 40 bits was accepted")
	}
	cond, args, goIP, err := (Filter{IPs: []string{"2001:db8::/32"}, ErrorsOnly: true}).where()
	if err != nil || goIP == nil || len(args) != 0 || cond == "true" {
		t.Errorf("IPv6 CIDR: cond %q args %v goIP set %v err %v", cond, args, goIP != nil, err)
	}
	if goIP != nil && (!goIP("2001:db8::1") || goIP("2001:db9::1") || goIP("AWS Internal")) {
		t.Error("IPv6 CIDR predicate is wrong")
	}
}
