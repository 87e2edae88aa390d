// Package evidence is what every acquire source shares: the sink its files
// go into (the case, hashed, with provenance), the provenance of an API
// response, the problems AWS answered with (AccessDenied recorded, not
// fatal), and the coverage rows the acquire report prints per source,
// account and region.
package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// ContentAPI is the content type of a stored API response (JSON).
const ContentAPI = "aws-api-response"

// Source is the provenance of one acquired file, kept in the case's manifest
// beside its hash: which service and call produced it, for which account and
// region, with which parameters, and when it was asked. For S3 objects the
// bucket, key, ETag, size, version and metadata say which object it was.
type Source struct {
	Service      string            `json:"service"`
	API          string            `json:"api"`
	Account      string            `json:"account,omitempty"`
	Region       string            `json:"region,omitempty"`
	Params       map[string]string `json:"params,omitempty"` // the request's parameters that matter (never credentials)
	Page         int               `json:"page,omitempty"`   // 1-based page number of a paginated answer
	Bucket       string            `json:"bucket,omitempty"`
	Key          string            `json:"key,omitempty"`
	ETag         string            `json:"etag,omitempty"`
	Size         int64             `json:"size,omitempty"`
	LastModified *time.Time        `json:"last_modified,omitempty"`
	VersionID    string            `json:"version_id,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	RequestTime  time.Time         `json:"request_time"` // UTC
}

// Origin is the manifest's one-line origin for a source:
// "aws:SERVICE:API:ACCOUNT:REGION" or "s3://bucket/key".
func (s Source) Origin() string {
	if s.Bucket != "" && s.Key != "" {
		return "s3://" + s.Bucket + "/" + s.Key
	}
	return fmt.Sprintf("aws:%s:%s:%s:%s", s.Service, s.API, s.Account, s.Region)
}

// Sink is where a source puts what it acquires. Implementations are safe
// for concurrent use.
type Sink interface {
	// Have reports whether the case already holds rel with this size and,
	// when etag is not "", this ETag (S3 objects: a re-run skips them).
	Have(rel, etag string, size int64) bool
	// Put stores data, whole, at rel (under the case's evidence/) with its
	// provenance: either all of it is kept or none. content names the format.
	Put(rel, content string, data []byte, src Source) error
}

// PutJSON stores v as indented JSON, an API response or a snapshot: an
// SDK output struct keeps the API's member names (as the AWS CLI prints
// them), without the SDK's ResultMetadata. Keys of objects come out sorted,
// so the same answer is the same file.
func PutJSON(s Sink, rel string, v any, src Source) error {
	b, err := MarshalJSON(v)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return s.Put(rel, ContentAPI, b, src)
}

// MarshalJSON is PutJSON's encoding: indented, object keys sorted, the
// SDK's ResultMetadata dropped, a final newline.
func MarshalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&generic); err != nil {
		return nil, err
	}
	if m, ok := generic.(map[string]any); ok {
		delete(m, "ResultMetadata")
	}
	out, err := json.MarshalIndent(generic, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// CaseSink stores into a case through Case.AddAcquired: read-only, hashed,
// listed in the manifest with the source.
func CaseSink(c *casefile.Case) Sink { return &caseSink{c: c} }

type caseSink struct {
	c     *casefile.Case
	mu    sync.Mutex
	index map[string]have // by evidence path; nil until the first Have
}

type have struct {
	etag string
	size int64
}

func evidencePath(rel string) string {
	return path.Join(casefile.EvidenceDir, path.Clean("/" + rel)[1:])
}

func (s *caseSink) Have(rel, etag string, size int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index == nil {
		s.index = map[string]have{}
		for _, e := range s.c.Latest() {
			var src Source
			_ = json.Unmarshal(e.Source, &src)
			s.index[e.Path] = have{etag: src.ETag, size: e.Size}
		}
	}
	h, ok := s.index[evidencePath(rel)]
	return ok && h.size == size && (etag == "" || h.etag == etag)
}

func (s *caseSink) Put(rel, content string, data []byte, src Source) error {
	if src.RequestTime.IsZero() {
		src.RequestTime = time.Now().UTC()
	}
	e, err := s.c.AddAcquired(rel, src.Origin(), content, data, src)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.index != nil && e.Path == evidencePath(rel) {
		s.index[e.Path] = have{etag: src.ETag, size: e.Size}
	}
	s.mu.Unlock()
	return nil
}

// Problem is a call AWS refused or that failed, recorded rather than fatal
// so that one denied service or region does not cost the rest.
type Problem struct {
	Service string `json:"service"`
	API     string `json:"api"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	Target  string `json:"target,omitempty"` // the resource asked about, when one was
	Denied  bool   `json:"denied"`           // a permission is missing (AccessDenied or a 403)
	Error   string `json:"error"`
}

// NewProblem records err from a call.
func NewProblem(service, api, account, region, target string, err error) Problem {
	return Problem{Service: service, API: api, Account: account, Region: region, Target: target, Denied: IsDenied(err), Error: err.Error()}
}

// deniedCodes are the error codes AWS services answer with when the caller
// lacks a permission.
var deniedCodes = map[string]bool{
	"AccessDenied":          true, // S3, IAM
	"AccessDeniedException": true, // JSON protocols
	"AllAccessDisabled":     true, // S3
	"UnauthorizedOperation": true, // EC2
	"AuthorizationError":    true, // query protocols
	"UnauthorizedException": true, // some REST-JSON services
}

// IsDenied reports whether err is AWS refusing the call for want of
// permission: an AccessDenied code, or an HTTP 403 without one.
func IsDenied(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" && ae.ErrorCode() != "Forbidden" {
		// a code says what the 403 is: InvalidObjectState (an archived
		// object) is not a missing permission
		return deniedCodes[ae.ErrorCode()]
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}

// Answered reports whether err came from the service (an error response)
// rather than from the network or the caller's context: those are
// recorded as problems, the others end the run.
func Answered(err error) bool {
	var ae smithy.APIError
	var re *awshttp.ResponseError
	return errors.As(err, &ae) || errors.As(err, &re)
}

// Coverage is one row of the acquire report: for a source in an account
// and region, whether it exists there, what was collected and for which
// time range, and what could not be read.
type Coverage struct {
	Source   string    `json:"source"` // "flowlogs", "guardduty", "iam", ...
	Account  string    `json:"account"`
	Region   string    `json:"region"`        // "global" for IAM, Organizations
	Exists   string    `json:"exists"`        // "yes", "no", "unknown" (denied or failed)
	Items    int       `json:"items"`         // findings, events, resources collected
	Files    int       `json:"files"`         // files stored into the case
	Bytes    int64     `json:"bytes"`         // their size
	From     time.Time `json:"from,omitzero"` // the time range the items span, when they have times
	To       time.Time `json:"to,omitzero"`
	Detail   string    `json:"detail,omitempty"` // what exists, in a few words ("2 detectors", "3 flow logs to S3")
	Problems []Problem `json:"problems,omitempty"`
}
