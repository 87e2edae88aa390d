package cli

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/harrier-ir/harrier/internal/acquire/publickeys"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
)

// digestName is a digest's S3 key: its region and delivery time.
var digestName = regexp.MustCompile(`CloudTrail-Digest/([a-z0-9-]+)/.*_(\d{8}T\d{6}Z)(_backfill)?\.json\.gz`)

// fetchKeys asks CloudTrail (ListPublicKeys, read-only, with the standard
// AWS credential chain) for the keys of every region whose digests the case
// holds, over the period they cover, and stores the answers in the case as
// evidence, so that later verifications read the same keys.
func fetchKeys(ctx context.Context, w io.Writer, c *casefile.Case) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("fetch-keys: AWS configuration: %w", err)
	}
	return fetchKeysWith(ctx, w, c, cfg)
}

// fetchKeysWith is fetchKeys with a given AWS configuration (acquire's).
func fetchKeysWith(ctx context.Context, w io.Writer, c *casefile.Case, cfg aws.Config) error {
	regions := map[string][2]time.Time{}
	for _, e := range c.Entries() {
		if e.Content != cloudtrail.FormatDigest.String() {
			continue
		}
		m := digestName.FindStringSubmatch(e.Path)
		if m == nil {
			continue
		}
		t, err := time.Parse("20060102T150405Z", m[2])
		if err != nil {
			continue
		}
		span, ok := regions[m[1]]
		if !ok || t.Before(span[0]) {
			span[0] = t
		}
		if !ok || t.After(span[1]) {
			span[1] = t
		}
		regions[m[1]] = span
	}
	if len(regions) == 0 {
		fmt.Fprintln(w, "fetch-keys: the case holds no digest files; no keys needed")
		return nil
	}
	return fetchKeysFor(ctx, w, c, cfg, regions)
}

func fetchKeysFor(ctx context.Context, w io.Writer, c *casefile.Case, cfg aws.Config, regions map[string][2]time.Time) error {
	names := make([]string, 0, len(regions))
	for r := range regions {
		names = append(names, r)
	}
	sort.Strings(names)
	failed := 0
	for _, region := range names {
		span := regions[region]
		// a digest is signed with the key valid when it was delivered; the
		// margin covers a digest delivered just after a key rotation
		start, end := span[0].Add(-24*time.Hour), span[1].Add(24*time.Hour)
		client := ctapi.NewFromConfig(cfg, func(o *ctapi.Options) { o.Region = region })
		requested := time.Now().UTC()
		body, err := publickeys.Fetch(ctx, client, start, end)
		if err != nil {
			// one region's refusal must not cost the others their keys
			fmt.Fprintf(w, "fetch-keys: %s: %s\n", region, safe(err.Error()))
			failed++
			continue
		}
		rel := fmt.Sprintf("cloudtrail-public-keys/%s_%s_%s.json", region, start.Format("20060102T150405Z"), end.Format("20060102T150405Z"))
		e, err := c.AddAcquired(rel, fetchedKeysOrigin+region, cloudtrail.FormatPublicKeys.String(), body, map[string]any{
			"service": "cloudtrail", "api": "ListPublicKeys", "region": region,
			"start_time": start, "end_time": end, "request_time": requested,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "fetch-keys: %s: public keys for %s to %s stored as %s\n", region, timeText(start), timeText(end), e.Path)
	}
	if failed == len(names) {
		return fmt.Errorf("fetch-keys: no region answered")
	}
	if failed > 0 {
		return fmt.Errorf("fetch-keys: %d of %d regions did not answer: their digests cannot be verified until their keys are fetched", failed, len(names))
	}
	return nil
}
