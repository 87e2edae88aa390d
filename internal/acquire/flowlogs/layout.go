package flowlogs

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3 key layouts of VPC flow logs, default and Hive-compatible, each
// with or without hourly partitions:
//
//	[PREFIX/]AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/[HH/]FILE
//	[PREFIX/]AWSLogs/aws-account-id=ACCOUNT/aws-service=vpcflowlogs/aws-region=REGION/year=YYYY/month=MM/day=DD/[hour=HH/]FILE
//
// FILE is ACCOUNT_vpcflowlogs_REGION_FLOWLOGID_YYYYMMDDTHHmmZ_HASH.log.gz,
// or .log.parquet for Parquet. The walk starts at the account and region
// asked for in both layouts, lists one level at a time with Delimiter "/",
// and descends only into the years, months and days that meet the window:
// never the whole bucket, never other accounts' or services' logs.

// roots are the folders of one account and region's files in both layouts.
func roots(prefix, account, region string) []string {
	base := "AWSLogs/"
	if prefix != "" {
		base = prefix + "/" + base
	}
	return []string{
		base + account + "/vpcflowlogs/" + region + "/",
		base + "aws-account-id=" + account + "/aws-service=vpcflowlogs/aws-region=" + region + "/",
	}
}

// object is one file the walk found.
type object struct {
	bucket, key, etag string
	size              int64
	day               time.Time
	content           string
}

// window is a half-open time range.
type window struct{ since, until time.Time }

func (w window) overlaps(start, end time.Time) bool {
	return end.After(w.since) && start.Before(w.until)
}

// walker lists one bucket.
type walker struct {
	api    S3API
	bucket string
	list   func()                         // counts each ListObjectsV2 call
	failed func(prefix string, err error) // a listing S3 refused or failed
}

// ls lists one level under prefix, following continuation tokens.
func (w *walker) ls(ctx context.Context, prefix string) (dirs []string, objs []types.Object, err error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	for {
		w.list()
		out, err := w.api.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("s3 ListObjectsV2 s3://%s/%s: %w", w.bucket, prefix, err)
		}
		for _, p := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(p.Prefix))
		}
		objs = append(objs, out.Contents...)
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return dirs, objs, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// lsOr lists prefix; a failure other than the end of ctx is reported
// through w.failed and yields nothing, so one bad prefix does not cost the
// rest.
func (w *walker) lsOr(ctx context.Context, prefix string) ([]string, []types.Object, error) {
	dirs, objs, err := w.ls(ctx, prefix)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		w.failed(prefix, err)
		return nil, nil, nil
	}
	return dirs, objs, nil
}

// walk finds the files under root in the days that meet win.
func (w *walker) walk(ctx context.Context, root string, win window, found func(object)) error {
	return w.dated(ctx, root, 0, time.Time{}, win, func(day time.Time, prefix string) error {
		dirs, objs, err := w.lsOr(ctx, prefix)
		if err != nil {
			return err
		}
		for _, d := range dirs { // hourly partitions
			if _, ok := number(base(d), "hour=", 2, 0, 23); !ok {
				continue
			}
			_, more, err := w.lsOr(ctx, d)
			if err != nil {
				return err
			}
			objs = append(objs, more...)
		}
		for _, o := range objs {
			key := aws.ToString(o.Key)
			content := contentOf(key)
			if content == "" {
				continue // a folder marker, or not a file flow logs deliver
			}
			found(object{bucket: w.bucket, key: key, etag: strings.Trim(aws.ToString(o.ETag), `"`),
				size: aws.ToInt64(o.Size), day: day, content: content})
		}
		return nil
	})
}

// contentOf names what a key holds, or "" for a key flow logs do not write.
func contentOf(key string) string {
	switch {
	case strings.HasSuffix(key, ".log.gz"):
		return ContentLog
	case strings.HasSuffix(key, ".log.parquet"):
		return ContentParquet
	}
	return ""
}

// levels are the date folders: their Hive name and width.
var levels = [3]struct {
	hive  string
	width int
}{{"year=", 4}, {"month=", 2}, {"day=", 2}}

// dated descends the year, month and day folders under prefix (level 0,
// 1, 2), keeping those whose span meets win, and calls day for each kept.
func (w *walker) dated(ctx context.Context, prefix string, level int, at time.Time, win window, day func(time.Time, string) error) error {
	if level == 3 {
		return day(at, prefix)
	}
	dirs, _, err := w.lsOr(ctx, prefix)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		start, end, ok := span(base(d), level, at)
		if !ok || !win.overlaps(start, end) {
			continue
		}
		if err := w.dated(ctx, d, level+1, start, win, day); err != nil {
			return err
		}
	}
	return nil
}

func base(dir string) string { return path.Base(strings.TrimSuffix(dir, "/")) }

// number reads a folder name NN or HIVE=NN of the given width and range.
func number(name, hive string, width, lo, hi int) (int, bool) {
	name = strings.TrimPrefix(name, hive)
	n, err := strconv.Atoi(name)
	return n, err == nil && len(name) == width && n >= lo && n <= hi
}

// span reads a year, month or day folder name below the time above it and
// returns the time it covers.
func span(name string, level int, above time.Time) (start, end time.Time, ok bool) {
	l := levels[level]
	switch level {
	case 0:
		n, ok := number(name, l.hive, l.width, 1, 9999)
		start = time.Date(n, 1, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(1, 0, 0), ok
	case 1:
		n, ok := number(name, l.hive, l.width, 1, 12)
		start = time.Date(above.Year(), time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0), ok
	default:
		n, ok := number(name, l.hive, l.width, 1, 31)
		start = time.Date(above.Year(), above.Month(), n, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1), ok && start.Month() == above.Month()
	}
}
