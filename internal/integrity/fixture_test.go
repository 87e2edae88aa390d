package integrity

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fixtures here build evidence exactly as CloudTrail delivers it to
// S3 (gzip'd log files and digests in the S3 layout, the digest signature
// in S3 metadata, kept in a sidecar) and as `aws cloudtrail
// list-public-keys` lists keys, signed with throw-away test keys. The
// string to sign is written out here on its own rather than taken from
// the package, so that the two check each other.

var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i, name := range []string{"key1.pem", "key2.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			panic(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			panic("no PEM block in " + name)
		}
		if keys[i], err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			panic(err)
		}
	}
	return keys
})

// fingerprint is the hex MD5 of a key's PKCS#1 DER, as AWS computes it.
func fingerprint(k *rsa.PrivateKey) string {
	sum := md5.Sum(x509.MarshalPKCS1PublicKey(&k.PublicKey))
	return hex.EncodeToString(sum[:])
}

// keyList is list-public-keys output for the keys given; pkix writes the
// DER as SubjectPublicKeyInfo instead of PKCS#1, epoch the times as
// numbers.
func keyList(t testing.TB, pkix, epoch bool, keys ...*rsa.PrivateKey) []byte {
	type entry struct {
		Value             string
		ValidityStartTime any
		ValidityEndTime   any
		Fingerprint       string
	}
	var list []entry
	for _, k := range keys {
		der := x509.MarshalPKCS1PublicKey(&k.PublicKey)
		if pkix {
			var err error
			if der, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
				t.Fatal(err)
			}
		}
		e := entry{Value: base64.StdEncoding.EncodeToString(der), Fingerprint: fingerprint(k),
			ValidityStartTime: "2025-01-01T00:00:00+00:00", ValidityEndTime: "2027-01-01T00:00:00+00:00"}
		if epoch {
			e.ValidityStartTime, e.ValidityEndTime = 1735689600, 1798761600.5
		}
		list = append(list, e)
	}
	b, err := json.MarshalIndent(map[string]any{"PublicKeyList": list}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// digestDoc is a digest's JSON, its members in CloudTrail's order.
type digestDoc struct {
	AWSAccountID                string     `json:"awsAccountId"`
	DigestStartTime             string     `json:"digestStartTime"`
	DigestEndTime               string     `json:"digestEndTime"`
	DigestS3Bucket              string     `json:"digestS3Bucket"`
	DigestS3Object              string     `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string     `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string     `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string    `json:"newestEventTime"`
	OldestEventTime             *string    `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string    `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string    `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string    `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string    `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string    `json:"previousDigestSignature"`
	LogFiles                    []logEntry `json:"logFiles"`
}

type logEntry struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

func ptr(s string) *string { return &s }

const stamp = "2006-01-02T15:04:05Z"

// trail describes the digests and log files one trail delivers for one
// account and region.
type trail struct {
	org, account, region, name, home, bucket, prefix string
	start                                            time.Time // digestStartTime of the first digest
	digests, logs                                    int       // digests, and log files per digest
	events                                           int       // events per log file (2 when 0)
}

func defaultTrail() trail {
	return trail{account: "111122223333", region: "us-east-1", name: "org_audit-trail", home: "us-east-1",
		bucket: "trail-bucket", start: time.Date(2026, 3, 14, 8, 1, 31, 0, time.UTC), digests: 5, logs: 2}
}

func (tr trail) base() string {
	b := "AWSLogs/"
	if tr.org != "" {
		b += tr.org + "/"
	}
	return b + tr.account + "/"
}

// object is the S3 object name of a key: the trail's prefix and the key.
func (tr trail) object(key string) string {
	if tr.prefix == "" {
		return key
	}
	return tr.prefix + "/" + key
}

func (tr trail) digestKey(end time.Time, backfill bool) string {
	suffix := ""
	if backfill {
		suffix = "_backfill"
	}
	return fmt.Sprintf("%sCloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s%s.json.gz",
		tr.base(), tr.region, end.Format("2006/01/02"), tr.account, tr.region, tr.name, tr.home,
		end.Format("20060102T150405Z"), suffix)
}

func (tr trail) logKey(at time.Time, i, j int) string {
	u := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%s/%d/%d", tr.account, tr.region, tr.name, i, j))
	return fmt.Sprintf("%sCloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", tr.base(), tr.region,
		at.Format("2006/01/02"), tr.account, tr.region, at.Format("20060102T1504Z"), hex.EncodeToString(u[:8]))
}

// logContent is a small trail log file with events between oldest and newest.
func logContent(tr trail, oldest time.Time, i, j int) []byte {
	n := cmp.Or(tr.events, 2)
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for e := range n {
		if e > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.11","eventTime":"%s","eventSource":"iam.amazonaws.com","eventName":"ListUsers",`+
			`"awsRegion":"%s","sourceIPAddress":"203.0.113.%d","userAgent":"aws-cli/2.15.0","requestParameters":null,`+
			`"responseElements":null,"eventID":"%08x-0000-4000-8000-%012x","recipientAccountId":"%s"}`,
			oldest.Add(time.Duration(e)*2*time.Minute/time.Duration(n)).Format(stamp), tr.region, e%250, i*1000+j, e, tr.account)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// evidence is a bucket copy being built: file contents by path (relative
// to the evidence folder), and S3 metadata recorded at acquisition.
type evidence struct {
	t     testing.TB
	files map[string][]byte
	meta  map[string]map[string]string
	// headObject writes sidecars in `aws s3api head-object` shape;
	// metaInFile records metadata with the File instead of sidecars.
	headObject, metaInFile bool
}

func newEvidence(t testing.TB) *evidence {
	return &evidence{t: t, files: map[string][]byte{}, meta: map[string]map[string]string{}}
}

// built says where a trail's files went.
type built struct {
	digests []string   // digest paths, in order
	logs    [][]string // log file paths per digest
	objects [][]string // log file S3 objects per digest
}

// options change a trail as it is made, before signing.
type options struct {
	edit   func(i int, d *digestDoc)   // change digest i's content before it is signed
	signer func(i int) *rsa.PrivateKey // the key that signs digest i (key1 when nil)
}

// add delivers a trail's log files and signed digests.
func (ev *evidence) add(tr trail, o options) built {
	var b built
	var prevSig, prevObj string
	var prevSum [32]byte
	for i := range tr.digests {
		start := tr.start.Add(time.Duration(i) * time.Hour)
		end := start.Add(time.Hour)
		doc := digestDoc{AWSAccountID: tr.account, DigestStartTime: start.Format(stamp), DigestEndTime: end.Format(stamp),
			DigestS3Bucket: tr.bucket, DigestS3Object: tr.object(tr.digestKey(end, false)),
			DigestPublicKeyFingerprint: fingerprint(testKeys()[0]), DigestSignatureAlgorithm: "SHA256withRSA",
			LogFiles: []logEntry{}}
		if i > 0 {
			doc.PreviousDigestS3Bucket, doc.PreviousDigestS3Object = ptr(tr.bucket), ptr(prevObj)
			doc.PreviousDigestHashValue, doc.PreviousDigestHashAlgorithm = ptr(hex.EncodeToString(prevSum[:])), ptr("SHA-256")
			doc.PreviousDigestSignature = ptr(prevSig)
		}
		var logs, objs []string
		for j := range tr.logs {
			oldest := start.Add(time.Duration(10+j) * time.Minute)
			newest := oldest.Add(2 * time.Minute)
			key := tr.logKey(oldest.Add(5*time.Minute), i, j)
			content := logContent(tr, oldest, i, j)
			sum := sha256.Sum256(content)
			doc.LogFiles = append(doc.LogFiles, logEntry{S3Bucket: tr.bucket, S3Object: tr.object(key),
				HashValue: hex.EncodeToString(sum[:]), HashAlgorithm: "SHA-256",
				NewestEventTime: newest.Format(stamp), OldestEventTime: oldest.Format(stamp)})
			p := path.Join(tr.bucket, tr.object(key))
			ev.files[p] = gz(content)
			logs, objs = append(logs, p), append(objs, tr.object(key))
		}
		if len(doc.LogFiles) > 0 {
			doc.OldestEventTime = ptr(doc.LogFiles[0].OldestEventTime)
			doc.NewestEventTime = ptr(doc.LogFiles[len(doc.LogFiles)-1].NewestEventTime)
		}
		if o.edit != nil {
			o.edit(i, &doc)
		}
		key := testKeys()[0]
		if o.signer != nil && o.signer(i) != nil {
			key = o.signer(i)
		}
		p, sig, sum := ev.putDigest(tr.bucket, doc, key)
		b.digests, b.logs, b.objects = append(b.digests, p), append(b.logs, logs), append(b.objects, objs)
		prevSig, prevObj, prevSum = sig, doc.DigestS3Object, sum
	}
	return b
}

// putDigest signs a digest as CloudTrail does and stores it, with its
// metadata; it returns its path, signature and the hash of its content.
func (ev *evidence) putDigest(bucket string, doc digestDoc, key *rsa.PrivateKey) (string, string, [32]byte) {
	content, err := json.Marshal(doc)
	if err != nil {
		ev.t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	prev := "null"
	if doc.PreviousDigestSignature != nil {
		prev = *doc.PreviousDigestSignature
	}
	toSign := fmt.Sprintf("%s\n%s/%s\n%x\n%s", doc.DigestEndTime, doc.DigestS3Bucket, doc.DigestS3Object, sum, prev)
	h := sha256.Sum256([]byte(toSign))
	raw, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		ev.t.Fatal(err)
	}
	sig := hex.EncodeToString(raw)
	p := path.Join(bucket, doc.DigestS3Object)
	ev.files[p] = gz(content)
	ev.setMeta(p, map[string]string{"signature": sig, "signature-algorithm": "SHA256withRSA"})
	return p, sig, sum
}

func (ev *evidence) setMeta(p string, m map[string]string) {
	switch {
	case ev.metaInFile:
		ev.meta[p] = m
	case ev.headObject:
		ev.files[p+SidecarSuffix] = must(json.Marshal(map[string]any{"AcceptRanges": "bytes",
			"LastModified": "2026-03-14T09:06:12+00:00", "ContentLength": len(ev.files[p]), "ETag": `"0"`,
			"ContentType": "application/json", "ServerSideEncryption": "AES256", "Metadata": m}))
	default:
		ev.files[p+SidecarSuffix] = must(json.Marshal(m))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// editDigest changes a stored digest's content (after it was signed).
func (ev *evidence) editDigest(p string, edit func(d *digestDoc)) {
	var doc digestDoc
	if err := json.Unmarshal(gunzip(ev.t, ev.files[p]), &doc); err != nil {
		ev.t.Fatal(err)
	}
	edit(&doc)
	ev.files[p] = gz(must(json.Marshal(doc)))
}

// move moves a file (and its sidecar) to another path.
func (ev *evidence) move(from, to string) {
	ev.files[to] = ev.files[from]
	delete(ev.files, from)
	if s, ok := ev.files[from+SidecarSuffix]; ok {
		ev.files[to+SidecarSuffix] = s
		delete(ev.files, from+SidecarSuffix)
	}
}

// remove deletes files and their sidecars.
func (ev *evidence) remove(paths ...string) {
	for _, p := range paths {
		delete(ev.files, p)
		delete(ev.files, p+SidecarSuffix)
	}
}

// write puts the evidence under dir/evidence and returns it as Files
// named by case path, as a case holds it.
func (ev *evidence) write(dir string) []File {
	var files []File
	for _, p := range slices.Sorted(maps.Keys(ev.files)) {
		abs := filepath.Join(dir, "evidence", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			ev.t.Fatal(err)
		}
		if err := os.WriteFile(abs, ev.files[p], 0o444); err != nil {
			ev.t.Fatal(err)
		}
		files = append(files, File{Path: "evidence/" + p, Meta: ev.meta[p],
			Open: func() (io.ReadCloser, error) { return os.Open(abs) }})
	}
	return files
}

// inMemory returns the evidence as Files read from memory.
func (ev *evidence) inMemory() []File {
	var files []File
	for p, b := range ev.files {
		files = append(files, File{Path: "evidence/" + p, Meta: ev.meta[p],
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	return files
}

// parseKeys reads a list-public-keys document.
func parseKeys(t testing.TB, doc []byte) []PublicKey {
	keys, err := ParsePublicKeys(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// addBackfill delivers a backfill digest for the trail, ending at end and
// listing logs log files of its own, signed with key1; edit changes its
// content before it is signed.
func (ev *evidence) addBackfill(tr trail, end time.Time, logs int, edit func(d *digestDoc)) (string, []string) {
	start := end.Add(-time.Hour)
	doc := digestDoc{AWSAccountID: tr.account, DigestStartTime: start.Format(stamp), DigestEndTime: end.Format(stamp),
		DigestS3Bucket: tr.bucket, DigestS3Object: tr.object(tr.digestKey(end, true)),
		DigestPublicKeyFingerprint: fingerprint(testKeys()[0]), DigestSignatureAlgorithm: "SHA256withRSA",
		LogFiles: []logEntry{}}
	var objs []string
	for j := range logs {
		oldest := start.Add(time.Duration(30+j) * time.Minute)
		key := tr.logKey(oldest.Add(3*time.Minute), 900, j)
		content := logContent(tr, oldest, 900, j)
		sum := sha256.Sum256(content)
		doc.LogFiles = append(doc.LogFiles, logEntry{S3Bucket: tr.bucket, S3Object: tr.object(key),
			HashValue: hex.EncodeToString(sum[:]), HashAlgorithm: "SHA-256",
			NewestEventTime: oldest.Add(time.Minute).Format(stamp), OldestEventTime: oldest.Format(stamp)})
		ev.files[path.Join(tr.bucket, tr.object(key))] = gz(content)
		objs = append(objs, tr.object(key))
	}
	if edit != nil {
		edit(&doc)
	}
	p, _, _ := ev.putDigest(tr.bucket, doc, testKeys()[0])
	return p, objs
}
