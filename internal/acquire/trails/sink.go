package trails

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// Source is the provenance of one acquired S3 object, kept in the case's
// manifest beside its hash: where it was, which version of it, and when it
// was read.
type Source struct {
	Service      string            `json:"service"` // "s3"
	API          string            `json:"api"`     // "GetObject"
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	ETag         string            `json:"etag"` // without S3's quotes
	Size         int64             `json:"size"`
	LastModified time.Time         `json:"last_modified"` // UTC
	VersionID    string            `json:"version_id"`
	Metadata     map[string]string `json:"metadata,omitempty"` // the object's S3 user metadata (a digest's signature)
	Org          string            `json:"org,omitempty"`      // the layout's account, region and organisation
	Account      string            `json:"account,omitempty"`
	Region       string            `json:"region,omitempty"`
	Part         string            `json:"part,omitempty"` // "metadata" for a digest's sidecar, made from the object's headers
	RequestTime  time.Time         `json:"request_time"`   // UTC
}

// Sink is where Collect puts what it downloads.
type Sink interface {
	// Have reports whether the object was already acquired at rel with
	// this ETag and size, so need not be downloaded again.
	Have(rel, etag string, size int64) bool
	// Put stores data, whole, at rel with its provenance: either all of it
	// is kept or none. content names its format (cloudtrail.Format's names).
	// Collect calls it from several goroutines at once.
	Put(rel, content string, data []byte, src Source) error
}

// CaseSink stores into a case's evidence, read-only and hashed, through
// Case.AddAcquired. It reads the manifest once, on the first Have, and keeps
// track of what it adds; it assumes no one else adds acquired S3 objects to
// the case meanwhile (the case's lock sees to it across processes).
func CaseSink(c *casefile.Case) Sink { return &caseSink{c: c} }

type caseSink struct {
	c     *casefile.Case
	mu    sync.Mutex
	index map[string][]have // by evidence path without a ".harrier-…" suffix; nil until the first Have
}

type have struct {
	etag string
	size int64
}

// alternative matches the suffix AddAcquired gives a second, different
// object landing on the same path.
var alternative = regexp.MustCompile(`\.harrier-[0-9a-f]{12}$`)

// evidencePath is where AddAcquired puts rel.
func evidencePath(rel string) string {
	return path.Join(casefile.EvidenceDir, path.Clean("/" + rel)[1:])
}

func (s *caseSink) Have(rel, etag string, size int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index == nil {
		s.index = map[string][]have{}
		for _, e := range s.c.Latest() {
			s.add(e)
		}
	}
	for _, h := range s.index[evidencePath(rel)] {
		if h.etag == unquote(etag) && h.size == size {
			return true
		}
	}
	return false
}

func (s *caseSink) Put(rel, content string, data []byte, src Source) error {
	e, err := s.c.AddAcquired(rel, "s3://"+src.Bucket+"/"+src.Key, content, data, src)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index != nil {
		s.add(e)
	}
	return nil
}

// add indexes a manifest entry that came from S3 (s.mu held).
func (s *caseSink) add(e casefile.Entry) {
	var src struct {
		ETag string `json:"etag"`
		Size *int64 `json:"size"`
	}
	if len(e.Source) == 0 || json.Unmarshal(e.Source, &src) != nil || src.ETag == "" || src.Size == nil {
		return
	}
	p := alternative.ReplaceAllString(e.Path, "")
	s.index[p] = append(s.index[p], have{etag: src.ETag, size: *src.Size})
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
