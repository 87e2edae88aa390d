package flowlogs

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// fetch acquires one file, unless the sink has it with the same ETag and
// size. A failure is recorded in Failed and as a problem; a file cut short
// by ctx is dropped silently, for the next run to fetch whole.
func (r *run) fetch(ctx context.Context, api S3API, o object) {
	if ctx.Err() != nil {
		return
	}
	rel := "s3/" + o.bucket + "/" + o.key
	if r.sink.Have(rel, o.etag, o.size) {
		r.mu.Lock()
		r.res.Skipped++
		r.mu.Unlock()
		return
	}
	at := r.opts.Now().UTC()
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		r.fail(ctx, o, fmt.Errorf("s3 GetObject s3://%s/%s: %w", o.bucket, o.key, err))
		return
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil && out.ContentLength != nil && int64(len(data)) != *out.ContentLength {
		err = fmt.Errorf("read %d bytes of %d", len(data), *out.ContentLength)
	}
	if err != nil {
		r.fail(ctx, o, fmt.Errorf("s3 GetObject s3://%s/%s: %w", o.bucket, o.key, err))
		return
	}
	src := evidence.Source{Service: "s3", API: "GetObject", Account: r.opts.Account, Region: r.opts.Region,
		Bucket: o.bucket, Key: o.key, ETag: unquote(aws.ToString(out.ETag)), Size: int64(len(data)),
		VersionID: aws.ToString(out.VersionId), Metadata: out.Metadata, RequestTime: at}
	if out.LastModified != nil {
		lm := out.LastModified.UTC()
		src.LastModified = &lm
	}
	if err := r.sink.Put(rel, o.content, data, src); err != nil {
		r.fail(ctx, o, fmt.Errorf("store s3://%s/%s: %w", o.bucket, o.key, err))
		return
	}
	r.mu.Lock()
	r.res.Downloaded++
	r.res.Bytes += int64(len(data))
	r.mu.Unlock()
}

// fail records a file that could not be acquired, unless ctx ended: then
// the failure is the interruption's, not the file's.
func (r *run) fail(ctx context.Context, o object, err error) {
	if ctx.Err() != nil {
		return
	}
	p := evidence.NewProblem("s3", "GetObject", r.opts.Account, r.opts.Region, "s3://"+o.bucket+"/"+o.key, err)
	r.mu.Lock()
	r.res.Failed = append(r.res.Failed, Failure{Bucket: o.bucket, Key: o.key, Denied: p.Denied, Error: p.Error})
	r.res.Problems = append(r.res.Problems, p)
	r.mu.Unlock()
}

func unquote(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}
