// Package web is `harrier serve`: a local investigation UI over one case.
// The case's events come from attacker-controlled logs and the UI runs in
// the responder's browser, so the server is built to be boring to attack:
// it listens on loopback only, answers only requests that carry a random
// token and name the expected Host (DNS rebinding), serves GET only over a
// store opened read-only, and sends a Content-Security-Policy that allows
// no inline script. The page's script builds every element with
// createElement and textContent; no event field is ever parsed as HTML.
// Pages and facets are computed in SQL (keyset pagination, aggregates with
// limits), so a case of millions of events stays responsive.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// Options configure a Server.
type Options struct {
	// Token is the secret every request must carry; empty makes a new one
	// (256 bits from crypto/rand). Tests set it.
	Token string
	// CaseName is shown in the page's title.
	CaseName string
	// Log receives what went wrong inside the server (a failed query),
	// which the browser only sees as an error id; nil discards it.
	Log io.Writer
}

// Server is the UI over one case's store. It only reads: the store must be
// opened read-only (store.Options{ReadOnly: true}), so DuckDB itself refuses
// any write, and the server has no endpoint that would issue one.
type Server struct {
	st       *store.Store
	token    string
	addr     netip.AddrPort
	caseName string
	mux      *http.ServeMux

	log      *log.Logger
	errSeq   atomic.Int64 // ids of internal errors, to match the log with the page
	flight   singleflight.Group
	scopeRun atomic.Int64 // scope.Run calls, for tests

	mu     sync.Mutex
	scopes map[string]*scope.Report // scope.Run results by seed and window, bounded by maxScopes
	sum    *summaryView             // the case's summary, once counted
}

// maxScopes bounds the cached scopes; the UI asks for the same few again
// and again as the user pages through one.
const maxScopes = 16

// New makes the server for the store, to be reached at addr, the
// listener's loopback address and port (or localhost and the port):
// requests naming another Host are refused.
func New(st *store.Store, addr string, opts Options) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		return nil, fmt.Errorf("serve at %q: give the listener's loopback address and port", addr)
	}
	tok := opts.Token
	if tok == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("make token: %w", err)
		}
		tok = hex.EncodeToString(b)
	}
	if len(tok) < 32 {
		return nil, errors.New("the token must be at least 128 bits (32 hex digits)")
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	s := &Server{st: st, token: tok, addr: ap, caseName: opts.CaseName, scopes: map[string]*scope.Report{},
		log: log.New(w, "harrier serve: ", log.LstdFlags|log.LUTC)}
	s.routes()
	return s, nil
}

// URL is the address to open: it carries the token, which the page keeps
// in its tab's sessionStorage and sends in a header, and then drops from
// the address bar.
func (s *Server) URL() string {
	return "http://" + s.addr.String() + "/?token=" + s.token
}

// Listen listens on addr:port, which must be a loopback address: the UI
// shows evidence and must not be reachable from the network. Port 0 picks a
// free port.
func Listen(addr string, port int) (net.Listener, error) {
	if addr == "localhost" {
		addr = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--addr %q: serve listens on a loopback address only (127.0.0.1)", addr)
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("--port %d: out of range", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is done, then shuts down gracefully
// (requests in flight get a few seconds to finish). It returns nil after a
// shutdown that ctx asked for.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
