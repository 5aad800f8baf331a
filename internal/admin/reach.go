package admin

import (
	"errors"
	"net/http"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Who manages what. A global admin (SEEDGATE_ADMIN_KEY, or a key with the
// global_admin scope) manages every tenant. Any other admin key manages its
// own tenant only — its keys, ledger, usage and audit log — and never its
// balance or limits, which is what a tenant must not give itself. Another
// tenant answers exactly like one that does not exist.

func caller(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// reach checks that p may manage tenant id (a stored id).
func reach(p auth.Principal, id, field string) error {
	if p.Global() || id == p.Tenant {
		return nil
	}
	return task.Errorf(task.CodeNotFound, field, "no tenant %s", TenantName(id))
}

// onlyGlobal refuses a tenant admin what only a global admin may do.
func onlyGlobal(p auth.Principal, field, what string) error {
	if p.Global() {
		return nil
	}
	return task.Errorf(task.CodeForbidden, field, "%s needs a global admin (SEEDGATE_ADMIN_KEY or a key with the global_admin scope): this key administers tenant %s only",
		what, TenantName(p.Tenant))
}

// tenantFilter is the tenant a list is about: ?tenant= if given (nil: every
// tenant); a tenant admin's lists are always its own tenant's.
func tenantFilter(r *http.Request) (*string, error) {
	p := caller(r)
	q := r.URL.Query()
	if !q.Has("tenant") {
		if p.Global() {
			return nil, nil
		}
		return &p.Tenant, nil
	}
	id, err := TenantID(q.Get("tenant"), "tenant")
	if err != nil {
		return nil, err
	}
	if err := reach(p, id, "tenant"); err != nil {
		return nil, err
	}
	return &id, nil
}

// key is the key of the path; another tenant's key answers like a missing one.
func (h *Handler) key(r *http.Request) (*store.APIKey, error) {
	missing := task.Errorf(task.CodeNotFound, "id", "no API key %s", r.PathValue("id"))
	k, err := h.Store.GetAPIKey(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	if reach(caller(r), k.Tenant, "id") != nil {
		return nil, missing
	}
	return k, nil
}

// Me is GET /admin/v1/me: the calling admin key, its tenant, and whether it
// manages every tenant (global) or its own only.
func (h *Handler) Me(w http.ResponseWriter, r *http.Request) {
	p := caller(r)
	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "admin", "key_id": p.KeyID, "name": p.Name,
		"tenant": TenantName(p.Tenant), "scopes": p.Scopes.Names(), "global": p.Global()})
}
