package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"

	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// eventFilter is the event filters timeline and export share: keys,
// principals, IPs, event names and sources, accounts, regions, errors, a
// time window, a limit, and a scoped compromise.
type eventFilter struct {
	f                                                      store.Filter
	keys, principals, ips, events, sources, accounts, regs listFlag
	since, until, scopeText                                string
	scope                                                  *scope.Seed
}

// register adds the filter's flags to fs.
func (ef *eventFilter) register(fs *flag.FlagSet) {
	fs.Var(&ef.keys, "key", "access key id (repeatable, comma-separated)")
	fs.Var(&ef.principals, "principal", "principal ARN; * and ? glob; matches the caller and its role")
	fs.Var(&ef.ips, "ip", "source IP address or CIDR block")
	fs.Var(&ef.events, "event", "event name; * and ? glob, any case")
	fs.Var(&ef.sources, "source", "event source, e.g. iam.amazonaws.com or iam*")
	fs.Var(&ef.accounts, "account", "account id")
	fs.Var(&ef.regs, "region", "AWS region")
	fs.BoolVar(&ef.f.ErrorsOnly, "errors", false, "only calls that failed")
	fs.StringVar(&ef.since, "since", "", "from this time on (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.StringVar(&ef.until, "until", "", "before this time (RFC 3339, or YYYY-MM-DD meaning the end of that day)")
	fs.IntVar(&ef.f.Limit, "limit", 0, "at most this many events")
	fs.StringVar(&ef.scopeText, "scope", "", "only the events of a scoped compromise: key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS (see harrier scope); --since and --until bound it")
}

// parse checks the flags given and fills the store filter; usage errors
// for an IP, a time or a scope that cannot be read.
func (ef *eventFilter) parse() error {
	if ef.scopeText != "" {
		sd, err := parseScopeSeed(ef.scopeText)
		if err != nil {
			return err
		}
		ef.scope = &sd
	}
	f := &ef.f
	f.AccessKeys, f.Principals, f.IPs, f.Events, f.Sources, f.Accounts, f.Regions = ef.keys, ef.principals, ef.ips, ef.events, ef.sources, ef.accounts, ef.regs
	for _, ip := range ef.ips {
		if _, err := netip.ParsePrefix(ip); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return usageErr("--ip %q is neither an IP address nor a CIDR block", ip)
		}
	}
	var err error
	if f.Since, err = parseTimeFlag("since", ef.since, false); err != nil {
		return err
	}
	f.Until, err = parseTimeFlag("until", ef.until, true)
	return err
}

// given says whether any filter was given.
func (ef *eventFilter) given() bool {
	f := ef.f
	return len(f.AccessKeys)+len(f.Principals)+len(f.IPs)+len(f.Events)+len(f.Sources)+len(f.Accounts)+len(f.Regions) > 0 ||
		f.ErrorsOnly || !f.Since.IsZero() || !f.Until.IsZero() || f.Limit != 0 || ef.scope != nil
}

// resolveScope runs the scope, when one was given, and narrows the filter
// to its keys and events.
func (ef *eventFilter) resolveScope(ctx context.Context, st *store.Store) error {
	if ef.scope == nil {
		return nil
	}
	rep, err := scope.Run(ctx, st, scope.Options{Seeds: []scope.Seed{*ef.scope}, Since: ef.f.Since, Until: ef.f.Until})
	if err != nil {
		return fmt.Errorf("--scope %s: %w", ef.scopeText, err)
	}
	ef.f.Scope = &store.ScopeSet{AccessKeys: rep.AccessKeyIDs, EventIDs: rep.EventIDs}
	return nil
}
