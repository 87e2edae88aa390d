package findings

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/macie2"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// The sources' names, as --sources takes them and coverage rows name them.
const (
	SourceGuardDuty   = "guardduty"
	SourceSecurityHub = "securityhub"
	SourceInspector   = "inspector"
	SourceMacie       = "macie"
)

// Collector is one findings source as the CLI sees it: its name, the IAM
// actions its calls need (for --print-iam-policy), and how to collect it
// with an SDK configuration (the retryer and credentials the CLI set up).
type Collector struct {
	Name    string
	Actions []string // sorted
	Collect func(ctx context.Context, sink evidence.Sink, opts Options, cfg aws.Config) ([]evidence.Coverage, error)
}

// Collectors returns the findings sources, sorted by name.
func Collectors() []Collector {
	return []Collector{
		{
			Name:    SourceGuardDuty,
			Actions: []string{"guardduty:GetDetector", "guardduty:GetFindings", "guardduty:ListDetectors", "guardduty:ListFindings"},
			Collect: func(ctx context.Context, sink evidence.Sink, opts Options, cfg aws.Config) ([]evidence.Coverage, error) {
				return GuardDuty(ctx, sink, opts, func(region string) GuardDutyAPI {
					return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.Region = region })
				})
			},
		},
		{
			Name:    SourceInspector,
			Actions: []string{"inspector2:BatchGetAccountStatus", "inspector2:ListFindings"},
			Collect: func(ctx context.Context, sink evidence.Sink, opts Options, cfg aws.Config) ([]evidence.Coverage, error) {
				return Inspector(ctx, sink, opts, func(region string) InspectorAPI {
					return inspector2.NewFromConfig(cfg, func(o *inspector2.Options) { o.Region = region })
				})
			},
		},
		{
			Name:    SourceMacie,
			Actions: []string{"macie2:GetFindings", "macie2:GetMacieSession", "macie2:ListFindings"},
			Collect: func(ctx context.Context, sink evidence.Sink, opts Options, cfg aws.Config) ([]evidence.Coverage, error) {
				return Macie(ctx, sink, opts, func(region string) MacieAPI {
					return macie2.NewFromConfig(cfg, func(o *macie2.Options) { o.Region = region })
				})
			},
		},
		{
			Name:    SourceSecurityHub,
			Actions: []string{"securityhub:DescribeHub", "securityhub:GetFindings"},
			Collect: func(ctx context.Context, sink evidence.Sink, opts Options, cfg aws.Config) ([]evidence.Coverage, error) {
				return SecurityHub(ctx, sink, opts, func(region string) SecurityHubAPI {
					return securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.Region = region })
				})
			},
		},
	}
}

// Select returns the collectors names asks for, in the order of
// Collectors; an unknown or repeated name is an error that lists the
// known ones.
func Select(names []string) ([]Collector, error) {
	all := Collectors()
	known := make([]string, len(all))
	for i, c := range all {
		known[i] = c.Name
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown findings source %q (known: %s)", n, strings.Join(known, ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("findings source %q given twice", n)
		}
		seen[n] = true
	}
	var out []Collector
	for _, c := range all {
		if seen[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}
