// Package publickeys fetches the public keys that sign CloudTrail digest
// files (CloudTrail's ListPublicKeys, read-only) and renders them in the
// shape `aws cloudtrail list-public-keys` prints: the shape a case keeps as
// evidence and harrier verify reads.
package publickeys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

// ListPublicKeysAPI is the one CloudTrail call this package makes.
type ListPublicKeysAPI interface {
	ListPublicKeys(ctx context.Context, params *cloudtrail.ListPublicKeysInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.ListPublicKeysOutput, error)
}

// key is one entry of list-public-keys output.
type key struct {
	Value             string `json:"Value"` // base64 of the DER-encoded key
	ValidityStartTime string `json:"ValidityStartTime"`
	ValidityEndTime   string `json:"ValidityEndTime"`
	Fingerprint       string `json:"Fingerprint"`
}

// Fetch lists the keys valid at any time in [start, end] in the client's
// region, following pagination, and returns them as list-public-keys JSON.
func Fetch(ctx context.Context, api ListPublicKeysAPI, start, end time.Time) ([]byte, error) {
	in := &cloudtrail.ListPublicKeysInput{}
	if !start.IsZero() {
		in.StartTime = aws.Time(start.UTC())
	}
	if !end.IsZero() {
		in.EndTime = aws.Time(end.UTC())
	}
	var keys []key
	for {
		out, err := api.ListPublicKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("cloudtrail ListPublicKeys: %w", err)
		}
		for _, k := range out.PublicKeyList {
			e := key{Value: base64.StdEncoding.EncodeToString(k.Value), Fingerprint: aws.ToString(k.Fingerprint)}
			if k.ValidityStartTime != nil {
				e.ValidityStartTime = k.ValidityStartTime.UTC().Format(time.RFC3339)
			}
			if k.ValidityEndTime != nil {
				e.ValidityEndTime = k.ValidityEndTime.UTC().Format(time.RFC3339)
			}
			keys = append(keys, e)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if keys == nil {
		keys = []key{}
	}
	return json.MarshalIndent(struct {
		PublicKeyList []key `json:"PublicKeyList"`
	}{keys}, "", "  ")
}
