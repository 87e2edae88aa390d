package simulate

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/klauspost/compress/gzip"
)

// Names CloudTrail writes in digests and their metadata.
const (
	signatureAlgorithm = "SHA256withRSA"
	hashAlgorithm      = "SHA-256"
	// sidecarSuffix ends the file that keeps a digest's S3 metadata (its
	// signature) on disk, beside the digest.
	sidecarSuffix = ".metadata.json"
)

// digestWriter writes the digests of one chain after another, reusing its
// buffers.
type digestWriter struct {
	sink    fileSink
	c       *cast
	sg      *signer
	json    []byte
	toSign  []byte
	gz      bytes.Buffer
	zw      *gzip.Writer
	digests int
}

func newDigestWriter(sink fileSink, c *cast, sg *signer) *digestWriter {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // BestSpeed is a valid level
	return &digestWriter{sink: sink, c: c, sg: sg, zw: zw}
}

// link is what a digest records of the one before it.
type link struct {
	key string
	sum [32]byte
	sig string // hex
}

// chain writes ch's digests, one per period, each listing the log files
// of its segment delivered before its end (the last of a segment: all
// that remain).
func (w *digestWriter) chain(ctx context.Context, p *plan, ch *chainLogs, periods []period) error {
	var prev link
	logs := ch.logs
	for _, pd := range periods {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		n := 0
		for n < len(logs) && p.segment(&logs[n]) == pd.seg && (pd.last || logs[n].delivered < pd.end) {
			n++
		}
		var err error
		if prev, err = w.digest(ch, pd, logs[:n], prev); err != nil {
			return err
		}
		logs = logs[n:]
	}
	if len(logs) > 0 {
		return fmt.Errorf("%d log files of %s in %s fall outside the digest periods", len(logs), ch.a.id, regions[ch.region])
	}
	return nil
}

// digest renders, signs and writes one digest and its metadata sidecar,
// and returns what the next digest records of it.
func (w *digestWriter) digest(ch *chainLogs, pd period, logs []logEntry, prev link) (link, error) {
	a, region := ch.a, regions[ch.region]
	bucket := trailBucket(a)
	key := digestPath(w.c, a, region, pd.end)

	b := append(w.json[:0], '{')
	b = kstr(b, "awsAccountId", a.id)
	b = ktime(b, "digestStartTime", pd.start)
	b = ktime(b, "digestEndTime", pd.end)
	b = kstr(b, "digestS3Bucket", bucket)
	b = kstr(b, "digestS3Object", key)
	b = kstr(b, "digestPublicKeyFingerprint", w.sg.fingerprint)
	b = kstr(b, "digestSignatureAlgorithm", signatureAlgorithm)
	if len(logs) > 0 {
		oldest, newest := logs[0].oldest, logs[0].newest
		for i := range logs {
			oldest, newest = min(oldest, logs[i].oldest), max(newest, logs[i].newest)
		}
		b = ktime(b, "newestEventTime", newest)
		b = ktime(b, "oldestEventTime", oldest)
	} else {
		b = kraw(b, "newestEventTime", "null")
		b = kraw(b, "oldestEventTime", "null")
	}
	if pd.first {
		for _, k := range []string{"previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
			"previousDigestHashAlgorithm", "previousDigestSignature"} {
			b = kraw(b, k, "null")
		}
	} else {
		b = kstr(b, "previousDigestS3Bucket", bucket)
		b = kstr(b, "previousDigestS3Object", prev.key)
		b = kstr(b, "previousDigestHashValue", hex.EncodeToString(prev.sum[:]))
		b = kstr(b, "previousDigestHashAlgorithm", hashAlgorithm)
		b = kstr(b, "previousDigestSignature", prev.sig)
	}
	b = karr(b, "logFiles")
	for i := range logs {
		e := &logs[i]
		b = append(sep(b), '{')
		b = kstr(b, "s3Bucket", bucket)
		b = kstr(b, "s3Object", logFilePath(w.c, a, region, e.delivered, string(e.suffix[:])))
		b = kstr(b, "hashValue", hex.EncodeToString(e.sum[:]))
		b = kstr(b, "hashAlgorithm", hashAlgorithm)
		b = ktime(b, "newestEventTime", e.newest)
		b = ktime(b, "oldestEventTime", e.oldest)
		b = append(b, '}')
	}
	b = append(b, ']', '}')
	w.json = b
	sum := sha256.Sum256(b)

	// AWS's string to sign: the end time as written, where the digest is,
	// its hash, and the previous signature ("null" for none).
	s := appendTime(w.toSign[:0], pd.end)
	s = append(s, '\n')
	s = append(s, bucket...)
	s = append(s, '/')
	s = append(s, key...)
	s = append(s, '\n')
	s = hex.AppendEncode(s, sum[:])
	s = append(s, '\n')
	if pd.first {
		s = append(s, "null"...)
	} else {
		s = append(s, prev.sig...)
	}
	w.toSign = s
	h := sha256.Sum256(s)
	raw, err := rsa.SignPKCS1v15(nil, w.sg.key, crypto.SHA256, h[:]) // deterministic
	if err != nil {
		return link{}, fmt.Errorf("sign digest %s: %w", key, err)
	}
	sig := hex.EncodeToString(raw)

	w.gz.Reset()
	w.zw.Reset(&w.gz)
	if _, err := w.zw.Write(b); err != nil {
		return link{}, fmt.Errorf("compress digest: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return link{}, fmt.Errorf("compress digest: %w", err)
	}
	if err := w.sink.writeFile(key, w.gz.Bytes()); err != nil {
		return link{}, err
	}
	meta := `{"signature":"` + sig + `","signature-algorithm":"` + signatureAlgorithm + `"}`
	if err := w.sink.writeFile(key+sidecarSuffix, []byte(meta)); err != nil {
		return link{}, err
	}
	w.digests++
	return link{key: key, sum: sum, sig: sig}, nil
}

// digestPath is the slash-separated S3 key of a digest ending at unix time
// end: AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
// <account>_CloudTrail-Digest_<region>_<trail>_<home region>_YYYYMMDDTHHMMSSZ.json.gz,
// under the same organisation prefix as the account's log files.
func digestPath(c *cast, a *account, region string, end int64) string {
	ts := appendTime(nil, end) // 2026-03-14T09:15:31Z
	b := appendLayoutDir(make([]byte, 0, 200), c, a, "CloudTrail-Digest", region, end)
	b = append(b, a.id...)
	b = append(b, "_CloudTrail-Digest_"...)
	b = append(b, region...)
	b = append(b, '_')
	b = append(b, a.trail...)
	b = append(b, '_')
	b = append(b, digestHomeRegion...)
	b = append(b, '_')
	b = appendCompactTime(b, ts, true)
	b = append(b, ".json.gz"...)
	return string(b)
}
