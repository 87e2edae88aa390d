package analytics

import (
	"database/sql"
	"net/netip"
	"testing"
)

var networkCases = []struct {
	ip      string
	network string
	public  bool
	ok      bool
}{
	{"203.0.113.7", "203.0.113.0/24", true, true},
	{"192.0.2.144", "192.0.2.0/24", true, true},
	{"8.8.8.8", "8.8.8.0/24", true, true},
	{"10.0.1.20", "10.0.1.0/24", false, true},
	{"172.16.5.4", "172.16.5.0/24", false, true},
	{"172.32.5.4", "172.32.5.0/24", true, true},
	{"192.168.1.1", "192.168.1.0/24", false, true},
	{"100.64.0.1", "100.64.0.0/24", false, true},
	{"100.128.0.1", "100.128.0.0/24", true, true},
	{"169.254.169.254", "169.254.169.0/24", false, true},
	{"127.0.0.1", "127.0.0.0/24", false, true},
	{"0.1.2.3", "0.1.2.0/24", false, true},
	{"224.0.0.1", "224.0.0.0/24", false, true},
	{"255.255.255.255", "255.255.255.0/24", false, true},
	{"::ffff:198.51.100.7", "198.51.100.0/24", true, true},
	{"2001:db8:1:2::7", "2001:db8:1::/48", true, true},
	{"2001:0db8:0001:0002:0000:0000:0000:0007", "2001:db8:1::/48", true, true},
	{"2001:db8::1", "2001:db8::/48", true, true},
	{"2001::1", "2001::/48", true, true},
	{"2001:0:5::1", "2001:0:5::/48", true, true},
	{"2600:1f18:abcd:12::9", "2600:1f18:abcd::/48", true, true},
	{"2600:1F18:ABCD:12::9", "2600:1f18:abcd::/48", true, true},
	{"fd00:1::1", "fd00:1::/48", false, true},
	{"fe80::1", "fe80::/48", false, true},
	{"ff02::1", "ff02::/48", false, true},
	{"::1", "::/48", false, true},
	{"::", "::/48", false, true},
	{"::0.0.0.0", "::/48", false, true},
	{"64:ff9b::192.0.2.1", "64:ff9b::/48", true, true},
	{"1:2:3:4:5:6:192.0.2.1", "1:2:3::/48", true, true},
	{"ec2.amazonaws.com", "", false, false},
	{"AWS Internal", "", false, false},
	{"256.1.1.1", "", false, false},
	{"01.2.3.4", "", false, false},
	{"1.2.3", "", false, false},
	{"fe80::1%eth0", "", false, false},
	{"", "", false, false},
}

func TestNetwork(t *testing.T) {
	for _, c := range networkCases {
		n, pub, ok := Network(c.ip)
		if n != c.network || pub != c.public || ok != c.ok {
			t.Errorf("Network(%q) = %q, %v, %v; want %q, %v, %v", c.ip, n, pub, ok, c.network, c.public, c.ok)
		}
	}
}

// TestNetworkSQL checks that DuckDB finds the same networks as Network.
func TestNetworkSQL(t *testing.T) {
	db := sqlOracle(t)
	for _, c := range networkCases {
		n, pub, ok := networkInSQL(t, db, c.ip)
		if n != c.network || pub != c.public || ok != c.ok {
			t.Errorf("networkSQL(%q) = %q, %v, %v; want %q, %v, %v", c.ip, n, pub, ok, c.network, c.public, c.ok)
		}
	}
}

// FuzzNetwork checks the SQL against Network on every address net/netip
// accepts (and on the texts it rejects, that SQL rejects the IPv4 ones).
func FuzzNetwork(f *testing.F) {
	for _, c := range networkCases {
		f.Add(c.ip)
	}
	db := sqlOracle(f)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			// not an address: the SQL may only misjudge malformed IPv6 text
			if _, _, ok := networkInSQL(t, db, s); ok && !maybeV6(s) {
				t.Errorf("networkSQL(%q) found a network in what is not an address", s)
			}
			return
		}
		n, pub, ok := Network(s)
		if gn, gpub, gok := networkInSQL(t, db, s); gn != n || gpub != pub || gok != ok {
			t.Errorf("networkSQL(%q) = %q, %v, %v; Network = %q, %v, %v", s, gn, gpub, gok, n, pub, ok)
		}
	})
}

func maybeV6(s string) bool {
	for _, r := range s {
		if r == ':' {
			return true
		}
	}
	return false
}

func networkInSQL(t testing.TB, db *sql.DB, s string) (string, bool, bool) {
	t.Helper()
	if !validForDuckDB(s) {
		return Network(s)
	}
	var n sql.NullString
	var pub sql.NullBool
	q := `SELECT net, ` + publicSQL("ip", "net") + ` FROM (SELECT ip, ` + networkSQL("ip") + ` AS net FROM (SELECT CAST(? AS VARCHAR) AS ip))`
	if err := db.QueryRow(q, s).Scan(&n, &pub); err != nil {
		t.Fatal(err)
	}
	return n.String, pub.Bool, n.Valid
}

func validForDuckDB(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false // keep to ASCII without NUL; no address holds more
		}
	}
	return true
}
