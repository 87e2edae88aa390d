package integrity

import (
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// File is one piece of evidence offered to Verify: a digest, a digest's
// metadata sidecar (its name ends in ".metadata.json"), or a log file
// (anything else).
type File struct {
	// Path is where the file is, a case path or an absolute path; it names
	// the file in problems and is not opened by Verify.
	Path string
	// Key is the file's S3 key as CloudTrail's layout names it, from
	// "AWSLogs/" on; KeyFromPath(Path) when empty. Digests name log files
	// and one another by key, and a key matches any object name it is a
	// suffix of at a "/", so a file copied by hand under its bare name
	// still verifies.
	Key string
	// Bucket is the S3 bucket the file was acquired from, when known. A
	// digest acquired from a bucket other than its own digestS3Bucket is
	// reported as moved.
	Bucket string
	// Open returns the file's bytes as stored (gzip'd or not).
	Open func() (io.ReadCloser, error)
	// Meta is the object's S3 user metadata when the acquisition recorded
	// it ("signature", "signature-algorithm"; an "x-amz-meta-" prefix and
	// letter case are ignored). It takes the place of a sidecar.
	Meta map[string]string
}

// SidecarSuffix ends the name of the file holding a digest's S3 metadata:
// DIGEST.json.gz.metadata.json sits beside DIGEST.json.gz.
const SidecarSuffix = ".metadata.json"

// alternative matches the suffix casefile gives a second, different copy
// of evidence that would otherwise land on the same path.
var alternative = regexp.MustCompile(`\.harrier-[0-9a-f]{12}$`)

// KeyFromPath derives a file's S3 key from where it is: the part from the
// last "AWSLogs/" path element on, or the file's base name when the path
// has none (a file copied by hand). The suffix a case gives a differing
// second copy of the same object (".harrier-" and 12 hex digits) is
// removed, so that both copies are checked against the same digest entry.
func KeyFromPath(p string) string {
	p = alternative.ReplaceAllString(filepath.ToSlash(p), "")
	if strings.HasPrefix(p, "AWSLogs/") {
		return p
	}
	if i := strings.LastIndex(p, "/AWSLogs/"); i >= 0 {
		return p[i+1:]
	}
	return path.Base(p)
}

// matchKey reports whether the file with key names the S3 object obj: the
// same, or a suffix of it starting after a "/" (the object may carry the
// trail's S3 key prefix, the key may be only a base name).
func matchKey(obj, key string) bool {
	return obj == key || (len(obj) > len(key) && strings.HasSuffix(obj, key) && obj[len(obj)-len(key)-1] == '/')
}

type fileKind int

const (
	kindLog fileKind = iota
	kindDigest
	kindSidecar
)

func classify(key string) fileKind {
	base := path.Base(key)
	switch {
	case strings.HasSuffix(base, SidecarSuffix):
		return kindSidecar
	case strings.Contains(base, "_CloudTrail-Digest_") || strings.Contains(key, "/CloudTrail-Digest/"):
		return kindDigest
	}
	return kindLog
}

// digestName is what a digest's S3 key says about it.
type digestName struct {
	Org, Account, Region, Trail, HomeRegion string
	Time                                    time.Time // the digest's end, to the second
	Backfill                                bool
}

// digestFileName is ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_
// YYYYMMDDTHHMMSSZ[_backfill].json[.gz]. Trail names may hold underscores,
// region names cannot, so the trail is whatever lies between them.
var digestFileName = regexp.MustCompile(`^([0-9]+)_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z0-9-]+)_([0-9]{8}T[0-9]{6}Z)(_backfill)?\.json(?:\.gz)?$`)

// parseDigestName reads a digest's identity from its key or object name.
func parseDigestName(key string) (digestName, bool) {
	m := digestFileName.FindStringSubmatch(path.Base(key))
	if m == nil {
		return digestName{}, false
	}
	t, err := time.Parse("20060102T150405Z", m[5])
	if err != nil {
		return digestName{}, false
	}
	n := digestName{Account: m[1], Region: m[2], Trail: m[3], HomeRegion: m[4], Time: t.UTC(), Backfill: m[6] != ""}
	if i := strings.LastIndex("/"+key, "/AWSLogs/o-"); i >= 0 {
		org, _, _ := strings.Cut(key[i+len("AWSLogs/"):], "/")
		n.Org = org
	}
	return n, true
}
