package findings

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// GuardDutyAPI is the read-only GuardDuty calls GuardDuty makes, with the
// SDK's signatures (a *guardduty.Client for one region satisfies it).
type GuardDutyAPI interface {
	ListDetectors(ctx context.Context, params *guardduty.ListDetectorsInput, optFns ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error)
	GetDetector(ctx context.Context, params *guardduty.GetDetectorInput, optFns ...func(*guardduty.Options)) (*guardduty.GetDetectorOutput, error)
	ListFindings(ctx context.Context, params *guardduty.ListFindingsInput, optFns ...func(*guardduty.Options)) (*guardduty.ListFindingsOutput, error)
	GetFindings(ctx context.Context, params *guardduty.GetFindingsInput, optFns ...func(*guardduty.Options)) (*guardduty.GetFindingsOutput, error)
}

// GuardDuty's limits: ListFindings pages hold at most 50 ids, GetFindings
// takes at most 50.
const (
	guardDutyPage  = 50
	guardDutyBatch = 50
	// guardDutyHigh is the lowest severity GuardDuty calls High (7.0-8.9;
	// Critical is 9.0-10.0).
	guardDutyHigh = 7.0
)

// GuardDuty collects, in each region of opts, the detectors
// (ListDetectors; GetDetector says what each watched: status, data
// sources, features) and the findings updated in the window, archived and
// not (ListFindings then GetFindings by 50). api gives the client of a
// region.
func GuardDuty(ctx context.Context, sink evidence.Sink, opts Options, api func(region string) GuardDutyAPI) ([]evidence.Coverage, error) {
	return eachRegion(ctx, sink, opts, SourceGuardDuty, "guardduty", func(ctx context.Context, r *regionRun) error {
		return guardDutyRegion(ctx, r, api(r.region))
	})
}

func guardDutyRegion(ctx context.Context, r *regionRun, api GuardDutyAPI) error {
	optFn := func(o *guardduty.Options) { o.APIOptions = append(o.APIOptions, r.throttles.stack) }

	var ids []string
	in := &guardduty.ListDetectorsInput{}
	for page := 1; ; page++ {
		at := r.opts.now()
		out, err := api.ListDetectors(ctx, in, optFn)
		if err != nil {
			return r.problem("ListDetectors", "", err) // Exists stays "unknown"
		}
		if err := r.put(fmt.Sprintf("list-detectors-%04d.json", page), "ListDetectors", page, nil, out, at); err != nil {
			return err
		}
		ids = append(ids, out.DetectorIds...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in = &guardduty.ListDetectorsInput{NextToken: out.NextToken}
	}
	if len(ids) == 0 {
		r.row.Exists = "no"
		r.detail = append(r.detail, "GuardDuty has no detector in this region")
		return nil
	}
	r.row.Exists = "yes"
	slices.Sort(ids)
	ids = slices.Compact(ids)

	var notEnabled []string
	total, archived, high := 0, 0, 0
	for _, id := range ids {
		at := r.opts.now()
		det, err := api.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)}, optFn)
		if err != nil {
			if err := r.problem("GetDetector", id, err); err != nil {
				return err
			}
		} else {
			if err := r.put("detector-"+id+".json", "GetDetector", 0, map[string]string{"detector_id": id}, det, at); err != nil {
				return err
			}
			if det.Status != types.DetectorStatusEnabled {
				notEnabled = append(notEnabled, fmt.Sprintf("%s %s", id, det.Status))
			}
		}
		for _, arch := range []bool{false, true} {
			n, h, err := guardDutyFindings(ctx, r, api, optFn, id, arch)
			if err != nil {
				return err
			}
			total += n
			high += h
			if arch {
				archived += n
			}
		}
	}
	r.row.Items = total
	d := plural(len(ids), "detector")
	if len(notEnabled) > 0 {
		d += fmt.Sprintf(" (%s)", strings.Join(notEnabled, ", "))
	}
	r.detail = append(r.detail, d, r.findingsDetail(total, archived, "archived", high))
	return nil
}

// guardDutyFindings lists the findings of one detector updated in the
// window, archived or not, and gets them by 50, storing every page. It
// returns how many findings it got and how many were high or critical.
func guardDutyFindings(ctx context.Context, r *regionRun, api GuardDutyAPI, optFn func(*guardduty.Options),
	detector string, archived bool) (int, int, error) {
	criteria := &types.FindingCriteria{Criterion: map[string]types.Condition{
		"updatedAt": {
			GreaterThanOrEqual: aws.Int64(epochMillis(r.opts.Since)),
			LessThanOrEqual:    aws.Int64(epochMillis(r.opts.Until)),
		},
		"service.archived": {Equals: []string{fmt.Sprint(archived)}},
	}}
	filter, err := json.Marshal(criteria)
	if err != nil {
		return 0, 0, fmt.Errorf("guardduty criteria: %w", err)
	}
	params := r.window(string(filter))
	params["detector_id"] = detector
	kind := "current"
	if archived {
		kind = "archived"
	}
	dir := "detector-" + detector

	var ids []string
	in := &guardduty.ListFindingsInput{DetectorId: aws.String(detector), FindingCriteria: criteria, MaxResults: aws.Int32(guardDutyPage)}
	for page := 1; ; page++ {
		at := r.opts.now()
		out, err := api.ListFindings(ctx, in, optFn)
		if err != nil {
			// keep what was listed: those findings are still fetched
			if err := r.problem("ListFindings", detector, err); err != nil {
				return 0, 0, err
			}
			break
		}
		if err := r.put(path.Join(dir, fmt.Sprintf("list-findings-%s-%04d.json", kind, page)), "ListFindings", page, params, out, at); err != nil {
			return 0, 0, err
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
	for i, batch := range batches(ids, guardDutyBatch) {
		at := r.opts.now()
		out, err := api.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(detector), FindingIds: batch}, optFn)
		if err != nil {
			if err := r.problem("GetFindings", detector, err); err != nil {
				return 0, 0, err
			}
			continue
		}
		bp := map[string]string{"detector_id": detector, "archived": fmt.Sprint(archived), "finding_ids": fmt.Sprint(len(batch))}
		if err := r.put(path.Join(dir, fmt.Sprintf("findings-%s-%04d.json", kind, i+1)), "GetFindings", i+1, bp, out, at); err != nil {
			return 0, 0, err
		}
		for _, f := range out.Findings {
			got++
			if aws.ToFloat64(f.Severity) >= guardDutyHigh {
				high++
			}
			r.span.addStrings(f.CreatedAt, f.UpdatedAt)
			if f.Service != nil {
				r.span.addStrings(f.Service.EventFirstSeen, f.Service.EventLastSeen)
			}
		}
	}
	return got, high, nil
}
