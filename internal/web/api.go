package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

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
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(v)
	}
}

// writeError answers err as JSON {"error": ...}. The request's own faults
// (400, 404) say what was wrong, in words this package wrote; anything
// else is logged with an id and the browser gets only the id: a failed
// query's text (SQL, table names, a driver's message) is no business of a
// page that renders attacker-written data.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := ""
	switch {
	case errors.Is(err, context.Canceled):
		return // the browser went away
	case errors.Is(err, errBadRequest):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, errNotFound), errors.Is(err, scope.ErrNoSeed):
		status, msg = http.StatusNotFound, err.Error()
	default:
		id := s.errSeq.Add(1)
		s.log.Printf("error %d: %s %s: %v", id, r.Method, r.URL.Path, err)
		msg = fmt.Sprintf("internal error %d: the terminal running harrier serve has the details", id)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// summaryView is the case at a glance, and whether its evidence was
// verified: the page says so in its header, loudly when it was not.
type summaryView struct {
	Case      string        `json:"case"`
	Summary   store.Summary `json:"summary"`
	Integrity integrityView `json:"integrity"`
}

// integrityView is what the latest `harrier verify` recorded, as the
// report's integrity section reads it: Verified is false when verify never
// ran (then nothing is vouched for); Untrusted counts the events whose
// evidence verify did not find verified (modified, unverifiable,
// changed since acquired, or unchecked: not in the verified manifest).
type integrityView struct {
	Verified   bool             `json:"verified"`
	VerifiedAt string           `json:"verified_at,omitempty"`
	Files      map[string]int64 `json:"files"`  // evidence files per status
	Events     map[string]int64 `json:"events"` // events per status of their file
	Untrusted  int64            `json:"untrusted_events"`
}

// summary is counted once: the store is read-only, so it cannot change
// while served, and on a large case counting takes a second. Requests that
// arrive while it is counted wait for that count rather than start their
// own, and s.mu is not held meanwhile.
func (s *Server) summary(ctx context.Context, r *http.Request) (any, error) {
	s.mu.Lock()
	sum := s.sum
	s.mu.Unlock()
	if sum != nil {
		return *sum, nil
	}
	ch := s.flight.DoChan("summary", func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		sum, err := s.st.Summarize(ctx)
		if err != nil {
			return nil, err
		}
		sum.ByAccountRegionDay = nil // the page shows the three slices; this one grows with the case
		v := &summaryView{Case: s.caseName, Summary: sum}
		if v.Integrity, err = integrityOf(ctx, s.st); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.sum = v
		s.mu.Unlock()
		return v, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return *res.Val.(*summaryView), nil
	}
}

func integrityOf(ctx context.Context, st *store.Store) (integrityView, error) {
	rec, err := st.Integrity(ctx)
	if err != nil {
		return integrityView{}, err
	}
	flagged, err := st.FlaggedEvents(ctx)
	if err != nil {
		return integrityView{}, err
	}
	v := integrityView{Verified: !rec.VerifiedAt.IsZero(), Files: rec.Files, Events: flagged}
	if !v.Verified {
		return v, nil
	}
	v.VerifiedAt = rec.VerifiedAt.UTC().Format(time.RFC3339)
	for k, n := range flagged {
		if k != "verified" {
			v.Untrusted += n
		}
	}
	return v, nil
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
	rep, err := s.scope(ctx, f.Scope, f.Since, f.Until)
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
	return facets(ctx, s.st.DB(), f, r.URL.Query().Get("field"), limit)
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
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return nil, err
	}
	if f.Scope == "" {
		return nil, badRequest("scope: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS")
	}
	return s.scope(ctx, f.Scope, f.Since, f.Until)
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
