package integrity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// cliKey is the AWS CLI's test public key: 270 bytes of PKCS#1 DER,
// 2048 bits, as ListPublicKeys returns it.
const cliKey = "MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8NrwQ/r7Ah5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU6VmiPCrAUojuSk6/GjvA8iOPFsYDuBtviXarvuLPlrT9kAd4Lb+rFfR5peEgBEkhlzc5HuWO7S0y+KunqxX6jQBnXGMtxmPBPP0FylgWGNdFtks/4YSKcgqwH0YDcawP9GGGDAeCIqPWIXDLG1jOjRRzWfCmD0iJUkz8vTsn4hq/5ZxRFE7UBAUiVcGbdnDdvVfhF9C3dQiDq3k7adQIziLT0cShgQIDAQAB"

func TestParsePublicKeys(t *testing.T) {
	der, _ := base64.StdEncoding.DecodeString(cliKey)
	md := md5.Sum(der)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecKey := base64.StdEncoding.EncodeToString(ecDER)

	for _, tc := range []struct {
		name         string
		in           string
		fingerprints []string
		start, end   time.Time
		keyErrs      int   // keys that could not be read
		err          error // a broken document
	}{
		{
			name:         "CLI key, no fingerprint given",
			in:           `{"PublicKeyList":[{"Value":"` + cliKey + `"}]}`,
			fingerprints: []string{hex.EncodeToString(md[:])},
		},
		{
			name: "ISO times and an upper-case fingerprint",
			in: `{"PublicKeyList":[{"Value":"` + cliKey + `","ValidityStartTime":"2015-08-01T00:00:00+00:00",` +
				`"ValidityEndTime":"2015-09-01T00:00:00Z","Fingerprint":"31E8B5433410DFB61A9DC45CC65B22FF"}]}`,
			fingerprints: []string{"31e8b5433410dfb61a9dc45cc65b22ff"},
			start:        time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), end: time.Date(2015, 9, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			name: "epoch times, value wrapped over lines",
			in: `{"PublicKeyList":[{"Value":"` + cliKey[:40] + `\n` + cliKey[40:] + `","ValidityStartTime":1438387200,` +
				`"ValidityEndTime":1441065600.0,"Fingerprint":"ab"}]}`,
			fingerprints: []string{"ab"},
			start:        time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), end: time.Date(2015, 9, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			name:         "one document per region, a key repeated",
			in:           `{"PublicKeyList":[{"Value":"` + cliKey + `","Fingerprint":"ab"}]}` + "\n" + `{"PublicKeyList":[{"Value":"` + cliKey + `","Fingerprint":"AB"}]}`,
			fingerprints: []string{"ab"},
		},
		{
			name:         "the CLI's undecodable key among good ones",
			in:           `{"PublicKeyList":[{"Value":"YQo=","Fingerprint":"bad"},{"Value":"` + cliKey + `","Fingerprint":"ab"}]}`,
			fingerprints: []string{"ab"},
			keyErrs:      1,
		},
		{name: "not base64", in: `{"PublicKeyList":[{"Value":"%%%"}]}`, keyErrs: 1},
		{name: "not an RSA key", in: `{"PublicKeyList":[{"Value":"` + ecKey + `"}]}`, keyErrs: 1},
		{name: "bad time", in: `{"PublicKeyList":[{"Value":"` + cliKey + `","ValidityStartTime":"yesterday"}]}`, keyErrs: 1},
		{name: "empty list", in: `{"PublicKeyList":[]}`},
		{name: "nothing", in: ``},
		{name: "not JSON", in: `PublicKeyList`, err: ErrSyntax},
		{name: "another document", in: `{"Trails":[]}`, err: ErrFormat},
		{name: "list of the wrong type", in: `{"PublicKeyList":{}}`, err: ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParsePublicKeys(strings.NewReader(tc.in))
			var got []string
			for _, k := range keys {
				got = append(got, k.Fingerprint)
				if k.Key == nil || k.Key.N.BitLen() != 2048 {
					t.Errorf("key %s: %v", k.Fingerprint, k.Key)
				}
				if !k.ValidityStart.Equal(tc.start) || !k.ValidityEnd.Equal(tc.end) {
					t.Errorf("validity %v to %v, want %v to %v", k.ValidityStart, k.ValidityEnd, tc.start, tc.end)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fingerprints, ",") {
				t.Errorf("fingerprints %q, want %q", got, tc.fingerprints)
			}
			var pe *ParseError
			switch {
			case tc.err != nil:
				if !errors.As(err, &pe) || !errors.Is(err, tc.err) {
					t.Errorf("err = %v, want a *ParseError wrapping %v", err, tc.err)
				}
			case tc.keyErrs > 0:
				var ke *KeyError
				if !errors.As(err, &ke) || strings.Count(err.Error(), "public key ") != tc.keyErrs {
					t.Errorf("err = %v, want %d *KeyError", err, tc.keyErrs)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			}
		})
	}
}

// TestKeyFingerprintMatch checks that digests find their key whatever the
// letter case of either fingerprint.
func TestKeyFingerprintMatch(t *testing.T) {
	k := testKeys()[0]
	kr := newKeyring([]PublicKey{{Fingerprint: " ABCDEF ", Key: &k.PublicKey}, {Fingerprint: "x"}})
	if len(kr.lookup("abcdef")) != 1 || len(kr.lookup("AbCdEf")) != 1 || len(kr.lookup("x")) != 0 {
		t.Errorf("keyring %v", kr)
	}
}
