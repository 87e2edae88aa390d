package trails

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// The seeded bucket: a trail with key prefix "ct" delivering for two
// accounts in the plain layout and one under an organisation, in two
// regions, on five days around a three-day window, two logs and one digest
// per account, region and day. Noise beside it must never be listed.
const (
	bucket    = "harrier-trail-bucket"
	keyPrefix = "ct"
	acctA     = "111111111111"
	acctB     = "222222222222"
	acctOrg   = "333333333333"
	orgID     = "o-abc123"
	trailName = "mgmt"
)

var (
	seedRegions = []string{"eu-west-1", "us-east-1"}
	seedDays    = []time.Time{day(2, 28), day(3, 1), day(3, 2), day(3, 3), day(3, 4)}
	noise       = []string{
		keyPrefix + "/AWSLogs/" + acctA + "/vpcflowlogs/us-east-1/2026/03/01/flow.log.gz",
		"other/AWSLogs/" + acctA + "/CloudTrail/us-east-1/2026/03/01/" + acctA + "_CloudTrail_us-east-1_20260301T0000Z_x.json.gz",
	}
)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

// seeded is one object put in the bucket.
type seeded struct {
	key          string
	kind         string
	org, account string
	region       string
	day          time.Time
	signature    string // digests only
}

// seedObjects lists the trail's objects, sorted by key.
func seedObjects() []seeded {
	var out []seeded
	for _, a := range []struct{ org, account string }{{"", acctA}, {"", acctB}, {orgID, acctOrg}} {
		root := keyPrefix + "/AWSLogs/" + a.account + "/"
		if a.org != "" {
			root = keyPrefix + "/AWSLogs/" + a.org + "/" + a.account + "/"
		}
		for _, r := range seedRegions {
			for _, d := range seedDays {
				folder := d.Format("2006/01/02/")
				for h := 1; h <= 2; h++ {
					at := d.Add(time.Duration(h) * time.Hour)
					out = append(out, seeded{kind: kindLog, org: a.org, account: a.account, region: r, day: d,
						key: fmt.Sprintf("%s%s/%s/%s%s_CloudTrail_%s_%s_h%dXYZ.json.gz", root, kindLog, r, folder, a.account, r, at.Format("20060102T1504Z"), h)})
				}
				end := d.Add(3 * time.Hour)
				out = append(out, seeded{kind: kindDigest, org: a.org, account: a.account, region: r, day: d,
					signature: fmt.Sprintf("%x", []byte(a.account+r+end.Format(time.RFC3339))),
					key:       fmt.Sprintf("%s%s/%s/%s%s_CloudTrail-Digest_%s_%s_us-east-1_%s.json.gz", root, kindDigest, r, folder, a.account, r, trailName, end.Format("20060102T150405Z"))})
			}
		}
	}
	return out
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// body is an object's content: a one-event log, or a digest naming no
// files, enough for their formats to be recognised.
func (o seeded) body(t *testing.T) []byte {
	if o.kind == kindDigest {
		return gz(t, fmt.Sprintf(`{"awsAccountId":%q,"digestStartTime":"%s","digestEndTime":"%s","digestS3Bucket":%q,"digestS3Object":%q,"digestSignatureAlgorithm":"SHA256withRSA","logFiles":[]}`,
			o.account, o.day.Format(time.RFC3339), o.day.Add(3*time.Hour).Format(time.RFC3339), bucket, o.key))
	}
	return gz(t, fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","eventTime":"%s","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":%q,"recipientAccountId":%q,"eventID":%q}]}`,
		o.day.Add(time.Hour).Format(time.RFC3339), o.region, o.account, o.key))
}

// seed creates the bucket and puts the trail's objects and the noise.
func seed(t *testing.T, api *s3.Client) []seeded {
	t.Helper()
	ctx := context.Background()
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	objs := seedObjects()
	put := func(key string, data []byte, meta map[string]string) {
		_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(data), ContentType: aws.String("application/json"), ContentEncoding: aws.String("gzip"), Metadata: meta})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	for _, o := range objs {
		var meta map[string]string
		if o.kind == kindDigest {
			meta = map[string]string{"signature": o.signature, "signature-algorithm": "SHA256withRSA"}
		}
		put(o.key, o.body(t), meta)
	}
	for _, k := range noise {
		put(k, gz(t, "noise"), nil)
	}
	return objs
}

// recorder stands between the SDK and moto_server: it records the S3
// calls made and answers as S3 does, with AccessDenied, for listings under
// denyList and objects under denyGet.
type recorder struct {
	srv               *httptest.Server
	denyList, denyGet string

	mu    sync.Mutex
	lists []listCall
	gets  []string
}

type listCall struct{ prefix, delimiter string }

func newRecorder(t *testing.T, moto string) *recorder {
	t.Helper()
	target, err := url.Parse(moto)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{Proxy: nil}
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		bucketPath, key, isObject := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
		q := req.URL.Query()
		denied := false
		r.mu.Lock()
		switch {
		case req.Method == http.MethodGet && !isObject && q.Get("list-type") == "2":
			r.lists = append(r.lists, listCall{q.Get("prefix"), q.Get("delimiter")})
			denied = r.denyList != "" && strings.HasPrefix(q.Get("prefix"), r.denyList)
		case req.Method == http.MethodGet && isObject && bucketPath == bucket:
			r.gets = append(r.gets, key)
			denied = r.denyGet != "" && strings.HasPrefix(key, r.denyGet)
		}
		r.mu.Unlock()
		if denied {
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("x-amz-request-id", "HARRIERDENIED0001")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
				`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>HARRIERDENIED0001</RequestId><HostId>aGFycmllcg==</HostId></Error>`)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// take returns and forgets the calls recorded so far.
func (r *recorder) take() ([]listCall, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, g := r.lists, r.gets
	r.lists, r.gets = nil, nil
	return l, g
}

// env is moto_server, seeded, behind a recorder, and an S3 client that goes
// through the recorder.
type env struct {
	moto  *awstest.Server
	rec   *recorder
	s3    *s3.Client
	objs  []seeded
	trail Trail
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := awstest.Moto(t)
	e := &env{moto: srv, rec: newRecorder(t, srv.URL)}
	e.objs = seed(t, s3.NewFromConfig(awstest.Config(srv.URL), awstest.PathStyle))
	e.s3 = s3.NewFromConfig(awstest.Config(e.rec.srv.URL), awstest.PathStyle)
	e.trail = Trail{Name: trailName, ARN: "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/" + trailName,
		HomeRegion: "us-east-1", Bucket: bucket, Prefix: keyPrefix}
	e.rec.take() // forget the seeding
	return e
}
