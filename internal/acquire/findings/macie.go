package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/macie2"
	"github.com/aws/aws-sdk-go-v2/service/macie2/types"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// MacieAPI is the read-only Macie (macie2) calls Macie makes, with the
// SDK's signatures (a *macie2.Client for one region satisfies it).
type MacieAPI interface {
	GetMacieSession(ctx context.Context, params *macie2.GetMacieSessionInput, optFns ...func(*macie2.Options)) (*macie2.GetMacieSessionOutput, error)
	ListFindings(ctx context.Context, params *macie2.ListFindingsInput, optFns ...func(*macie2.Options)) (*macie2.ListFindingsOutput, error)
	GetFindings(ctx context.Context, params *macie2.GetFindingsInput, optFns ...func(*macie2.Options)) (*macie2.GetFindingsOutput, error)
}

// Macie's limits: ListFindings pages hold at most 50 ids, GetFindings
// takes at most 50.
const (
	maciePage  = 50
	macieBatch = 50
)

// Macie collects, in each region of opts, the Macie session
// (GetMacieSession: whether Macie runs, or is paused) and the findings
// updated in the window, archived (suppressed) and not (ListFindings then
// GetFindings by 50). Macie keeps findings 90 days: an older window finds
// none.
func Macie(ctx context.Context, sink evidence.Sink, opts Options, api func(region string) MacieAPI) ([]evidence.Coverage, error) {
	return eachRegion(ctx, sink, opts, SourceMacie, "macie2", func(ctx context.Context, r *regionRun) error {
		return macieRegion(ctx, r, api(r.region))
	})
}

// macieNotEnabled reports whether err is Macie saying it is not enabled
// in the region. Macie answers every call then with AccessDeniedException
// and the message "Macie is not enabled." (HTTP 403, sometimes 401): the
// same code as a missing permission, which says "... is not authorized to
// perform: macie2:...". Only the message tells them apart, so a denial
// whose message does not say so stays a denial. The API reference's
// ResourceNotFoundException for GetMacieSession (the session does not
// exist) means the same.
func macieNotEnabled(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException":
		return strings.Contains(strings.ToLower(ae.ErrorMessage()), "macie is not enabled")
	case "ResourceNotFoundException":
		return true
	}
	return false
}

const macieAbsent = "Macie is not enabled in this region"

func macieRegion(ctx context.Context, r *regionRun, api MacieAPI) error {
	optFn := func(o *macie2.Options) { o.APIOptions = append(o.APIOptions, r.throttles.stack) }

	at := r.opts.now()
	sess, err := api.GetMacieSession(ctx, &macie2.GetMacieSessionInput{}, optFn)
	switch {
	case macieNotEnabled(err):
		r.row.Exists = "no"
		r.detail = append(r.detail, macieAbsent)
		return nil
	case err != nil:
		if err := r.problem("GetMacieSession", "", err); err != nil {
			return err
		}
	default:
		r.row.Exists = "yes"
		if err := r.put("session.json", "GetMacieSession", 0, nil, sess, at); err != nil {
			return err
		}
		r.detail = append(r.detail, "Macie "+strings.ToLower(string(sess.Status)))
	}

	total, archived, high := 0, 0, 0
	for _, arch := range []bool{false, true} {
		n, h, absent, err := macieFindings(ctx, r, api, optFn, arch)
		if err != nil {
			return err
		}
		if absent {
			r.row.Exists = "no"
			r.detail = append(r.detail, macieAbsent)
			return nil
		}
		total += n
		high += h
		if arch {
			archived += n
		}
	}
	r.row.Items = total
	r.detail = append(r.detail, r.findingsDetail(total, archived, "archived", high))
	return nil
}

// macieFindings lists the findings updated in the window, archived or
// not, and gets them by 50, storing every page. It returns how many it
// got, how many were high, and whether Macie said it is not enabled
// before anything was listed.
func macieFindings(ctx context.Context, r *regionRun, api MacieAPI, optFn func(*macie2.Options), archived bool) (int, int, bool, error) {
	criteria := &types.FindingCriteria{Criterion: map[string]types.CriterionAdditionalProperties{
		// Macie compares times in epoch milliseconds
		"updatedAt": {Gte: aws.Int64(epochMillis(r.opts.Since)), Lte: aws.Int64(epochMillis(r.opts.Until))},
		"archived":  {Eq: []string{fmt.Sprint(archived)}},
	}}
	filter, err := json.Marshal(criteria)
	if err != nil {
		return 0, 0, false, fmt.Errorf("macie2 criteria: %w", err)
	}
	params := r.window(string(filter))
	kind := "current"
	if archived {
		kind = "archived"
	}

	var ids []string
	in := &macie2.ListFindingsInput{FindingCriteria: criteria, MaxResults: aws.Int32(maciePage)}
	for page := 1; ; page++ {
		at := r.opts.now()
		out, err := api.ListFindings(ctx, in, optFn)
		if err != nil {
			if page == 1 && r.row.Exists != "yes" && macieNotEnabled(err) {
				return 0, 0, true, nil
			}
			if err := r.problem("ListFindings", "", err); err != nil {
				return 0, 0, false, err
			}
			break
		}
		r.row.Exists = "yes"
		if err := r.put(fmt.Sprintf("list-findings-%s-%04d.json", kind, page), "ListFindings", page, params, out, at); err != nil {
			return 0, 0, false, err
		}
		ids = append(ids, out.FindingIds...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}

	got, high := 0, 0
	for i, batch := range batches(ids, macieBatch) {
		at := r.opts.now()
		out, err := api.GetFindings(ctx, &macie2.GetFindingsInput{FindingIds: batch}, optFn)
		if err != nil {
			if err := r.problem("GetFindings", "", err); err != nil {
				return 0, 0, false, err
			}
			continue
		}
		bp := map[string]string{"archived": fmt.Sprint(archived), "finding_ids": fmt.Sprint(len(batch))}
		if err := r.put(fmt.Sprintf("findings-%s-%04d.json", kind, i+1), "GetFindings", i+1, bp, out, at); err != nil {
			return 0, 0, false, err
		}
		for _, f := range out.Findings {
			got++
			if f.Severity != nil && f.Severity.Description == types.SeverityDescriptionHigh {
				high++
			}
			r.span.addTimes(f.CreatedAt, f.UpdatedAt)
		}
	}
	return got, high, false, nil
}
