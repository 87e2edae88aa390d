package trails

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// CloudTrail's S3 key layout:
//
//	[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE.json.gz
//	[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/FILE.json.gz
//
// The walk lists one level at a time with Delimiter "/", and descends only
// into the accounts, regions, years, months and days asked for: never the
// whole bucket, never other services' logs that share it.
var (
	accountName = regexp.MustCompile(`^[0-9]{12}$`)
	orgName     = regexp.MustCompile(`^o-[a-z0-9]{1,32}$`) // o- and 10 to 32 in AWS; laxer, to miss none
)

// Kinds of file, as the layout names their folders.
const (
	kindLog    = "CloudTrail"
	kindDigest = "CloudTrail-Digest"
)

// object is one file the walk found.
type object struct {
	key, etag            string
	versionID            string // set when the bucket's versions are listed
	noncurrent           bool   // a version replaced or deleted since: what an attacker's DeleteObject leaves behind
	size                 int64
	kind                 string // kindLog or kindDigest
	org, account, region string
	day                  time.Time
}

// window is a half-open time range; a zero bound is open. from, when set,
// drops files delivered before it (by the time in their name) from days
// before its own: the lead taken before Since is an hour, not a day.
type window struct{ since, until, from time.Time }

// deliveredBefore reads the delivery time CloudTrail writes in a file's
// name (ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz) and says
// whether it is before t; a name it cannot read is kept.
func deliveredBefore(key string, t time.Time) bool {
	m := deliveryName.FindStringSubmatch(path.Base(key))
	if m == nil {
		return false
	}
	at, err := time.Parse("20060102T1504Z", m[1])
	return err == nil && at.Before(t)
}

var deliveryName = regexp.MustCompile(`_CloudTrail_[a-z0-9-]+_([0-9]{8}T[0-9]{4}Z)_`)

// overlaps reports whether [start, end) meets the window.
func (w window) overlaps(start, end time.Time) bool {
	return (w.since.IsZero() || end.After(w.since)) && (w.until.IsZero() || start.Before(w.until))
}

// walker lists a trail's bucket.
type walker struct {
	api    S3API
	bucket string
	list   func(prefix string) // counts each ListObjectsV2 call
	denied func(prefix string, err error)
	// versions lists every version (ListObjectVersions) instead of the
	// current objects, in a versioned bucket: a log file deleted by an
	// attacker is still there as a non-current version behind a delete
	// marker, and a day whose files were all deleted is still a folder.
	versions bool
	deleted  func(m deleteMarker) // a current delete marker found
	// region is told of each region folder walked, files in the window or
	// not: a region with none is a gap the coverage must show
	region func(acct accountRoot, region string)
}

// deleteMarker is a deleted object in a versioned bucket.
type deleteMarker struct {
	key, versionID string
	at             time.Time
}

// entry is one object version (or the object) a listing found.
type entry struct {
	key, etag, versionID string
	size                 int64
	noncurrent           bool
}

// ls lists one level under prefix: its sub-folders and its objects (or
// every version of them), following continuation tokens.
func (w *walker) ls(ctx context.Context, prefix string) (dirs []string, objs []entry, err error) {
	if w.versions {
		return w.lsVersions(ctx, prefix)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	for {
		w.list(prefix)
		out, err := w.api.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("s3 ListObjectsV2 s3://%s/%s: %w", w.bucket, prefix, err)
		}
		for _, p := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(p.Prefix))
		}
		for _, o := range out.Contents {
			objs = append(objs, entry{key: aws.ToString(o.Key), etag: unquote(aws.ToString(o.ETag)), size: aws.ToInt64(o.Size)})
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return dirs, objs, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// lsVersions is ls over every version: current ones, non-current ones
// (fetched by version id), and delete markers (reported).
func (w *walker) lsVersions(ctx context.Context, prefix string) (dirs []string, objs []entry, err error) {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(w.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	for {
		w.list(prefix)
		out, err := w.api.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("s3 ListObjectVersions s3://%s/%s: %w", w.bucket, prefix, err)
		}
		for _, p := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(p.Prefix))
		}
		for _, v := range out.Versions {
			objs = append(objs, entry{key: aws.ToString(v.Key), etag: unquote(aws.ToString(v.ETag)), size: aws.ToInt64(v.Size),
				versionID: aws.ToString(v.VersionId), noncurrent: !aws.ToBool(v.IsLatest)})
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToBool(m.IsLatest) && w.deleted != nil {
				w.deleted(deleteMarker{key: aws.ToString(m.Key), versionID: aws.ToString(m.VersionId), at: aws.ToTime(m.LastModified).UTC()})
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return dirs, objs, nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// lsDirs lists sub-folders of prefix. A refusal, or any other failure the
// SDK's retries did not overcome, is reported through w.denied (as a
// problem naming the prefix) and yields none, so one bad prefix does not
// cost the rest of the bucket; only the end of ctx is returned.
func (w *walker) lsDirs(ctx context.Context, prefix string) ([]string, error) {
	dirs, _, err := w.ls(ctx, prefix)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		w.denied(prefix, err)
		return nil, nil
	}
	return dirs, nil
}

// base returns the last element of a folder prefix ("a/b/" -> "b").
func base(dir string) string { return path.Base(strings.TrimSuffix(dir, "/")) }

// accountRoot is one account's folder in the layout.
type accountRoot struct{ org, account, prefix string }

// accounts finds the account folders under root (PREFIX/AWSLogs/), both
// directly and under organisation folders.
func (w *walker) accounts(ctx context.Context, root string, want map[string]bool) ([]accountRoot, error) {
	dirs, err := w.lsDirs(ctx, root)
	if err != nil {
		return nil, err
	}
	var out []accountRoot
	for _, d := range dirs {
		name := base(d)
		switch {
		case accountName.MatchString(name):
			if len(want) == 0 || want[name] {
				out = append(out, accountRoot{account: name, prefix: d})
			}
		case orgName.MatchString(name):
			sub, err := w.lsDirs(ctx, d)
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				if a := base(s); accountName.MatchString(a) && (len(want) == 0 || want[a]) {
					out = append(out, accountRoot{org: name, account: a, prefix: s})
				}
			}
		}
	}
	return out, nil
}

// files walks one account's files of one kind, in the regions wanted (all
// when want is empty) and the days that meet win, calling found for each.
func (w *walker) files(ctx context.Context, acct accountRoot, kind string, want map[string]bool, win window, found func(object)) error {
	regions, err := w.lsDirs(ctx, acct.prefix+kind+"/")
	if err != nil {
		return err
	}
	for _, r := range regions {
		region := base(r)
		if len(want) > 0 && !want[region] {
			continue
		}
		if w.region != nil {
			w.region(acct, region)
		}
		err := w.dated(ctx, r, 0, time.Time{}, win, func(day time.Time, dayPrefix string) error {
			_, objs, err := w.ls(ctx, dayPrefix)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				w.denied(dayPrefix, err) // a problem for this day, not the end of the bucket
				return nil
			}
			// a day before Since's own (Since is from plus the lead)
			lead := !win.from.IsZero() && day.Before(win.from.Add(logLead).UTC().Truncate(24*time.Hour))
			for _, o := range objs {
				if strings.HasSuffix(o.key, "/") || !strings.HasSuffix(o.key, ".json.gz") {
					continue // a folder marker, or not a file CloudTrail delivers (it writes .json.gz only)
				}
				if lead && kind == kindLog && deliveredBefore(o.key, win.from) {
					continue // the day before the window: only its last hour
				}
				found(object{key: o.key, etag: o.etag, size: o.size, versionID: o.versionID, noncurrent: o.noncurrent, kind: kind,
					org: acct.org, account: acct.account, region: region, day: day})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dated descends YYYY/, MM/ and DD/ folders under prefix (level 0, 1, 2),
// keeping those whose span meets win, and calls day for each day kept.
func (w *walker) dated(ctx context.Context, prefix string, level int, at time.Time, win window, day func(time.Time, string) error) error {
	if level == 3 {
		return day(at, prefix)
	}
	dirs, err := w.lsDirs(ctx, prefix)
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

// span reads a year, month or day folder name below the time above it and
// returns the time it covers.
func span(name string, level int, above time.Time) (start, end time.Time, ok bool) {
	widths := [3]int{4, 2, 2}
	n, err := strconv.Atoi(name)
	if err != nil || len(name) != widths[level] {
		return start, end, false
	}
	switch level {
	case 0:
		start = time.Date(n, 1, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(1, 0, 0), true
	case 1:
		start = time.Date(above.Year(), time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		ok = n >= 1 && n <= 12
		return start, start.AddDate(0, 1, 0), ok
	default:
		start = time.Date(above.Year(), above.Month(), n, 0, 0, 0, 0, time.UTC)
		ok = n >= 1 && start.Month() == above.Month()
		return start, start.AddDate(0, 0, 1), ok
	}
}
