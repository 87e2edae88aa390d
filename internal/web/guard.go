package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
)

// ContentSecurityPolicy allows the page's own script, style and images
// (and the scope graph, which the page fetches with the token and shows
// from a blob: URL) and nothing else: no inline script, no eval, no
// framing, no other origin.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// TokenHeader carries the token on the page's API calls. A header, not a
// cookie: cookies are per host, not per port, so a cookie for 127.0.0.1
// would go to every other server on the machine's loopback, and a
// page served from another port could ride on it.
const TokenHeader = "X-Harrier-Token"

// publicPaths are the page, its script and its style: the same for every
// case, holding no evidence, and loaded by the browser without custom
// headers, so they need no token (the page then reads the token from its
// first URL or its tab's sessionStorage). Everything under /api/ does.
var publicPaths = map[string]bool{"/": true, "/app.js": true, "/app.css": true}

// ServeHTTP guards every request, in this order: security headers on every
// answer; the Host header must name this server (a DNS-rebinding page
// would send its own name); the method must be GET; and, but for the
// static page, the token must be present, in the X-Harrier-Token header
// the page sends or the URL's token parameter. A token in the URL that is
// wrong is refused even on the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if !s.hostOK(r.Host) {
		http.Error(w, "forbidden: unexpected Host", http.StatusForbidden)
		return
	}
	tok, given := r.Header.Get(TokenHeader), true
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	if tok == "" {
		given = false
	}
	if (given && !s.tokenOK(tok)) || (!given && !publicPaths[r.URL.Path]) {
		http.Error(w, "forbidden: open the URL harrier serve printed", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed: this server only reads", http.StatusMethodNotAllowed)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) tokenOK(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.token)) == 1
}

// hostOK accepts only the names this server is reached by.
func (s *Server) hostOK(host string) bool {
	return host == s.addr.String() || host == "localhost:"+strconv.Itoa(int(s.addr.Port()))
}
