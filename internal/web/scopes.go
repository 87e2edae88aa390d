package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/scope"
)

// scopeKey names one scoping: the seed and the window, which change what
// scope.Run finds.
func scopeKey(seed string, since, until time.Time) string {
	return seed + "\x00" + timeKey(since) + "\x00" + timeKey(until)
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// scope runs (or recalls) the scoping of a seed written kind:value in the
// window [since, until). One view of the page asks for the same scope five
// times at once (report, page, facets, chart, graph): the first request
// runs it and the others wait for its result (singleflight), so the case is
// scoped once. The shared run is not cancelled when the request that
// started it goes away, because others may be waiting; a waiter that goes
// away stops waiting.
func (s *Server) scope(ctx context.Context, v string, since, until time.Time) (*scope.Report, error) {
	seed, err := ParseSeed(v)
	if err != nil {
		return nil, err
	}
	key := scopeKey(v, since, until)
	s.mu.Lock()
	rep, ok := s.scopes[key]
	s.mu.Unlock()
	if ok {
		return rep, nil
	}
	ch := s.flight.DoChan("scope\x00"+key, func() (any, error) {
		s.scopeRun.Add(1)
		rep, err := scope.Run(context.WithoutCancel(ctx), s.st, scope.Options{Seeds: []scope.Seed{seed}, Since: since, Until: until, MaxListed: 200})
		if err != nil {
			return nil, fmt.Errorf("scope %s: %w", v, err)
		}
		s.mu.Lock()
		if len(s.scopes) >= maxScopes {
			clear(s.scopes)
		}
		s.scopes[key] = rep
		s.mu.Unlock()
		return rep, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*scope.Report), nil
	}
}

// accessKeyID is what AWS documents an access key id to be: 16 to 128
// word characters; CloudTrail's are upper-case letters and digits.
var accessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// ParseSeed reads a scope seed written as `timeline --scope` takes it:
// key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS. It refuses values scoping
// cannot start from, which the page's facets also list: a service's
// hostname where CloudTrail puts the source IP (config.amazonaws.com), a
// principal that is not an ARN (a service, an account), so that a click
// on one gets a clear 400, not an empty or failed scope. The CLI's
// parseScopeSeed checks the IP the same way (netip.ParseAddr).
func ParseSeed(v string) (scope.Seed, error) {
	kind, value, ok := strings.Cut(v, ":")
	if !ok || value == "" {
		return scope.Seed{}, badRequest("scope %q: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS", v)
	}
	switch kind {
	case "key":
		if !accessKeyID.MatchString(value) {
			return scope.Seed{}, badRequest("scope %q: not an access key id (16 to 128 upper-case letters and digits)", v)
		}
	case "principal":
		if p := strings.SplitN(value, ":", 6); len(p) != 6 || p[0] != "arn" || p[5] == "" {
			return scope.Seed{}, badRequest("scope %q: a principal to scope from is an ARN (arn:aws:iam::ACCOUNT:user/NAME, a role or a role session); a service or an account has no credentials to follow", v)
		}
	case "ip":
		if ip, err := netip.ParseAddr(value); err != nil || ip.Zone() != "" {
			return scope.Seed{}, badRequest("scope %q: not an IP address (CloudTrail names an AWS service's own calls by its hostname, which has no credentials to follow)", v)
		}
	default:
		return scope.Seed{}, badRequest("scope %q: the kind is key, principal or ip", v)
	}
	return scope.Seed{Kind: kind, Value: value}, nil
}

// scopeGraph draws a scope's credential chain as SVG. The page fetches it
// with the token header and shows it in an <img> from a blob: URL: a
// browser runs no script in an image, and the CSP forbids it in the SVG
// opened on its own.
func (s *Server) scopeGraph(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err == nil && f.Scope == "" {
		err = badRequest("scope: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS")
	}
	var rep *scope.Report
	if err == nil {
		rep, err = s.scope(r.Context(), f.Scope, f.Since, f.Until)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	rep.Graph.WriteSVG(w)
}
