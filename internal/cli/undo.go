package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond"
)

func runUndo(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "undo", "ACTION_ID|RUN_ID ... --case DIR [--apply] [--format text|json]")
	var f respondFlags
	f.register(fs, "the case folder whose audit log (actions.jsonl) holds the actions; or HARRIER_CASE", "make the reverse calls (without it, only the plan is printed)", "")
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return err
	}
	if err := needAccount(f); err != nil {
		return err
	}
	if len(ids) == 0 {
		return usageErr("undo needs the id of an action (RUN.STEP) or of a whole run, as contain printed them")
	}
	dir, err := e.caseDir(f.caseDir)
	if err != nil {
		return err
	}
	c, err := casefile.Open(dir, version(), true)
	if err != nil {
		return err
	}
	defer c.Close()
	// an edited log must not steer the reverse calls: the hash chain and
	// the heads recorded in the manifest are checked first
	if _, err := c.VerifyActions(); err != nil {
		return fmt.Errorf("refusing to undo from this audit log: %w; nothing was done", err)
	}
	recs, bad, err := c.Actions()
	if err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(e.stderr, "harrier: warning: %s\n", safe(b.Error()))
	}
	all, err := respond.ParseActions(recs)
	if err != nil {
		return err
	}
	targets, err := respond.Select(all, ids)
	if err != nil {
		return usageErr("%s", err.Error())
	}
	// the reverse is made where the actions were: their region
	region := targets[0].Region
	for _, a := range targets[1:] {
		if a.Region != region {
			return usageErr("the actions named were made in different regions (%s, %s): undo them one region at a time", region, a.Region)
		}
	}
	f.target.region = region
	f.target.session = "harrier-undo"
	cfg, err := f.target.load(ctx)
	if err != nil {
		return err
	}
	clients := respondClients(cfg)
	p, err := respond.PlanUndo(ctx, clients, c.Meta.ID, all, targets, c.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	if f.account != "" && f.account != p.Account {
		return fmt.Errorf("%w: --account %s, the credentials are for %s; nothing was done", respond.ErrWrongAccount, f.account, p.Account)
	}
	return showAndApply(ctx, e, c, clients, p, f, "undo")
}
