package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/task"
)

// principal authenticates r: the caller of its key, or everyone's principal
// on an open gateway (no static, admin or stored key).
func (s *Server) principal(r *http.Request) (auth.Principal, error) {
	k := s.cfg.Keyring
	open, err := k.Open(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "checking for API keys failed", "err", err)
		return auth.Principal{}, auth.AuthError(err)
	}
	var p auth.Principal
	if open {
		// A key stored meanwhile (`seedgate keys create` on the same database)
		// closes the gateway; until this instance has noticed, within the
		// keyring's TTL, that key already works as itself. Other keys are
		// ignored, as on any open gateway.
		if tok := auth.BearerToken(r); tok != "" {
			if kp, err := k.Authenticate(r.Context(), tok); err == nil {
				return kp, nil
			}
		}
		p, err = k.OpenPrincipal(r.Context())
	} else {
		p, err = k.Authenticate(r.Context(), auth.BearerToken(r))
	}
	if err != nil {
		te := auth.AuthError(err)
		if te.Code != task.CodeUnauthorized {
			s.log.ErrorContext(r.Context(), "authenticating a key failed", "err", err)
		}
		return auth.Principal{}, te
	}
	return p, nil
}

// allow checks that p, the caller of r, has the scope the request needs,
// and counts it against the key's requests per minute.
func (s *Server) allow(r *http.Request, p auth.Principal) error {
	if need := s.requiredScope(r); !p.Scopes.Has(need) {
		return task.Errorf(task.CodeForbidden, "", "this API key lacks the %s scope that %s %s needs (it has: %s)",
			need, r.Method, r.URL.Path, strings.Join(p.Scopes.Names(), ", "))
	}
	return s.takeRequest(r.Context(), p)
}

// requiredScope is what a request needs: global_admin for the gateway-wide
// metrics (every tenant's traffic and spend), admin under /admin/ (the admin
// package keeps a tenant's admin within its tenant), read for GET and for the
// POST routes that only read (seedance's retrieve, the responses dialect's
// seedance-get query), submit for everything else (creates, cancels, deletes,
// uploads, webhook management).
func (s *Server) requiredScope(r *http.Request) auth.Scope {
	switch {
	case r.URL.Path == "/metrics", r.URL.Path == "/admin/v1/ops":
		return auth.ScopeGlobalAdmin
	case strings.HasPrefix(r.URL.Path, "/admin/"):
		return auth.ScopeAdmin
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return auth.ScopeRead
	case r.URL.Path == "/v1/seedance/tasks":
		return auth.ScopeRead
	case r.URL.Path == "/v1/responses":
		limit := s.cfg.MaxBodyBytes
		if limit <= 0 {
			limit = 64 << 20
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err == nil && int64(len(body)) <= limit && !responsesSubmit(body) {
			return auth.ScopeRead
		}
	}
	return auth.ScopeSubmit
}

// takeRequest counts a request against the key's requests per minute, in
// the store so that every instance counts into the same window (a fixed
// window per UTC minute). Over the limit it is a rate_limited error with
// Retry-After up to the next window. Keys without a limit cost nothing.
func (s *Server) takeRequest(ctx context.Context, p auth.Principal) error {
	if p.RPM <= 0 {
		return nil
	}
	now := time.Now()
	window := now.Truncate(time.Minute)
	ok, err := s.store.TakeRequest(ctx, p.KeyID, window, p.RPM)
	if err != nil {
		// The store is failing: the request itself will say so; a counter must
		// not be what takes the gateway down.
		s.log.WarnContext(ctx, "counting a request failed; let through", "key", p.KeyID, "err", err)
		return nil
	}
	if ok {
		return nil
	}
	s.cfg.Metrics.Refused("rate_limit")
	retry := int(window.Add(time.Minute).Sub(now)/time.Second) + 1
	e := task.Errorf(task.CodeRateLimited, "", "this API key may make %d requests per minute; retry in %d s", p.RPM, retry)
	e.RetryAfter = retry
	return e
}
