// Package auth carries who is calling through a request's context.
package auth

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
)

// Principal is an authenticated caller.
type Principal struct {
	KeyID  string // a stable, non-secret name for the key (e.g. "static:1")
	Tenant string // whose tasks and files it sees; "" in the open / static-key mode
	// Scopes is what the key may do; Name is a stored key's name.
	Scopes Scope
	Name   string
	// RPM and MaxInFlight are the key's resolved limits (0: unlimited).
	RPM, MaxInFlight int
}

// Global reports whether p administers every tenant (SEEDGATE_ADMIN_KEY or
// the global_admin scope); an admin without it manages its own tenant only.
func (p Principal) Global() bool { return p.Scopes.Has(ScopeGlobalAdmin) }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller, and false when the request was not authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// BearerToken returns the API key of r: "Authorization: Bearer <key>", or the
// bare key (the responses dialect's clients send it without "Bearer ",
// docs/dialects.md#every-dialect). "" when absent.
func BearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

// StaticKeys checks keys against a fixed list (SEEDGATE_API_KEYS) in constant time.
type StaticKeys []string

// Lookup returns the principal of key, or false.
func (s StaticKeys) Lookup(key string) (Principal, bool) {
	found := -1
	for i, k := range s {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			found = i
		}
	}
	if found < 0 || key == "" {
		return Principal{}, false
	}
	return Principal{KeyID: "static:" + strconv.Itoa(found+1)}, true
}
