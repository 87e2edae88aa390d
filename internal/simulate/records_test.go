package simulate

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// recordOrder is CloudTrail's key order for the top level of a record.
var recordOrder = []string{
	"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
	"userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData",
	"requestID", "eventID", "readOnly", "resources", "eventType", "managementEvent", "recipientAccountId",
	"sharedEventID", "serviceEventDetails", "eventCategory", "tlsDetails", "sessionCredentialFromConsole",
}

var identityOrder = []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "sessionContext", "invokedBy", "identityProvider"}

var (
	reUUID      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reTime      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	reAccount   = regexp.MustCompile(`^\d{12}$`)
	reKey       = regexp.MustCompile(`^(AKIA|ASIA)[A-Z2-7]{16}$`)
	reUserID    = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	reRoleSess  = regexp.MustCompile(`^AROA[A-Z2-7]{17}:[\w+=,.@-]+$`)
	reS3ReqID   = regexp.MustCompile(`^[0-9A-F]{16}$`)
	reService   = regexp.MustCompile(`^[a-z0-9-]+\.amazonaws\.com$`)
	reVersion   = regexp.MustCompile(`^1\.0[89]$`)
	reRegion    = regexp.MustCompile(`^[a-z]{2}-[a-z]+-\d$`)
	reUserARN   = regexp.MustCompile(`^arn:aws:iam::\d{12}:user/[\w+=,.@-]+$`)
	reAssumedAR = regexp.MustCompile(`^arn:aws:sts::\d{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+$`)
)

func TestRecordsHaveCloudTrailShape(t *testing.T) {
	t.Parallel()
	_, logs := fixture(t)
	seen := map[string]bool{}
	shapes := map[string]bool{} // key order is checked once per kind of record
	for _, f := range logs {
		for _, r := range f.records {
			shape := str(r.m, "eventName") + "/" + str(r.m, "userIdentity.type") + "/" + str(r.m, "errorCode") + "/" + str(r.m, "eventCategory")
			for _, problem := range checkRecord(t, r, !shapes[shape]) {
				t.Errorf("%s: %s\n%s", f.rel, problem, r.raw)
			}
			id := str(r.m, "eventID")
			if seen[id] {
				t.Errorf("%s: duplicate eventID %s", f.rel, id)
			}
			seen[id] = true
			shapes[shape] = true
		}
	}
}

// checkRecord returns what is wrong with one record.
func checkRecord(t *testing.T, r logRecord, checkOrder bool) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	m := r.m
	if checkOrder {
		if keys := topKeys(t, r.raw); !ordered(keys, recordOrder) {
			fail("keys %v not in CloudTrail order", keys)
		}
	}
	for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "requestParameters", "responseElements", "eventID", "eventType",
		"managementEvent", "recipientAccountId", "eventCategory"} {
		if _, ok := m[k]; !ok {
			fail("missing %s", k)
		}
	}
	checks := []struct {
		path string
		re   *regexp.Regexp
	}{
		{"eventVersion", reVersion}, {"eventTime", reTime}, {"eventID", reUUID}, {"recipientAccountId", reAccount},
		{"awsRegion", reRegion}, {"eventSource", reService},
	}
	for _, c := range checks {
		if v := str(m, c.path); !c.re.MatchString(v) {
			fail("%s = %q", c.path, v)
		}
	}
	eventType := str(m, "eventType")
	switch eventType {
	case "AwsApiCall":
		id := str(m, "requestID")
		if !reUUID.MatchString(id) && !reS3ReqID.MatchString(id) {
			fail("requestID = %q", id)
		}
		if _, ok := m["readOnly"].(bool); !ok {
			fail("readOnly missing")
		}
	case "AwsConsoleSignIn":
		if _, ok := m["requestID"]; ok {
			fail("sign-in event with a requestID")
		}
	case "AwsServiceEvent":
	default:
		fail("eventType = %q", eventType)
	}
	mgmt, _ := m["managementEvent"].(bool)
	if cat := str(m, "eventCategory"); (cat == "Management") != mgmt || (cat != "Management" && cat != "Data") {
		fail("eventCategory %q with managementEvent %v", cat, m["managementEvent"])
	}
	if !mgmt {
		if !hasResource(m, "AWS::S3::Bucket") || str(m, "eventSource") != "s3.amazonaws.com" {
			fail("data event without an S3 bucket resource")
		}
		if _, ok := get(m, "additionalEventData.bytesTransferredOut").(json.Number); !ok {
			fail("S3 data event without bytesTransferredOut")
		}
	}
	ip := str(m, "sourceIPAddress")
	if net.ParseIP(ip) == nil && !reService.MatchString(ip) && ip != "AWS Internal" {
		fail("sourceIPAddress = %q", ip)
	}
	if code := str(m, "errorCode"); code != "" && str(m, "errorMessage") == "" {
		fail("errorCode %s without errorMessage", code)
	}
	if s := string(r.raw); strings.Contains(s, "secretAccessKey") || strings.Contains(s, "sessionToken") {
		fail("record carries secret material")
	}
	if tls, ok := m["tlsDetails"].(map[string]any); ok {
		if tls["tlsVersion"] == nil || tls["cipherSuite"] == nil || tls["clientProvidedHostHeader"] == nil {
			fail("incomplete tlsDetails")
		}
	}
	if v, ok := m["sessionCredentialFromConsole"]; ok && v != "true" {
		fail("sessionCredentialFromConsole = %v", v)
	}
	bad = append(bad, checkIdentity(t, r, checkOrder)...)
	return bad
}

// checkIdentity validates userIdentity by type.
func checkIdentity(t *testing.T, r logRecord, checkOrder bool) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	id, _ := r.m["userIdentity"].(map[string]any)
	if checkOrder {
		var rawID struct{ UserIdentity json.RawMessage }
		if err := json.Unmarshal(r.raw, &rawID); err != nil {
			return []string{err.Error()}
		}
		if keys := topKeys(t, rawID.UserIdentity); !ordered(keys, identityOrder) {
			fail("userIdentity keys %v out of order", keys)
		}
	}
	if k := str(id, "accessKeyId"); k != "" && !reKey.MatchString(k) {
		fail("accessKeyId = %q", k)
	}
	switch typ := str(id, "type"); typ {
	case "IAMUser":
		if !reUserID.MatchString(str(id, "principalId")) || str(id, "userName") == "" {
			fail("IAMUser principal %q user %q", str(id, "principalId"), str(id, "userName"))
		}
		if arn := str(id, "arn"); arn != "" && !reUserARN.MatchString(arn) {
			fail("IAMUser arn %q", arn)
		}
		if str(r.m, "eventType") == "AwsApiCall" && str(id, "accessKeyId") == "" {
			fail("IAMUser API call without an access key")
		}
	case "AssumedRole":
		if !reRoleSess.MatchString(str(id, "principalId")) || !reAssumedAR.MatchString(str(id, "arn")) {
			fail("AssumedRole principal %q arn %q", str(id, "principalId"), str(id, "arn"))
		}
		if !strings.HasPrefix(str(id, "accessKeyId"), "ASIA") {
			fail("role session with key %q", str(id, "accessKeyId"))
		}
		if str(id, "sessionContext.sessionIssuer.type") != "Role" || !reTime.MatchString(str(id, "sessionContext.attributes.creationDate")) {
			fail("AssumedRole without issuer or creation date")
		}
		if mfa := str(id, "sessionContext.attributes.mfaAuthenticated"); mfa != "true" && mfa != "false" {
			fail("mfaAuthenticated = %q", mfa)
		}
	case "AWSAccount":
		if !reRoleSess.MatchString(str(id, "principalId")) || !reAccount.MatchString(str(id, "accountId")) || id["arn"] != nil {
			fail("AWSAccount identity %v", id)
		}
	case "AWSService":
		if !reService.MatchString(str(id, "invokedBy")) {
			fail("AWSService invokedBy %q", str(id, "invokedBy"))
		}
	case "WebIdentityUser":
		if !strings.HasPrefix(str(id, "identityProvider"), "arn:aws:iam::") {
			fail("WebIdentityUser provider %q", str(id, "identityProvider"))
		}
	case "":
		if str(id, "invokedBy") != "AWS Internal" || str(r.m, "eventType") != "AwsServiceEvent" {
			fail("identity without type outside an AWS service event")
		}
	default:
		fail("userIdentity.type = %q", typ)
	}
	return bad
}

// ordered reports whether keys appear in the relative order of canon and
// are all known.
func ordered(keys, canon []string) bool {
	last := -1
	for _, k := range keys {
		i := slices.Index(canon, k)
		if i <= last {
			return false
		}
		last = i
	}
	return true
}

func hasResource(m map[string]any, typ string) bool {
	rs, _ := m["resources"].([]any)
	for _, x := range rs {
		if r, ok := x.(map[string]any); ok && r["type"] == typ {
			return true
		}
	}
	return false
}
