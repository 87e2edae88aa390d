package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/rules"
	"github.com/harrier-ir/harrier/internal/store"
)

// hostileUA is a user agent an attacker chose to attack whoever reads the
// logs in a browser.
const hostileUA = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`

const (
	mallory    = "arn:aws:iam::111122223333:user/mallory"
	alice      = "arn:aws:iam::111122223333:user/alice"
	malloryKey = "AKIAMALLORY000000001"
	aliceKey   = "AKIAALICE00000000001"
)

// rec is one crafted CloudTrail record.
type rec struct {
	id, at, name, source, arn, key, ip, ua, errCode string
	extra                                           map[string]any
}

func (r rec) json() []byte {
	m := map[string]any{"eventVersion": "1.08", "eventID": r.id, "eventName": r.name, "eventSource": r.source,
		"awsRegion": "us-east-1", "sourceIPAddress": r.ip, "userAgent": r.ua, "recipientAccountId": "111122223333",
		"eventType": "AwsApiCall", "readOnly": false}
	if r.at != "" {
		m["eventTime"] = r.at
	}
	if r.arn != "" {
		m["userIdentity"] = map[string]any{"type": "IAMUser", "arn": r.arn, "accountId": "111122223333", "accessKeyId": r.key,
			"userName": r.arn[strings.LastIndex(r.arn, "/")+1:]}
	}
	if r.errCode != "" {
		m["errorCode"], m["errorMessage"] = r.errCode, "denied"
	}
	for k, v := range r.extra {
		m[k] = v
	}
	// CloudTrail writes < and > as they are; so do these records
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(m)
	return bytes.TrimSpace(b.Bytes())
}

// breach is a small case: alice works, mallory (with a stolen key, from
// another IP) looks around, makes herself a key, stops the trail and sends
// a hostile user agent.
func breach() [][]byte {
	var out [][]byte
	for i := 0; i < 8; i++ {
		out = append(out, rec{id: fmt.Sprintf("alice-%d", i), at: fmt.Sprintf("2026-03-10T09:%02d:00Z", i*5), name: []string{"ListBuckets", "DescribeInstances"}[i%2],
			source: "s3.amazonaws.com", arn: alice, key: aliceKey, ip: "198.51.100.7", ua: "aws-cli/2.15"}.json())
	}
	out = append(out,
		rec{id: "m-1", at: "2026-03-10T10:00:00Z", name: "GetCallerIdentity", source: "sts.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66", ua: "python-requests/2.31"}.json(),
		rec{id: "m-2", at: "2026-03-10T10:01:00Z", name: "ListUsers", source: "iam.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66", ua: hostileUA}.json(),
		rec{id: "m-3", at: "2026-03-10T10:02:00Z", name: "CreateAccessKey", source: "iam.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66", ua: "python-requests/2.31",
			extra: map[string]any{"requestParameters": map[string]any{"userName": "svc"}, "responseElements": map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIASVC0000000000001", "userName": "svc"}}}}.json(),
		rec{id: "m-4", at: "2026-03-10T10:03:00Z", name: "StopLogging", source: "cloudtrail.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66", ua: "python-requests/2.31",
			extra: map[string]any{"requestParameters": map[string]any{"name": "main-trail"}}}.json(),
		rec{id: "m-5", at: "2026-03-10T10:04:00Z", name: "DeleteTrail", source: "cloudtrail.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66", ua: "python-requests/2.31", errCode: "AccessDenied"}.json(),
		rec{id: "svc-1", at: "2026-03-10T10:05:00Z", name: "ListBuckets", source: "s3.amazonaws.com", arn: "arn:aws:iam::111122223333:user/svc", key: "AKIASVC0000000000001", ip: "192.0.2.200", ua: "aws-sdk-go-v2"}.json(),
	)
	return out
}

// openCase stores files' records (as LoadRecords does for each evidence
// file), runs the built-in rule pack over them and stores its findings as
// `harrier hunt` does, then reopens the store read-only, as serve does.
func openCase(t testing.TB, files map[string][][]byte, hunt bool) (*store.Store, string) {
	t.Helper()
	return openVerifiedCase(t, files, hunt, nil)
}

// openVerifiedCase is openCase with what `harrier verify` recorded of the
// evidence files (nil: never verified).
func openVerifiedCase(t testing.TB, files map[string][][]byte, hunt bool, verified []store.IntegrityFlag) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "harrier.duckdb")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := st.LoadRecords(ctx, name, files[name], time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	if hunt {
		c, err := rules.Load()
		if err != nil {
			t.Fatal(err)
		}
		rs, err := detect.Build(c, func(string) string { return rules.Source })
		if err != nil {
			t.Fatal(err)
		}
		run, err := detect.Hunt(ctx, st, rs)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 20, 1, 0, 0, 0, time.UTC)
		if _, err := run.Save(ctx, detect.HuntInfo{Started: at, Finished: at}, run.Hits); err != nil {
			t.Fatal(err)
		}
		run.Close()
	}
	if verified != nil {
		if err := st.SetIntegrity(ctx, verified, time.Date(2026, 3, 20, 2, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// sandboxed, as serve opens it: no query of the UI may need more
	ro, err := store.Open(ctx, path, store.Options{ReadOnly: true, Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro, path
}

const testToken = "0123456789abcdef0123456789abcdef"

// serve starts the UI over st on a loopback port.
func serve(t testing.TB, st *store.Store) (*Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	s, err := New(st, ts.Listener.Addr().String(), Options{Token: testToken, CaseName: "acme-2026-03"})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	return s, ts
}

// getJSON asks the server as the page does (with the token's header) and
// decodes the answer into v; it returns the status.
func getJSON(t testing.TB, s *Server, path string, v any) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = s.addr.String()
	req.Header.Set(TokenHeader, s.token)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code == http.StatusOK && v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, w.Body.String())
		}
	}
	return w.Code
}
