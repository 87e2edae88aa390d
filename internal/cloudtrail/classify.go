package cloudtrail

import (
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-json"
)

type objKind int

const (
	objUnknown objKind = iota
	objEvent
	objLookupItem
	objDigest
	objDigestMetadata
	objSmallContainer
	objEventBridge
	objPublicKeys
)

// objectKind tells what a top-level JSON object is from its keys. firstKey,
// when the caller already read it, settles the common cases without a
// second parse: CloudTrail writes eventVersion first in every event.
func objectKind(raw, firstKey []byte) objKind {
	switch string(firstKey) {
	case `"eventVersion"`:
		return objEvent
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return objUnknown
	}
	has := func(k string) bool { _, ok := keys[k]; return ok }
	isArray := func(k string) bool { v := keys[k]; return len(v) > 0 && v[0] == '[' }
	switch {
	case has("CloudTrailEvent"):
		return objLookupItem
	case isArray("Records") || isArray("Events"):
		return objSmallContainer
	case has("eventVersion") || has("eventTime") || has("eventName") || has("eventID") || has("eventSource"):
		return objEvent
	case has("detail-type") && isObject(keys["detail"]) && eventBridgeDetail(raw) != nil:
		return objEventBridge
	case has("digestStartTime") || has("digestEndTime") || has("logFiles") || has("digestS3Object"):
		return objDigest
	case has("signature") && has("signature-algorithm"), isObject(keys["Metadata"]) && metadataHasSignature(keys["Metadata"]):
		return objDigestMetadata
	case isArray("PublicKeyList"):
		return objPublicKeys
	}
	return objUnknown
}

func isObject(v json.RawMessage) bool { return len(v) > 0 && v[0] == '{' }

// metadataHasSignature tells a digest's S3 metadata as `aws s3api
// head-object` prints it ({"Metadata": {"signature": ...}, ...}).
func metadataHasSignature(m json.RawMessage) bool {
	var md map[string]json.RawMessage
	if json.Unmarshal(m, &md) != nil {
		return false
	}
	for k := range md {
		if strings.EqualFold(strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-"), "signature") {
			return true
		}
	}
	return false
}

// eventBridgeDetail returns the CloudTrail event inside an EventBridge
// envelope ("detail-type": "AWS API Call via CloudTrail", "detail": {...}),
// exactly as it stands there, or nil when the detail is not an event.
func eventBridgeDetail(raw []byte) []byte {
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &env) != nil || !isObject(env.Detail) {
		return nil
	}
	if k := objectKind(env.Detail, nil); k != objEvent {
		return nil
	}
	return env.Detail
}

// keyList names up to eight keys of an object, for error messages.
func keyList(raw []byte) string {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return "(unreadable)"
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		if len(k) > 40 {
			k = k[:40] + "…"
		}
		names = append(names, strconv.Quote(k))
	}
	sort.Strings(names)
	more := ""
	if len(names) > 8 {
		more = ", …"
		names = names[:8]
	}
	if len(names) == 0 {
		return "{} (none)"
	}
	return "[" + strings.Join(names, ", ") + more + "]"
}
