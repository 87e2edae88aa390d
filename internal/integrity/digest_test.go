package integrity

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStringToSign checks the AWS CLI's string-to-sign vector: fields
// "a", "b", "c", no previous signature, content "abc".
func TestStringToSign(t *testing.T) {
	d := &Digest{EndTimeText: "a", Bucket: "b", Object: "c", SHA256: sha256.Sum256([]byte("abc"))}
	const want = "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull"
	if got := d.StringToSign(); got != want {
		t.Errorf("StringToSign() = %q, want %q", got, want)
	}
	d.PreviousSignature = ptr("0a1b")
	if got := d.StringToSign(); got != strings.TrimSuffix(want, "null")+"0a1b" {
		t.Errorf("with a previous signature: %q", got)
	}
}

// TestLogHash checks the AWS CLI's log file hash vectors: SHA-256 of the
// uncompressed content, whether the file is gzip'd or not.
func TestLogHash(t *testing.T) {
	for _, v := range []struct{ content, sha256 string }{
		{`{}`, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
		{`{"foo":"bar"}`, "7a38bf81f383f69433ad6e900d35b3e2385593f76a7b7ab5d4355b8ba41ee24b"},
		{`{"baz":"qux"}`, "5b1070294963f40cb5b3c7a05d3fbaf7ffe4e5d226632026e39cfeb32d349c0c"},
	} {
		for _, b := range [][]byte{[]byte(v.content), gz([]byte(v.content))} {
			f := File{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
			sum, size, err := hashLog(t.Context(), f)
			if err != nil || hexOf(sum) != v.sha256 || size != int64(len(v.content)) {
				t.Errorf("hash of %q = %s, %d, %v; want %s", v.content, hexOf(sum), size, err, v.sha256)
			}
		}
	}
	// the CLI's negative case: other content does not hash to key1's value
	f := File{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("does not match")), nil }}
	if sum, _, _ := hashLog(t.Context(), f); sameHex(hexOf(sum), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a") {
		t.Error("different content hashes the same")
	}
}

func hexOf(sum [32]byte) string { return hex.EncodeToString(sum[:]) }

// TestParseDigestSamples reads the digests of the CloudTrail User Guide,
// gzip'd as CloudTrail stores them and not.
func TestParseDigestSamples(t *testing.T) {
	for _, name := range []string{"aws-docs-digest-sample.json", "aws-docs-digest-empty.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range [][]byte{raw, gz(raw)} {
			d, err := ParseDigest(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d.SHA256 != sha256.Sum256(raw) || d.Size != int64(len(raw)) || d.AccountID != "111122223333" ||
				d.PublicKeyFingerprint != "31e8b5433410dfb61a9dc45cc65b22ff" || d.SignatureAlgorithm != SignatureAlgorithm ||
				d.PreviousSignature == nil || len(*d.PreviousSignature) != 512 || d.PreviousHashAlgo != HashAlgorithm ||
				!strings.HasSuffix(d.Object, "Z.json.gz") || !strings.HasSuffix(d.PreviousObject, "Z.json.gz") ||
				d.EndTime.Sub(d.StartTime) != time.Hour || d.EndTime.Location() != time.UTC {
				t.Errorf("%s: %+v", name, d)
			}
			n, ok := parseDigestName(d.Object)
			if !ok || n.Account != "111122223333" || n.Region != "us-east-2" || n.HomeRegion != "us-east-2" || !n.Time.Equal(d.EndTime) {
				t.Errorf("%s: name %+v, %v", name, n, ok)
			}
		}
	}
	d, _ := ParseDigest(bytes.NewReader(must(os.ReadFile("testdata/aws-docs-digest-sample.json"))))
	lf := d.LogFiles[0]
	if len(d.LogFiles) != 1 || lf.HashValue != "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6" ||
		!lf.usable() || lf.OldestEventTime.Format(stamp) != "2015-08-17T14:42:27Z" || d.EndTimeText != "2015-08-17T15:01:31Z" {
		t.Errorf("sample: %+v", d)
	}
	empty, _ := ParseDigest(bytes.NewReader(must(os.ReadFile("testdata/aws-docs-digest-empty.json"))))
	if len(empty.LogFiles) != 0 || !empty.OldestEventTime.IsZero() || !empty.NewestEventTime.IsZero() {
		t.Errorf("empty digest: %+v", empty)
	}
}

const minimalDigest = `{"digestPublicKeyFingerprint":"f","digestS3Bucket":"b","digestS3Object":"o","previousDigestSignature":null,` +
	`"digestEndTime":"2015-08-17T15:01:31Z","digestStartTime":"2015-08-17T14:01:31Z"`

// TestParseDigestErrors checks that each way a digest can be broken is a
// *ParseError saying what and where; the first cases are the AWS CLI's
// digest fetch cases.
func TestParseDigestErrors(t *testing.T) {
	sample := must(os.ReadFile("testdata/aws-docs-digest-sample.json"))
	cut := gz(sample)
	cut = cut[:len(cut)/2]
	var big bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&big, gzip.BestSpeed)
	zw.Write([]byte(`{"logFiles":"`))
	zw.Write(make([]byte, MaxDigestSize))
	zw.Close()
	for _, tc := range []struct {
		name  string
		in    []byte
		err   error
		field string
	}{
		{"not gzip, not JSON", []byte("foo"), ErrSyntax, ""},
		{"gzip'd broken JSON", gz([]byte("{{{")), ErrSyntax, ""},
		{"JSON but not a digest", gz([]byte(`{"foo":"bar"}`)), ErrFormat, "digestPublicKeyFingerprint"},
		{"empty object", gz([]byte(`{}`)), ErrFormat, "digestPublicKeyFingerprint"},
		{"empty file", nil, ErrSyntax, ""},
		{"null", []byte("null"), ErrFormat, ""},
		{"array", []byte("[]"), ErrFormat, ""},
		{"two values", []byte(minimalDigest + `}{}`), ErrSyntax, ""},
		{"truncated gzip", cut, ErrCorrupt, ""},
		{"bad gzip header", append([]byte{0x1f, 0x8b, 9, 9}, sample...), ErrCorrupt, ""},
		{"previousDigestSignature absent", []byte(strings.Replace(minimalDigest, `"previousDigestSignature":null,`, "", 1) + "}"), ErrFormat, "previousDigestSignature"},
		{"end time a number", []byte(strings.Replace(minimalDigest, `"2015-08-17T15:01:31Z"`, "1439823691", 1) + "}"), ErrFormat, "digestEndTime"},
		{"end time not RFC 3339", []byte(strings.Replace(minimalDigest, `"2015-08-17T15:01:31Z"`, `"August 17, 2015"`, 1) + "}"), ErrFormat, "digestEndTime"},
		{"end time empty", []byte(strings.Replace(minimalDigest, `"2015-08-17T15:01:31Z"`, `""`, 1) + "}"), ErrFormat, "digestEndTime"},
		{"bucket null", []byte(strings.Replace(minimalDigest, `"b"`, "null", 1) + "}"), ErrFormat, "digestS3Bucket"},
		{"logFiles not a list", []byte(minimalDigest + `,"logFiles":{}}`), ErrFormat, "logFiles"},
		{"log file without hash", []byte(minimalDigest + `,"logFiles":[{"s3Object":"x"}]}`), ErrFormat, "logFiles[0].hashValue"},
		{"log file null", []byte(minimalDigest + `,"logFiles":[null]}`), ErrFormat, "logFiles[0]."},
		{"too large", big.Bytes(), ErrTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDigest(bytes.NewReader(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tc.err) || pe.Field != tc.field {
				t.Fatalf("ParseDigest = %+v, %v; want a *ParseError of field %q wrapping %v", d, err, tc.field, tc.err)
			}
			if d != nil {
				t.Errorf("a digest with the error: %+v", d)
			}
		})
	}
	if _, err := ParseDigest(strings.NewReader(minimalDigest + `,"logFiles":null}`)); err != nil {
		t.Errorf("the smallest digest: %v", err)
	}
}

// TestParseDigestExactNames checks that member names are matched exactly
// (as the AWS CLI does), not in any letter case as encoding/json would.
func TestParseDigestExactNames(t *testing.T) {
	in := strings.Replace(minimalDigest, `"digestS3Bucket"`, `"DigestS3Bucket"`, 1) + "}"
	if _, err := ParseDigest(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
		t.Errorf("DigestS3Bucket accepted for digestS3Bucket: %v", err)
	}
}
