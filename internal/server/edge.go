package server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/rs/cors"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// What a web page in a browser may make the gateway do. A browser sends a
// page's "simple" requests (text/plain, form and multipart bodies, no
// Authorization header) to any site without asking first, so on an open
// gateway — where no key is needed — any page its users visit could create
// tasks and upload files. Three checks stop that:
//
//   - JSON bodies need a JSON Content-Type (wire.CheckJSONContentType), which
//     a page can only send cross-origin after a CORS preflight;
//   - every request that changes something is refused when the browser marks
//     it cross-site (Sec-Fetch-Site) or its Origin is not the gateway's own
//     (http.CrossOriginProtection) — this covers multipart uploads, which a
//     plain HTML form can post — unless SEEDGATE_CORS_ORIGINS trusts the origin;
//   - the Host header must name the gateway (SEEDGATE_ALLOWED_HOSTS), so a
//     page on a name that an attacker rebinds to the gateway's address (DNS
//     rebinding) is same-origin in the browser but refused here.
//
// Clients that are not browsers send no Origin or Sec-Fetch-Site and are not
// affected; the console is served from the gateway's own origin.

// hostPolicy is SEEDGATE_ALLOWED_HOSTS: the names the gateway answers to. IP
// literals are always allowed: rebinding needs a name the attacker controls.
type hostPolicy struct {
	any   bool
	names map[string]bool
	// suffixes are "*.example.com" entries, kept as ".example.com".
	suffixes []string
}

func newHostPolicy(allowed []string, publicURL string) hostPolicy {
	p := hostPolicy{names: map[string]bool{}}
	if len(allowed) == 0 {
		allowed = []string{"localhost", "*.localhost"}
		if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
			allowed = append(allowed, u.Hostname())
		}
	}
	for _, h := range allowed {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		switch {
		case h == "*":
			p.any = true
		case strings.HasPrefix(h, "*."):
			p.suffixes = append(p.suffixes, h[1:])
		case h != "":
			p.names[h] = true
		}
	}
	return p
}

func (p hostPolicy) allows(host string) bool {
	if p.any {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if p.names[host] {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// checkHost refuses requests whose Host is not one of the gateway's names
// (health checks excepted: orchestrators probe by address or internal name).
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hosts.allows(r.Host) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		wire.WriteJSON(w, http.StatusMisdirectedRequest, map[string]any{"error": map[string]string{
			"code": "misdirected_request",
			"message": "this gateway does not answer to the host name " + quoteHost(r.Host) +
				": add it to SEEDGATE_ALLOWED_HOSTS (or set SEEDGATE_PUBLIC_URL to the URL clients use)",
			"request_id": wire.RequestID(r.Context()),
		}})
	})
}

func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100]
	}
	return `"` + strings.ToValidUTF8(h, "?") + `"`
}

// withCORS answers CORS preflights and marks answers readable by the
// SEEDGATE_CORS_ORIGINS origins; with none configured no CORS header is sent
// (browsers then keep other origins' pages from reading any answer).
func (s *Server) withCORS(next http.Handler) http.Handler {
	if len(s.cfg.CORSOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: s.cfg.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "Prefer", "X-Client-Request-Id", "Last-Event-ID"},
		ExposedHeaders: []string{"X-Request-Id", "Retry-After", "Preference-Applied", "Idempotent-Replayed", "Location",
			"Content-Disposition", "WWW-Authenticate"},
		MaxAge: 600,
	}).Handler(next)
}

// newCrossOrigin is the check of requests that change something (see the
// top of this file): the SEEDGATE_CORS_ORIGINS origins are trusted; "*"
// trusts every origin, so there is no check (nil).
func newCrossOrigin(origins []string) *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	for _, o := range origins {
		if o == "*" {
			return nil
		}
		_ = c.AddTrustedOrigin(o) // config validated the origins
	}
	return c
}

func (s *Server) crossOriginError(r *http.Request) error {
	if s.crossOrigin == nil || s.crossOrigin.Check(r) == nil {
		return nil
	}
	return task.Errorf(task.CodeForbidden, "", "cross-origin request refused: browsers may send requests that change something "+
		"from the gateway's own pages and from the origins in SEEDGATE_CORS_ORIGINS only")
}
