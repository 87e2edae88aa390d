package integrity

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]string
		err  error
	}{
		{"sidecar", `{"signature":"0a1b","signature-algorithm":"SHA256withRSA"}`,
			map[string]string{"signature": "0a1b", "signature-algorithm": "SHA256withRSA"}, nil},
		{"head-object", `{"AcceptRanges":"bytes","ContentLength":912,"ContentType":"application/json",` +
			`"Metadata":{"signature":"0a1b","signature-algorithm":"SHA256withRSA"}}`,
			map[string]string{"signature": "0a1b", "signature-algorithm": "SHA256withRSA"}, nil},
		{"header names", `{"X-Amz-Meta-Signature":"0a1b","x-amz-meta-signature-algorithm":"SHA256"}`,
			map[string]string{"signature": "0a1b", "signature-algorithm": "SHA256"}, nil},
		{"head-object without metadata", `{"ContentLength":912,"Metadata":{}}`, map[string]string{}, nil},
		{"values that are not strings", `{"signature":12,"signature-algorithm":"SHA256withRSA"}`,
			map[string]string{"signature-algorithm": "SHA256withRSA"}, nil},
		{"gzip'd", string(gz([]byte(`{"signature":"0a1b"}`))), map[string]string{"signature": "0a1b"}, nil},
		{"not JSON", `signature=0a1b`, nil, ErrSyntax},
		{"empty", ``, nil, ErrSyntax},
		{"null", `null`, nil, ErrFormat},
		{"a list", `["signature"]`, nil, ErrFormat},
		{"Metadata not an object", `{"Metadata":"x"}`, nil, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMetadata(strings.NewReader(tc.in))
			if tc.err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || !errors.Is(err, tc.err) {
					t.Errorf("err = %v, want a *ParseError wrapping %v", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("ParseMetadata = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
