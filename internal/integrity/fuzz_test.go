package integrity

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzParseDigest checks, on any input, that ParseDigest does not panic,
// fails only with a *ParseError, and, when it succeeds, hashed exactly the
// content (the input, or what it decompresses to) and gives times in UTC
// and a string to sign that starts with the end time as written.
func FuzzParseDigest(f *testing.F) {
	for _, name := range []string{"aws-docs-digest-sample.json", "aws-docs-digest-empty.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(gz(b))
	}
	f.Add([]byte(minimalDigest + `,"logFiles":[{"s3Object":"x","hashValue":"00"}]}`))
	f.Add([]byte(minimalDigest + `,"previousDigestSignature":"ab"}`))
	f.Add([]byte("{{{"))
	f.Add(gz([]byte("null")))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDigest(bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if d != nil {
				t.Fatal("a digest with an error")
			}
			return
		}
		content := data
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("parsed, but the stdlib cannot open the gzip stream: %v", err)
			}
			if content, err = io.ReadAll(zr); err != nil {
				t.Fatalf("parsed, but the stdlib cannot read the gzip stream: %v", err)
			}
		}
		if d.SHA256 != sha256.Sum256(content) || d.Size != int64(len(content)) {
			t.Fatalf("hash or size not of the content (%d bytes)", len(content))
		}
		if d.StartTime.Location().String() != "UTC" || d.EndTime.Location().String() != "UTC" {
			t.Fatal("times not in UTC")
		}
		if !strings.HasPrefix(d.StringToSign(), d.EndTimeText+"\n") || d.EndTimeText == "" {
			t.Fatalf("string to sign %q", d.StringToSign())
		}
	})
}

// FuzzParseMetadata checks that ParseMetadata does not panic and gives
// names as Verify looks them up.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"signature":"0a1b","signature-algorithm":"SHA256withRSA"}`))
	f.Add([]byte(`{"ContentLength":1,"Metadata":{"X-Amz-Meta-Signature":"0a"}}`))
	f.Add([]byte(`{"Metadata":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			return
		}
		for k := range m {
			if k != metaName(k) {
				t.Fatalf("name %q not normalised", k)
			}
		}
	})
}

// FuzzParsePublicKeys checks that ParsePublicKeys does not panic and
// returns only keys that can verify.
func FuzzParsePublicKeys(f *testing.F) {
	f.Add([]byte(`{"PublicKeyList":[{"Value":"` + cliKey + `","ValidityStartTime":1438387200,"Fingerprint":"ab"}]}`))
	f.Add([]byte(`{"PublicKeyList":[{"Value":"YQo="}]}{"PublicKeyList":[]}`))
	f.Add([]byte(`{"PublicKeyList":[{"Value":"` + cliKey + `","ValidityEndTime":"2015-09-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, _ := ParsePublicKeys(bytes.NewReader(data))
		for _, k := range keys {
			if k.Key == nil || k.Fingerprint == "" || k.Fingerprint != strings.ToLower(strings.TrimSpace(k.Fingerprint)) {
				t.Fatalf("key %+v", k)
			}
		}
	})
}
