package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
)

// ContentSecurityPolicy allows the page's own script, style and images
// (and the scope graph's data: URLs) and nothing else: no inline script,
// no eval, no framing, no other origin.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// cookieName carries the port: cookies are per host, not per port, and two
// cases may be served at once.
func (s *Server) cookieName() string { return "harrier_token_" + strconv.Itoa(int(s.addr.Port())) }

// ServeHTTP guards every request, in this order: security headers on every
// answer; the Host header must name this server (a DNS-rebinding page
// would send its own name); the token must be present, from the URL or the
// cookie the first load sets; and the method must be GET. A valid token in
// the page's URL is traded for the cookie and a redirect that drops it from
// the address bar and history.
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
	fromURL := false
	ok := false
	if v := r.URL.Query().Get("token"); v != "" {
		ok = s.tokenOK(v)
		fromURL = ok
	} else if c, err := r.Cookie(s.cookieName()); err == nil {
		ok = s.tokenOK(c.Value)
	}
	if !ok {
		http.Error(w, "forbidden: open the URL harrier serve printed", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed: this server only reads", http.StatusMethodNotAllowed)
		return
	}
	if fromURL && r.URL.Path == "/" {
		http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
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
