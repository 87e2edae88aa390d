package analytics

import (
	"net/netip"
	"strings"
)

// A source address is compared with a principal's history by its network,
// not the address itself: a /24 for IPv4 and a /48 for IPv6, about one
// office, home ISP lease pool or cloud subnet. Addresses change within them
// every day; leaving them is what stands out.
const (
	v4Bits = 24
	v6Bits = 48
)

// Network returns the network a CloudTrail sourceIPAddress belongs to (its
// /24 or /48, canonical text) and whether the address is public. ok is
// false for anything that is not an IP address: service names such as
// ec2.amazonaws.com and "AWS Internal", which the analytics never treat as
// a place. IPv4-mapped IPv6 addresses count as IPv4. It is the reference
// for networkSQL and publicSQL, which compute the same in DuckDB.
func Network(sourceIP string) (network string, public, ok bool) {
	a, err := netip.ParseAddr(sourceIP)
	if err != nil || a.Zone() != "" {
		return "", false, false
	}
	a = a.Unmap()
	bits := v6Bits
	if a.Is4() {
		bits = v4Bits
	}
	p, _ := a.Prefix(bits)
	return p.String(), isPublic(a), true
}

// notPublic are the ranges that do not say where on the internet a caller
// was: private, shared (CGNAT), loopback, link-local, "this network",
// multicast and reserved, and the IPv6 /48 holding :: and ::1.
var notPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "224.0.0.0/3", "172.16.0.0/12",
		"192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "::/48", "fc00::/7", "fe80::/10", "ff00::/8"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

func isPublic(a netip.Addr) bool {
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ipv4Re matches a dotted quad exactly as net/netip accepts it (no leading
// zeros), optionally IPv4-mapped; group 1 is the first three octets.
const (
	octet      = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	ipv4Re     = `^(?:::ffff:)?(` + octet + `\.` + octet + `\.` + octet + `)\.` + octet + `$`
	hex4       = `[0-9a-f]{1,4}`
	dottedTail = `:` + octet + `\.` + octet + `\.` + octet + `\.` + octet + `$`
	ipv6Re     = `^((` + hex4 + `:){7}` + hex4 + `|((` + hex4 + `:){0,6}` + hex4 + `)?::((` + hex4 + `:){0,6}` + hex4 + `)?)$`
)

// networkSQL is the DuckDB expression equal to Network's network (NULL when
// not ok) for the column col. Its IPv6 test is by pattern, so a few
// malformed texts (too many groups around a "::") still get a network;
// CloudTrail's sourceIPAddress is an address or a service name, never those. IPv6 is handled by its text: the groups before
// "::" (or all of them) give the first three, missing ones are zero, and
// trailing zero groups fold into the "::" as netip prints them.
func networkSQL(col string) string {
	// an IPv4 tail ("64:ff9b::192.0.2.1") stands for the last two groups
	v6 := "regexp_replace(lower(" + col + "), " + sqlString(dottedTail) + ", ':0:0')"
	left := "split_part(" + v6 + ", '::', 1)"
	group := func(i string) string {
		return "coalesce(nullif(ltrim(string_split(" + left + ", ':')[" + i + "], '0'), ''), '0')"
	}
	head := group("1") + " || ':' || " + group("2") + " || ':' || " + group("3")
	return strings.Join([]string{
		"CASE WHEN regexp_matches(" + col + ", " + sqlString(ipv4Re) + ")",
		"THEN regexp_extract(" + col + ", " + sqlString(ipv4Re) + ", 1) || '.0/24'",
		"WHEN regexp_matches(" + v6 + ", " + sqlString(ipv6Re) + ")",
		"THEN regexp_replace(" + head + ", '(^|:)0(:0)*$', '') || '::/48'",
		"END",
	}, " ")
}

// publicSQL is the DuckDB expression equal to Network's public for col,
// given its network expression net (NULL when col is not an address); the
// ranges are notPublic's.
func publicSQL(col, net string) string {
	v4 := "regexp_replace(" + col + ", '^::ffff:', '')"
	o4 := func(i string) string { return "TRY_CAST(split_part(" + v4 + ", '.', " + i + ") AS INTEGER)" }
	h1 := "split_part(" + net + ", ':', 1)"
	return strings.Join([]string{
		"CASE WHEN " + net + " IS NULL THEN NULL",
		"WHEN " + net + " LIKE '%.0/24' THEN NOT (",
		o4("1") + " IN (0, 10, 127) OR " + o4("1") + " >= 224",
		"OR (" + o4("1") + " = 172 AND " + o4("2") + " BETWEEN 16 AND 31)",
		"OR (" + o4("1") + " = 192 AND " + o4("2") + " = 168)",
		"OR (" + o4("1") + " = 169 AND " + o4("2") + " = 254)",
		"OR (" + o4("1") + " = 100 AND " + o4("2") + " BETWEEN 64 AND 127))",
		"ELSE NOT (" + net + " = '::/48'", // loopback, unspecified and the rest of ::/48
		"OR regexp_matches(" + h1 + ", '^(f[cd][0-9a-f]{2}|fe[89ab][0-9a-f]|ff[0-9a-f]{2})$')) END",
	}, " ")
}
