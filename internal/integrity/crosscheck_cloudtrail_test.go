package integrity

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crossCloudTrail answers the CloudTrail and Organizations calls of
// validate-logs exactly as the services do on the wire (awsJson1_1: POST
// /, X-Amz-Target naming the operation, JSON bodies, blobs in base64,
// timestamps in epoch seconds), from the trails, keys and organisation of
// the scenario at hand. Anything else is answered with
// UnknownOperationException and recorded.
type crossCloudTrail struct {
	srv    *httptest.Server
	mu     sync.Mutex
	trails []map[string]any
	keys   []PublicKey
	org    string
	calls  []crossCall
	bad    []string // requests the real services would have refused
}

// The X-Amz-Target prefixes of the two services.
const (
	crossCTTarget  = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	crossOrgTarget = "AWSOrganizationsV20161128."
)

func newCrossCloudTrail(t *testing.T) *crossCloudTrail {
	f := &crossCloudTrail{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// set gives the fake the scenario's trails (delivering the chains of trs),
// public keys and organisation.
func (f *crossCloudTrail) set(trs []trail, keys []PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trails, f.keys, f.org = nil, keys, ""
	seen := map[string]bool{}
	for _, tr := range trs {
		arn := crossTrailARN(tr)
		if seen[arn] {
			continue
		}
		seen[arn] = true
		t := map[string]any{"Name": tr.name, "S3BucketName": tr.bucket, "TrailARN": arn, "HomeRegion": tr.home,
			"IncludeGlobalServiceEvents": true, "IsMultiRegionTrail": true, "IsOrganizationTrail": tr.org != "",
			"LogFileValidationEnabled": true, "HasCustomEventSelectors": false, "HasInsightSelectors": false}
		if tr.prefix != "" {
			t["S3KeyPrefix"] = tr.prefix
		}
		f.trails = append(f.trails, t)
		if tr.org != "" {
			f.org = tr.org
		}
	}
}

// take returns the calls since the last take, and those of them the
// services would have refused.
func (f *crossCloudTrail) take() ([]crossCall, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls, bad := f.calls, f.bad
	f.calls, f.bad = nil, nil
	return calls, bad
}

func (f *crossCloudTrail) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	target := r.Header.Get("X-Amz-Target")
	c := crossCall{Op: strings.TrimPrefix(strings.TrimPrefix(target, crossCTTarget), crossOrgTarget)}.signedFor(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	fail := func(status int, typ, msg string) {
		f.bad = append(f.bad, fmt.Sprintf("%s %s %s: %s", r.Method, r.URL, target, msg))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		fail(http.StatusNotFound, "UnknownOperationException", "not POST /")
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		fail(http.StatusBadRequest, "SerializationException", "Content-Type "+r.Header.Get("Content-Type"))
		return
	case c.Region == "":
		fail(http.StatusForbidden, "MissingAuthenticationTokenException", "no SigV4 signature")
		return
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		fail(http.StatusBadRequest, "SerializationException", "body is not a JSON object: "+string(body))
		return
	}
	var out any
	switch target {
	case crossCTTarget + "DescribeTrails":
		out = map[string]any{"trailList": orEmpty(f.trails)}
	case crossCTTarget + "ListPublicKeys":
		start, end, err := crossEpochRange(in)
		if err != nil {
			fail(http.StatusBadRequest, "InvalidTimeRangeException", err.Error())
			return
		}
		list := []map[string]any{}
		for _, k := range f.keys {
			if (!end.IsZero() && k.ValidityStart.After(end)) || (!start.IsZero() && !k.ValidityEnd.IsZero() && k.ValidityEnd.Before(start)) {
				continue
			}
			list = append(list, map[string]any{
				"Value":             base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(k.Key)),
				"ValidityStartTime": k.ValidityStart.Unix(), "ValidityEndTime": k.ValidityEnd.Unix(),
				"Fingerprint": k.Fingerprint})
		}
		out = map[string]any{"PublicKeyList": list}
	case crossOrgTarget + "DescribeOrganization":
		if f.org == "" {
			fail(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
			return
		}
		out = map[string]any{"Organization": map[string]any{"Id": f.org,
			"Arn":              "arn:aws:organizations::" + crossOrgAccount + ":organization/" + f.org,
			"FeatureSet":       "ALL",
			"MasterAccountArn": "arn:aws:organizations::" + crossOrgAccount + ":account/" + f.org + "/" + crossOrgAccount,
			"MasterAccountId":  crossOrgAccount, "MasterAccountEmail": "security@example.com",
			"AvailablePolicyTypes": []any{}}}
	default:
		fail(http.StatusBadRequest, "UnknownOperationException", "operation not served by the fake")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000001")
	json.NewEncoder(w).Encode(out)
}

// crossEpochRange reads ListPublicKeys' StartTime and EndTime, which the JSON
// protocol sends as epoch seconds.
func crossEpochRange(in map[string]json.RawMessage) (time.Time, time.Time, error) {
	var ts [2]time.Time
	for i, name := range []string{"StartTime", "EndTime"} {
		raw, ok := in[name]
		if !ok {
			continue
		}
		secs, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%s %s is not epoch seconds", name, raw)
		}
		ts[i] = time.Unix(int64(secs), 0).UTC()
	}
	if !ts[0].IsZero() && !ts[1].IsZero() && ts[1].Before(ts[0]) {
		return time.Time{}, time.Time{}, fmt.Errorf("EndTime %s before StartTime %s", ts[1], ts[0])
	}
	return ts[0], ts[1], nil
}
