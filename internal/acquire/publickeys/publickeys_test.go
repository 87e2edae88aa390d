package publickeys

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

// server answers ListPublicKeys as CloudTrail's JSON 1.1 protocol does: a
// POST with X-Amz-Target, blobs as base64, times as epoch seconds. Two
// pages, to exercise NextToken.
func server(t *testing.T, fail bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), "CloudTrail_20131101.ListPublicKeys") {
			t.Errorf("unexpected request %s %s", r.Method, r.Header.Get("X-Amz-Target"))
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if fail {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to perform cloudtrail:ListPublicKeys"}`)
			return
		}
		var in struct {
			NextToken string
			StartTime float64
		}
		json.Unmarshal(body, &in)
		if in.StartTime != 1772323200 { // 2026-03-01T00:00:00Z
			t.Errorf("StartTime %v", in.StartTime)
		}
		if in.NextToken == "" {
			io.WriteString(w, `{"PublicKeyList":[{"Value":"AQID","ValidityStartTime":1772323200,"ValidityEndTime":1775001600,"Fingerprint":"aa"}],"NextToken":"p2"}`)
			return
		}
		io.WriteString(w, `{"PublicKeyList":[{"Value":"BAUG","ValidityStartTime":1775001600,"ValidityEndTime":1777593600,"Fingerprint":"bb"}]}`)
	}))
}

func client(url string) *cloudtrail.Client {
	return cloudtrail.New(cloudtrail.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func TestFetch(t *testing.T) {
	srv := server(t, false)
	defer srv.Close()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b, err := Fetch(context.Background(), client(srv.URL), start, start.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"PublicKeyList":[{"Value":"AQID","ValidityStartTime":"2026-03-01T00:00:00Z","ValidityEndTime":"2026-04-01T00:00:00Z","Fingerprint":"aa"},{"Value":"BAUG","ValidityStartTime":"2026-04-01T00:00:00Z","ValidityEndTime":"2026-05-01T00:00:00Z","Fingerprint":"bb"}]}`
	var got, exp any
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(want), &exp)
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if string(gb) != string(eb) {
		t.Errorf("got %s\nwant %s", gb, eb)
	}
}

func TestFetchAccessDenied(t *testing.T) {
	srv := server(t, true)
	defer srv.Close()
	_, err := Fetch(context.Background(), client(srv.URL), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	var api interface{ ErrorCode() string }
	if err == nil || !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" || !strings.Contains(err.Error(), "ListPublicKeys") {
		t.Errorf("error %v", err)
	}
}
