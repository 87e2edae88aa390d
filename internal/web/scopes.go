package web

import (
	"context"
	"fmt"
	"net/http"
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

// ParseSeed reads a scope seed written as `timeline --scope` takes it:
// key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS, checked by
// scope.NewSeed as the command line checks it, so that a click on a value
// scoping cannot start from (a service's hostname, a principal that is not
// an ARN) gets a clear 400, not an empty or failed scope.
func ParseSeed(v string) (scope.Seed, error) {
	kind, value, ok := strings.Cut(v, ":")
	if !ok || value == "" {
		return scope.Seed{}, badRequest("scope %q: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS", v)
	}
	s, err := scope.NewSeed(kind, value)
	if err != nil {
		return scope.Seed{}, badRequest("scope %q: %v", v, err)
	}
	return s, nil
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
