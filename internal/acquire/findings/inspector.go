package findings

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// InspectorAPI is the read-only Inspector (inspector2) calls Inspector
// makes, with the SDK's signatures (an *inspector2.Client for one region
// satisfies it).
type InspectorAPI interface {
	BatchGetAccountStatus(ctx context.Context, params *inspector2.BatchGetAccountStatusInput, optFns ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error)
	ListFindings(ctx context.Context, params *inspector2.ListFindingsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error)
}

// inspectorPage is the most findings a ListFindings page holds.
const inspectorPage = 100

// Inspector collects, in each region of opts, the account's Inspector
// status (BatchGetAccountStatus: which resource types are scanned) and
// the findings updated in the window (ListFindings returns them whole, 100
// a page), of every status: closed and suppressed findings are kept too.
func Inspector(ctx context.Context, sink evidence.Sink, opts Options, api func(region string) InspectorAPI) ([]evidence.Coverage, error) {
	return eachRegion(ctx, sink, opts, SourceInspector, "inspector2", func(ctx context.Context, r *regionRun) error {
		return inspectorRegion(ctx, r, api(r.region))
	})
}

func inspectorRegion(ctx context.Context, r *regionRun, api InspectorAPI) error {
	optFn := func(o *inspector2.Options) { o.APIOptions = append(o.APIOptions, r.throttles.stack) }

	at := r.opts.now()
	st, err := api.BatchGetAccountStatus(ctx, &inspector2.BatchGetAccountStatusInput{AccountIds: []string{r.opts.Account}}, optFn)
	if err != nil {
		if err := r.problem("BatchGetAccountStatus", r.opts.Account, err); err != nil {
			return err
		}
	} else {
		if err := r.put("account-status.json", "BatchGetAccountStatus", 0, map[string]string{"account_ids": r.opts.Account}, st, at); err != nil {
			return err
		}
		for _, f := range st.FailedAccounts {
			fe := &smithy.GenericAPIError{Code: string(f.ErrorCode), Message: aws.ToString(f.ErrorMessage)}
			p := evidence.NewProblem("inspector2", "BatchGetAccountStatus", r.opts.Account, r.region, aws.ToString(f.AccountId), fe)
			p.Denied = f.ErrorCode == types.ErrorCodeAccessDenied
			r.row.Problems = append(r.row.Problems, p)
		}
		for _, a := range st.Accounts {
			if aws.ToString(a.AccountId) != r.opts.Account || a.State == nil {
				continue
			}
			if a.State.Status == types.StatusDisabled {
				r.row.Exists = "no"
				r.detail = append(r.detail, "Inspector is not enabled in this region")
				return nil
			}
			r.row.Exists = "yes"
			r.detail = append(r.detail, inspectorScans(a.State.Status, a.ResourceState))
		}
		if r.row.Exists == "unknown" && len(st.FailedAccounts) == 0 {
			r.detail = append(r.detail, "Inspector gave no status for the account")
		}
	}

	criteria := &types.FilterCriteria{UpdatedAt: []types.DateFilter{{
		StartInclusive: aws.Time(r.opts.Since.UTC()),
		EndInclusive:   aws.Time(r.opts.Until.UTC()),
	}}}
	filter, err := json.Marshal(criteria)
	if err != nil {
		return fmt.Errorf("inspector2 criteria: %w", err)
	}
	params := r.window(string(filter))

	total, closed, high := 0, 0, 0
	in := &inspector2.ListFindingsInput{FilterCriteria: criteria, MaxResults: aws.Int32(inspectorPage)}
	for page := 1; ; page++ {
		at := r.opts.now()
		out, err := api.ListFindings(ctx, in, optFn)
		if err != nil {
			if err := r.problem("ListFindings", "", err); err != nil {
				return err
			}
			break
		}
		if err := r.put(fmt.Sprintf("findings-%04d.json", page), "ListFindings", page, params, out, at); err != nil {
			return err
		}
		for _, f := range out.Findings {
			total++
			if f.Status != types.FindingStatusActive {
				closed++
			}
			if f.Severity == types.SeverityHigh || f.Severity == types.SeverityCritical {
				high++
			}
			r.span.addTimes(f.FirstObservedAt, f.LastObservedAt, f.UpdatedAt)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
	r.row.Items = total
	r.detail = append(r.detail, r.findingsDetail(total, closed, "closed or suppressed", high))
	return nil
}

// inspectorScans says what Inspector scans in the account: "enabled for
// EC2, ECR, Lambda", or its status when it is changing.
func inspectorScans(status types.Status, rs *types.ResourceState) string {
	var on []string
	if rs != nil {
		for _, t := range []struct {
			name string
			st   *types.State
		}{{"EC2", rs.Ec2}, {"ECR", rs.Ecr}, {"Lambda", rs.Lambda}, {"Lambda code", rs.LambdaCode}, {"code repositories", rs.CodeRepository}} {
			if t.st != nil && t.st.Status == types.StatusEnabled {
				on = append(on, t.name)
			}
		}
	}
	s := "Inspector " + strings.ToLower(string(status))
	if len(on) > 0 {
		s += " for " + strings.Join(on, ", ")
	}
	return s
}
