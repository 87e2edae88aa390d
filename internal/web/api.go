package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

//go:embed assets
var assets embed.FS

// routes lists every path the server answers; each only reads.
func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("/{$}", s.asset("assets/index.html", "text/html; charset=utf-8"))
	m.HandleFunc("/app.js", s.asset("assets/app.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("/app.css", s.asset("assets/app.css", "text/css; charset=utf-8"))
	m.HandleFunc("/api/summary", s.api(s.summary))
	m.HandleFunc("/api/findings", s.api(s.findings))
	m.HandleFunc("/api/events", s.api(s.events))
	m.HandleFunc("/api/facets", s.api(s.facets))
	m.HandleFunc("/api/histogram", s.api(s.histogram))
	m.HandleFunc("/api/event", s.api(s.event))
	m.HandleFunc("/api/scope", s.api(s.scopeReport))
	m.HandleFunc("/api/scope.svg", s.scopeGraph)
	s.mux = m
}

func (s *Server) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			http.Error(w, "missing asset", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(b)
	}
}

// api adapts a handler that returns a value to JSON. encoding/json escapes
// <, > and & in strings, so even a response opened as a page shows no
// markup; errors are JSON too, with a status that says whose fault.
func (s *Server) api(fn func(ctx context.Context, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r.Context(), r)
		status := http.StatusOK
		switch {
		case err == nil:
		case errors.Is(err, errBadRequest):
			status = http.StatusBadRequest
		case errors.Is(err, errNotFound), errors.Is(err, scope.ErrNoSeed):
			status = http.StatusNotFound
		case errors.Is(err, context.Canceled):
			return // the browser went away
		default:
			status = http.StatusInternalServerError
		}
		if err != nil {
			v = map[string]string{"error": err.Error()}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
}

// summaryView is the case at a glance.
type summaryView struct {
	Case    string        `json:"case"`
	Summary store.Summary `json:"summary"`
}

// summary is counted once: the store is read-only, so it cannot change
// while served, and on a large case counting takes a second.
func (s *Server) summary(ctx context.Context, r *http.Request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sum != nil {
		return *s.sum, nil
	}
	sum, err := s.st.Summarize(ctx)
	if err != nil {
		return nil, err
	}
	sum.ByAccountRegionDay = nil // the page shows the three slices; this one grows with the case
	s.sum = &summaryView{Case: s.caseName, Summary: sum}
	return *s.sum, nil
}

// findingsView is the latest hunt's findings; Hunted is false before any.
type findingsView struct {
	Hunted   bool            `json:"hunted"`
	Findings []detect.Stored `json:"findings"`
}

func (s *Server) findings(ctx context.Context, r *http.Request) (any, error) {
	fs, err := detect.Findings(ctx, s.st, 0)
	if errors.Is(err, detect.ErrNoHunt) {
		return findingsView{Findings: []detect.Stored{}}, nil
	}
	if err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []detect.Stored{}
	}
	return findingsView{Hunted: true, Findings: fs}, nil
}

// filter reads the request's filter and resolves its scope.
func (s *Server) filter(ctx context.Context, r *http.Request) (Filter, error) {
	f, err := parseFilter(r.URL.Query())
	if err != nil || f.Scope == "" {
		return f, err
	}
	rep, err := s.scope(ctx, f.Scope)
	if err != nil {
		return f, err
	}
	f.scopeSet = &store.ScopeSet{AccessKeys: rep.AccessKeyIDs, EventIDs: rep.EventIDs}
	return f, nil
}

func (s *Server) events(ctx context.Context, r *http.Request) (any, error) {
	f, err := s.filter(ctx, r)
	if err != nil {
		return nil, err
	}
	size, err := intParam(r, "limit", 100, 1, MaxPageSize)
	if err != nil {
		return nil, err
	}
	after, err := decodeCursor(r.URL.Query().Get("after"))
	if err != nil {
		return nil, err
	}
	return page(ctx, s.st.DB(), f, after, size)
}

func (s *Server) facets(ctx context.Context, r *http.Request) (any, error) {
	f, err := s.filter(ctx, r)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 10, 1, MaxFacetValues)
	if err != nil {
		return nil, err
	}
	return facets(ctx, s.st.DB(), f, limit)
}

func (s *Server) histogram(ctx context.Context, r *http.Request) (any, error) {
	f, err := s.filter(ctx, r)
	if err != nil {
		return nil, err
	}
	return histogram(ctx, s.st.DB(), f)
}

func (s *Server) event(ctx context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	idx, err := strconv.ParseInt(q.Get("index"), 10, 64)
	if err != nil || q.Get("file") == "" {
		return nil, badRequest("name the event with file and index")
	}
	return eventJSON(ctx, s.st.DB(), q.Get("file"), idx)
}

func (s *Server) scopeReport(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query().Get("scope")
	if v == "" {
		return nil, badRequest("scope: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS")
	}
	return s.scope(ctx, v)
}

// scopeGraph draws a scope's credential chain as SVG, which the page shows
// in an <img>: a browser runs no script in an image, and the CSP forbids
// it in the SVG opened on its own.
func (s *Server) scopeGraph(w http.ResponseWriter, r *http.Request) {
	rep, err := s.scope(r.Context(), r.URL.Query().Get("scope"))
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, errBadRequest) {
			status = http.StatusBadRequest
		} else if errors.Is(err, scope.ErrNoSeed) {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	rep.Graph.WriteSVG(w)
}

// scope runs (or recalls) the scoping of a seed written kind:value.
func (s *Server) scope(ctx context.Context, v string) (*scope.Report, error) {
	seed, err := ParseSeed(v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	rep, ok := s.scopes[v]
	s.mu.Unlock()
	if ok {
		return rep, nil
	}
	rep, err = scope.Run(ctx, s.st, scope.Options{Seeds: []scope.Seed{seed}, MaxListed: 200})
	if err != nil {
		return nil, fmt.Errorf("scope %s: %w", v, err)
	}
	s.mu.Lock()
	if len(s.scopes) >= maxScopes {
		clear(s.scopes)
	}
	s.scopes[v] = rep
	s.mu.Unlock()
	return rep, nil
}

// ParseSeed reads a scope seed written as `timeline --scope` takes it:
// key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS.
func ParseSeed(v string) (scope.Seed, error) {
	kind, value, ok := strings.Cut(v, ":")
	if !ok || value == "" || (kind != "key" && kind != "principal" && kind != "ip") {
		return scope.Seed{}, badRequest("scope %q: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS", v)
	}
	return scope.Seed{Kind: kind, Value: value}, nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s: a number from %d to %d", name, lo, hi)
	}
	return n, nil
}
