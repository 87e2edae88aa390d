package integrity

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The S3 user metadata CloudTrail sets on a digest object.
const (
	MetaSignature          = "signature"           // hex RSA signature of the digest's string to sign
	MetaSignatureAlgorithm = "signature-algorithm" // "SHA256withRSA"
)

// maxSidecarSize bounds a metadata sidecar: a few hundred bytes of
// signature, or a head-object response.
const maxSidecarSize = 1 << 20

// ParseMetadata reads a digest's metadata sidecar: either the metadata
// itself, {"signature": "<hex>", "signature-algorithm": "SHA256withRSA"},
// or what `aws s3api head-object` prints, with the metadata under
// "Metadata". Names are returned in lower case without an "x-amz-meta-"
// prefix; values that are not strings are left out. A sidecar without a
// signature is not an error here: Verify reports the digest as unsigned.
func ParseMetadata(r io.Reader) (map[string]string, error) {
	c, err := newContent(r)
	if err != nil {
		return nil, &ParseError{Offset: 0, Err: err}
	}
	defer c.close()
	b, err := io.ReadAll(io.LimitReader(c, maxSidecarSize+1))
	if err != nil {
		return nil, &ParseError{Offset: c.n, Err: err}
	}
	if len(b) > maxSidecarSize {
		return nil, &ParseError{Offset: maxSidecarSize, Err: fmt.Errorf("%w: over %d bytes", ErrTooLarge, maxSidecarSize)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, jsonError(b, err)
	}
	if top == nil {
		return nil, &ParseError{Offset: 0, Err: fmt.Errorf("%w: null instead of an object", ErrFormat)}
	}
	if raw, ok := top["Metadata"]; ok {
		var meta map[string]json.RawMessage
		if err := json.Unmarshal(raw, &meta); err != nil || meta == nil {
			return nil, &ParseError{Offset: -1, Field: "Metadata", Err: fmt.Errorf("%w: not an object", ErrFormat)}
		}
		top = meta
	}
	out := make(map[string]string, len(top))
	for k, raw := range top {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[metaName(k)] = s
		}
	}
	return out, nil
}

func metaName(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	return strings.TrimPrefix(k, "x-amz-meta-")
}

// normalizeMeta gives metadata recorded elsewhere the names ParseMetadata
// gives: lower case, no "x-amz-meta-" prefix.
func normalizeMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[metaName(k)] = v
	}
	return out
}
