package flowlogs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// destination is where flow logs deliver: an S3 bucket and key prefix, a
// CloudWatch Logs group, or a Firehose stream, with the flow logs that
// deliver there and the resources they watch.
type destination struct {
	kind      types.LogDestinationType
	bucket    string // s3
	prefix    string // s3: without slashes at either end
	group     string // cloud-watch-logs
	arn       string // as DescribeFlowLogs gave it
	flowLogs  []string
	resources []string
}

func (d destination) String() string {
	switch d.kind {
	case types.LogDestinationTypeS3:
		if d.prefix == "" {
			return "s3://" + d.bucket
		}
		return "s3://" + d.bucket + "/" + d.prefix
	case types.LogDestinationTypeCloudWatchLogs:
		return "CloudWatch Logs group " + d.group
	default:
		return string(d.kind) + " " + d.arn
	}
}

// parseS3 reads a flow log's S3 destination, arn:PARTITION:s3:::BUCKET or
// arn:PARTITION:s3:::BUCKET/PREFIX.
func parseS3(arn string) (bucket, prefix string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" {
		return "", "", fmt.Errorf("%q is not an S3 ARN", arn)
	}
	bucket, prefix, _ = strings.Cut(parts[5], "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket", arn)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// groupName reads a CloudWatch Logs destination: the flow log's
// LogGroupName, else the group in its ARN
// (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]).
func groupName(fl types.FlowLog) string {
	if g := aws.ToString(fl.LogGroupName); g != "" {
		return g
	}
	_, rest, ok := strings.Cut(aws.ToString(fl.LogDestination), ":log-group:")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(rest, ":*")
}

// destinations groups the flow logs by where they deliver, in a stable
// order; a flow log whose destination cannot be read is returned in bad.
func destinations(fls []types.FlowLog) (out []*destination, bad map[string]error) {
	byKey := map[string]*destination{}
	bad = map[string]error{}
	for _, fl := range fls {
		id := aws.ToString(fl.FlowLogId)
		d := destination{kind: fl.LogDestinationType, arn: aws.ToString(fl.LogDestination)}
		switch d.kind {
		case types.LogDestinationTypeS3:
			var err error
			if d.bucket, d.prefix, err = parseS3(d.arn); err != nil {
				bad[id] = err
				continue
			}
		case types.LogDestinationTypeCloudWatchLogs, "": // the API's default
			d.kind = types.LogDestinationTypeCloudWatchLogs
			if d.group = groupName(fl); d.group == "" {
				bad[id] = fmt.Errorf("flow log %s names no log group", id)
				continue
			}
		}
		key := d.String()
		if byKey[key] == nil {
			byKey[key] = &d
			out = append(out, &d)
		}
		byKey[key].flowLogs = append(byKey[key].flowLogs, id)
		byKey[key].resources = append(byKey[key].resources, aws.ToString(fl.ResourceId))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	for _, d := range out {
		sort.Strings(d.flowLogs)
		sort.Strings(d.resources)
	}
	return out, bad
}
