package evidence

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/casefile"
)

func TestMarshalJSONDropsResultMetadata(t *testing.T) {
	out := &iam.ListUsersOutput{Users: []types.User{{UserName: aws.String("alice"), Arn: aws.String("arn:aws:iam::1:user/alice")}}}
	b, err := MarshalJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "ResultMetadata") || !strings.Contains(s, `"UserName": "alice"`) || !strings.HasSuffix(s, "}\n") {
		t.Fatalf("MarshalJSON = %s", s)
	}
	again, _ := MarshalJSON(out)
	if string(again) != s {
		t.Fatal("MarshalJSON is not deterministic")
	}
}

func TestCaseSinkHaveAndPut(t *testing.T) {
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := CaseSink(c)
	if s.Have("aws/1/x.json", "", 3) {
		t.Fatal("Have before Put")
	}
	src := Source{Service: "s3", API: "GetObject", Bucket: "b", Key: "k", ETag: "e1", Size: 3, RequestTime: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Put("aws/1/x.json", "vpc-flow-log", []byte("abc"), src); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		etag string
		size int64
		want bool
	}{
		{"same etag and size", "e1", 3, true},
		{"any etag", "", 3, true},
		{"other etag", "e2", 3, false},
		{"other size", "e1", 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Have("aws/1/x.json", tt.etag, tt.size); got != tt.want {
				t.Fatalf("Have = %v, want %v", got, tt.want)
			}
		})
	}
	var found bool
	for _, e := range c.Latest() {
		if e.Path == "evidence/aws/1/x.json" {
			found = e.OriginalPath == "s3://b/k" && e.Content == "vpc-flow-log"
		}
	}
	if !found {
		t.Fatalf("manifest lacks the put file with its origin: %+v", c.Latest())
	}
	// a fresh sink reads the manifest
	if !CaseSink(c).Have("aws/1/x.json", "e1", 3) {
		t.Fatal("a new sink does not see what the case holds")
	}
}

func TestIsDenied(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"AccessDenied", &smithy.GenericAPIError{Code: "AccessDenied"}, true},
		{"AccessDeniedException", &smithy.GenericAPIError{Code: "AccessDeniedException"}, true},
		{"UnauthorizedOperation", &smithy.GenericAPIError{Code: "UnauthorizedOperation"}, true},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, false},
		{"network", errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsDenied(tt.err); got != tt.want {
				t.Fatalf("IsDenied(%v) = %v", tt.err, got)
			}
			if got := Answered(tt.err); got != (tt.name != "network") {
				t.Fatalf("Answered(%v) = %v", tt.err, got)
			}
		})
	}
}
