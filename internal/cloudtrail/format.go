package cloudtrail

// Format is the shape of a piece of CloudTrail evidence, detected from its
// content rather than its file name (exports are often renamed).
type Format int

// The formats the Decoder recognises. The zero value means nothing was seen.
const (
	FormatUnknown        Format = iota
	FormatTrailLog              // {"Records":[...]} as a trail writes it to S3
	FormatLookupEvents          // `aws cloudtrail lookup-events` output, one or many pages
	FormatJSONLines             // one event object per line (CloudTrail Lake, SIEM, CloudWatch Logs exports)
	FormatJSONArray             // a JSON array of events
	FormatDigest                // a CloudTrail digest file: kept as evidence, not events
	FormatDigestMetadata        // a digest's S3 metadata sidecar (signature, algorithm)
	FormatPublicKeys            // `aws cloudtrail list-public-keys` output: the keys that sign digests
)

var formatNames = [...]string{
	FormatUnknown:        "unknown",
	FormatTrailLog:       "cloudtrail-log",
	FormatLookupEvents:   "lookup-events",
	FormatJSONLines:      "jsonl",
	FormatJSONArray:      "json-array",
	FormatDigest:         "cloudtrail-digest",
	FormatDigestMetadata: "digest-metadata",
	FormatPublicKeys:     "cloudtrail-public-keys",
}

// String returns the stable name used in the case manifest and the store.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "unknown"
	}
	return formatNames[f]
}

// HasEvents reports whether records of this format are events to load.
func (f Format) HasEvents() bool {
	switch f {
	case FormatTrailLog, FormatLookupEvents, FormatJSONLines, FormatJSONArray:
		return true
	}
	return false
}
