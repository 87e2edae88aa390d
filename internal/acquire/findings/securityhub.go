package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// SecurityHubAPI is the read-only Security Hub calls SecurityHub makes,
// with the SDK's signatures (a *securityhub.Client for one region
// satisfies it).
type SecurityHubAPI interface {
	DescribeHub(ctx context.Context, params *securityhub.DescribeHubInput, optFns ...func(*securityhub.Options)) (*securityhub.DescribeHubOutput, error)
	GetFindings(ctx context.Context, params *securityhub.GetFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
}

// securityHubPage is the most findings a GetFindings page holds.
const securityHubPage = 100

// securityHubTime is how the window is written in Security Hub's date
// filters (ISO 8601, UTC).
const securityHubTime = "2006-01-02T15:04:05.000Z"

// SecurityHub collects, in each region of opts, the hub (DescribeHub) and
// the ASFF findings updated in the window (GetFindings, 100 a page), of
// every record state: archived findings are kept too. Security Hub also
// holds the findings GuardDuty, Inspector, Macie and partner products
// sent it, so a finding can come twice, once from its source.
func SecurityHub(ctx context.Context, sink evidence.Sink, opts Options, api func(region string) SecurityHubAPI) ([]evidence.Coverage, error) {
	return eachRegion(ctx, sink, opts, SourceSecurityHub, "securityhub", func(ctx context.Context, r *regionRun) error {
		return securityHubRegion(ctx, r, api(r.region))
	})
}

// notSubscribed reports whether err is Security Hub saying it is not
// enabled in the region: InvalidAccessException "Account ... is not
// subscribed to AWS Security Hub".
func notSubscribed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidAccessException" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "not subscribed")
}

const securityHubAbsent = "Security Hub is not enabled in this region (not subscribed)"

func securityHubRegion(ctx context.Context, r *regionRun, api SecurityHubAPI) error {
	optFn := func(o *securityhub.Options) { o.APIOptions = append(o.APIOptions, r.throttles.stack) }

	at := r.opts.now()
	hub, err := api.DescribeHub(ctx, &securityhub.DescribeHubInput{}, optFn)
	switch {
	case notSubscribed(err):
		r.row.Exists = "no"
		r.detail = append(r.detail, securityHubAbsent)
		return nil
	case err != nil:
		// a denied DescribeHub does not say whether findings can be read
		if err := r.problem("DescribeHub", "", err); err != nil {
			return err
		}
	default:
		r.row.Exists = "yes"
		if err := r.put("describe-hub.json", "DescribeHub", 0, nil, hub, at); err != nil {
			return err
		}
		if hub.SubscribedAt != nil {
			r.detail = append(r.detail, "hub subscribed "+aws.ToString(hub.SubscribedAt))
		}
	}

	filters := &types.AwsSecurityFindingFilters{UpdatedAt: []types.DateFilter{{
		Start: aws.String(r.opts.Since.UTC().Format(securityHubTime)),
		End:   aws.String(r.opts.Until.UTC().Format(securityHubTime)),
	}}}
	filter, err := json.Marshal(filters)
	if err != nil {
		return fmt.Errorf("securityhub filters: %w", err)
	}
	params := r.window(string(filter))

	total, archived, high := 0, 0, 0
	in := &securityhub.GetFindingsInput{Filters: filters, MaxResults: aws.Int32(securityHubPage)}
	for page := 1; ; page++ {
		at := r.opts.now()
		out, err := api.GetFindings(ctx, in, optFn)
		if err != nil {
			if notSubscribed(err) && page == 1 {
				r.row.Exists = "no"
				r.detail = append(r.detail, securityHubAbsent)
				return nil
			}
			if err := r.problem("GetFindings", "", err); err != nil {
				return err
			}
			break
		}
		r.row.Exists = "yes"
		if err := r.put(fmt.Sprintf("findings-%04d.json", page), "GetFindings", page, params, out, at); err != nil {
			return err
		}
		for _, f := range out.Findings {
			total++
			if f.RecordState == types.RecordStateArchived {
				archived++
			}
			if f.Severity != nil && (f.Severity.Label == types.SeverityLabelHigh || f.Severity.Label == types.SeverityLabelCritical) {
				high++
			}
			r.span.addStrings(f.FirstObservedAt, f.LastObservedAt, f.CreatedAt, f.UpdatedAt)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
	r.row.Items = total
	if r.row.Exists == "yes" {
		r.detail = append(r.detail, r.findingsDetail(total, archived, "archived", high))
	}
	return nil
}
