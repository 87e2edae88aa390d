package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// GroupStats is what Collect did for one log group.
type GroupStats struct {
	Group     string    `json:"log_group_name"`
	Exists    string    `json:"exists"`    // "yes", "no", "unknown" (DescribeLogGroups refused or failed)
	Complete  bool      `json:"complete"`  // every page of the window is stored, and its marker
	Skipped   bool      `json:"skipped"`   // complete in an earlier run: nothing was asked
	Resumed   bool      `json:"resumed"`   // continued from the NextToken of an earlier run's last page
	Restarted bool      `json:"restarted"` // an earlier run's token was too old: a new pass started
	Requests  int       `json:"requests"`  // HTTP requests sent, retries included
	Throttled int       `json:"throttled"` // ThrottlingExceptions seen, retried or not
	Pages     int       `json:"pages"`     // stored for the window, by this run or earlier ones
	Events    int       `json:"events"`    // in the window's complete pass
	Bytes     int64     `json:"bytes"`     // of the pages
	Oldest    time.Time `json:"oldest,omitzero"`
	Newest    time.Time `json:"newest,omitzero"`
	// RetentionDays, KMSKeyID and StoredBytes are what DescribeLogGroups
	// said: whether older evidence is still there, and who can read it.
	RetentionDays int32              `json:"retention_days,omitempty"` // 0: kept forever
	KMSKeyID      string             `json:"kms_key_id,omitempty"`
	StoredBytes   int64              `json:"stored_bytes,omitempty"`
	Problems      []evidence.Problem `json:"problems,omitempty"`
}

// Result is what Collect did, per log group in name order, with the
// coverage rows of the acquire report.
type Result struct {
	Groups   []GroupStats        `json:"groups"`
	Coverage []evidence.Coverage `json:"coverage"`
}

// Collect describes each named log group (stored as DescribeLogGroups
// answered) and fetches its events of [Since, Until) page by page into
// sink under WindowDir, then a complete.json marker. A window whose marker
// the sink holds is reported from it without a request; one a previous run
// left unfinished resumes from the NextToken of its last stored page
// (younger than TokenLifetime), so no page is fetched twice and none is
// overwritten.
//
// Every request, retries included, is paced by the Limiter; throttles are
// retried by the SDK client's retryer and counted. A group that does not
// exist, or a call AWS refuses or fails, is a Problem in the group's stats
// and coverage row, and the other groups go on. Collect returns an error
// for bad options, when the sink cannot store, or when ctx ends, with the
// result so far.
func Collect(ctx context.Context, api API, groups []string, opts Options, sink Sink) (Result, error) {
	if err := opts.check(); err != nil {
		return Result{}, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	lim := opts.Limiter
	if lim == nil {
		lim = NewLimiter(opts.Rate)
	}
	names := slices.Clone(groups)
	slices.Sort(names)
	names = slices.Compact(names)
	var res Result
	for _, g := range names {
		if g == "" {
			continue
		}
		st, err := collectGroup(ctx, api, g, opts, lim, sink)
		res.Groups = append(res.Groups, st)
		res.Coverage = append(res.Coverage, coverage(opts, st))
		if err != nil {
			return res, fmt.Errorf("cloudwatch logs %s in %s/%s: %w", g, opts.Account, opts.Region, err)
		}
	}
	return res, nil
}

// collectGroup describes and collects one group; it returns an error only
// when the run must end.
func collectGroup(ctx context.Context, api API, group string, opts Options, lim *Limiter, sink Sink) (GroupStats, error) {
	st := GroupStats{Group: group, Exists: "unknown"}
	lg, err := describe(ctx, api, group, opts, lim, sink, &st)
	switch {
	case err == nil:
		st.Exists = "yes"
		st.RetentionDays = aws.ToInt32(lg.RetentionInDays)
		st.KMSKeyID = aws.ToString(lg.KmsKeyId)
		st.StoredBytes = aws.ToInt64(lg.StoredBytes)
	case errors.Is(err, ErrNoGroup):
		st.Exists = "no"
		st.Problems = append(st.Problems, evidence.NewProblem("logs", "DescribeLogGroups", opts.Account, opts.Region, group, err))
		return st, nil
	case evidence.Answered(err):
		// refused or failed: the group may still be readable
		st.Problems = append(st.Problems, evidence.NewProblem("logs", "DescribeLogGroups", opts.Account, opts.Region, group, err))
	default:
		return st, err
	}
	w := &windowRun{api: api, group: group, opts: opts, lim: lim, sink: sink, now: opts.Now, st: &st,
		dir: WindowDir(opts.Account, opts.Region, group, opts.Since, opts.Until)}
	err = w.collect(ctx)
	w.report()
	if st.Complete && st.Exists == "unknown" {
		st.Exists = "yes" // not described, but read
	}
	if err != nil {
		if !evidence.Answered(err) {
			return st, err
		}
		st.Problems = append(st.Problems, evidence.NewProblem("logs", "FilterLogEvents", opts.Account, opts.Region, group, err))
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			st.Exists = "no"
		}
	}
	return st, nil
}

// coverage is a group's row of the acquire report.
func coverage(opts Options, st GroupStats) evidence.Coverage {
	c := evidence.Coverage{Source: "cloudwatch", Account: opts.Account, Region: opts.Region, Exists: st.Exists,
		Items: st.Events, Files: st.Pages, Bytes: st.Bytes, From: st.Oldest, To: st.Newest, Problems: st.Problems}
	var d []string
	d = append(d, "log group "+st.Group)
	if st.Exists == "yes" {
		ret := "kept forever"
		if st.RetentionDays > 0 {
			ret = fmt.Sprintf("retention %d days", st.RetentionDays)
		}
		d = append(d, ret, fmt.Sprintf("%d bytes stored", st.StoredBytes))
		if st.KMSKeyID != "" {
			d = append(d, "KMS key "+st.KMSKeyID)
		}
	}
	if st.Exists != "no" {
		state := "incomplete"
		switch {
		case st.Skipped:
			state = "complete (earlier run)"
		case st.Complete:
			state = "complete"
		}
		d = append(d, fmt.Sprintf("%d events in %d pages, %s", st.Events, st.Pages, state))
		if st.Throttled > 0 {
			d = append(d, fmt.Sprintf("throttled %d times", st.Throttled))
		}
	}
	c.Detail = strings.Join(d, "; ")
	return c
}
