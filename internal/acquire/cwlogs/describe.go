package cwlogs

import (
	"context"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// DescribeName is the file, in a group's folder, holding what
// DescribeLogGroups said of it.
const DescribeName = "describe-log-groups.json"

// describe asks DescribeLogGroups about group (every page of the groups
// whose name starts with it) and stores the answer, all pages' groups in
// one DescribeLogGroupsOutput, in the group's folder. It returns the group
// itself, or ErrNoGroup when AWS does not list it.
func describe(ctx context.Context, api API, group string, opts Options, lim *Limiter, sink evidence.Sink, st *GroupStats) (*types.LogGroup, error) {
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)}
	all := &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: []types.LogGroup{}}
	at := opts.Now().UTC()
	for {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		obs := &evidence.Attempts{Lim: lim}
		out, err := api.DescribeLogGroups(ctx, in, func(o *cloudwatchlogs.Options) { o.APIOptions = append(o.APIOptions, obs.Stack("HarrierLogsPace")) })
		obs.Done(err, &st.Requests, &st.Throttled)
		if err != nil {
			return nil, fmt.Errorf("logs DescribeLogGroups %s: %w", group, err)
		}
		all.LogGroups = append(all.LogGroups, out.LogGroups...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	rel := path.Join(GroupDir(opts.Account, opts.Region, group), DescribeName)
	src := evidence.Source{Service: "logs", API: "DescribeLogGroups", Account: opts.Account, Region: opts.Region,
		Params: map[string]string{"logGroupNamePrefix": group}, RequestTime: at}
	if err := evidence.PutJSON(sink, rel, all, src); err != nil {
		return nil, fmt.Errorf("store %s: %w", rel, err)
	}
	for i := range all.LogGroups {
		if aws.ToString(all.LogGroups[i].LogGroupName) == group {
			return &all.LogGroups[i], nil
		}
	}
	return nil, fmt.Errorf("logs DescribeLogGroups %s: %w", group, ErrNoGroup)
}
