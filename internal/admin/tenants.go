package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type tenantView struct {
	Object      string `json:"object"`
	ID          string `json:"id"`
	RPM         *int   `json:"rpm"`
	MaxInFlight *int   `json:"max_in_flight"`
	// Balance is nil for a tenant without one: it is not limited by a balance.
	Balance   *int64 `json:"balance"`
	Unlimited bool   `json:"unlimited"`
	// StorageQuota is the tenant's own storage quota in bytes (null: the gateway default).
	StorageQuota *int64 `json:"storage_quota"`
	Unit         string `json:"unit"`
	CreatedAt    *int64 `json:"created_at"`
	UpdatedAt    *int64 `json:"updated_at"`
}

func (h *Handler) tenantView(id string, t *store.Tenant) tenantView {
	v := tenantView{Object: "tenant", ID: TenantName(id), Unlimited: true, Unit: h.Prices.Unit()}
	if t != nil {
		v.RPM, v.MaxInFlight, v.Balance, v.Unlimited = t.Limits.RPM, t.Limits.MaxInFlight, t.Balance, t.Balance == nil
		v.StorageQuota = t.StorageQuota
		v.CreatedAt, v.UpdatedAt = unixPtr(&t.CreatedAt), unixPtr(&t.UpdatedAt)
	}
	return v
}

// tenantID is the tenant of the path, if the caller may manage it.
func (h *Handler) tenantID(r *http.Request) (string, error) {
	id, err := TenantID(r.PathValue("id"), "id")
	if err != nil {
		return id, err
	}
	return id, reach(caller(r), id, "id")
}

// ListTenants is GET /admin/v1/tenants: the tenants with limits or a balance
// (for a tenant admin: its own tenant).
func (h *Handler) ListTenants(w http.ResponseWriter, r *http.Request) {
	out := []tenantView{}
	if p := caller(r); !p.Global() {
		t, err := h.Store.GetTenant(r.Context(), p.Tenant)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.WriteError(w, r, err)
			return
		}
		out = append(out, h.tenantView(p.Tenant, t))
	} else {
		ts, err := h.Store.ListTenants(r.Context())
		if err != nil {
			h.WriteError(w, r, err)
			return
		}
		for _, t := range ts {
			out = append(out, h.tenantView(t.ID, t))
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// GetTenant is GET /admin/v1/tenants/{id} and GET /admin/v1/tenants/{id}/balance
// (any tenant: one without a row has no limits and no balance).
func (h *Handler) GetTenant(w http.ResponseWriter, r *http.Request) {
	id, err := h.tenantID(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	t, err := h.Store.GetTenant(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.tenantView(id, t))
}

// SetTenantLimits is PUT /admin/v1/tenants/{id}/limits: the default limits of
// the tenant's keys (null or absent: the gateway's defaults).
func (h *Handler) SetTenantLimits(w http.ResponseWriter, r *http.Request) {
	id, err := h.tenantID(r)
	if err == nil {
		err = onlyGlobal(caller(r), "", "setting a tenant's limits")
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	var b limitsBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: 4 << 10, Strict: true}); err != nil {
		h.WriteError(w, r, err)
		return
	}
	l, err := b.limits()
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	t, err := h.Store.SetTenantLimits(r.Context(), id, l, h.now())
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	h.Keyring.Forget()
	wire.WriteJSON(w, http.StatusOK, h.tenantView(id, t))
}

type balanceBody struct {
	// Amount is added to the balance (negative takes away); a tenant without
	// a balance gets one, starting from 0.
	Amount *int64 `json:"amount"`
	// Unlimited removes the balance: the tenant is no longer limited.
	Unlimited bool   `json:"unlimited"`
	Note      string `json:"note"`
}

// AdjustBalance is POST /admin/v1/tenants/{id}/balance: a top-up
// {"amount": N, "note": "…"}, or {"unlimited": true}.
func (h *Handler) AdjustBalance(w http.ResponseWriter, r *http.Request) {
	id, err := h.tenantID(r)
	if err == nil {
		err = onlyGlobal(caller(r), "", "changing a tenant's balance")
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	var b balanceBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: 4 << 10, Strict: true}); err != nil {
		h.WriteError(w, r, err)
		return
	}
	switch {
	case b.Unlimited && b.Amount != nil:
		err = task.Errorf(task.CodeInvalidParameter, "amount", "give amount or unlimited, not both")
	case !b.Unlimited && b.Amount == nil:
		err = task.Errorf(task.CodeMissingParameter, "amount", `amount is required (in %s; negative takes away), or "unlimited": true`, h.Prices.Unit())
	case b.Amount != nil && (*b.Amount > 1<<53 || *b.Amount < -(1<<53)):
		err = task.Errorf(task.CodeInvalidParameter, "amount", "amount is out of range")
	case len(b.Note) > 500:
		err = task.Errorf(task.CodeInvalidParameter, "note", "note is longer than 500 characters")
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	p := caller(r)
	e := &store.LedgerEntry{At: h.now(), Unit: h.Prices.Unit(), Actor: p.KeyID, Note: b.Note}
	if b.Amount != nil {
		e.Amount = *b.Amount
	}
	t, err := h.Store.AdjustBalance(r.Context(), id, e, b.Unlimited)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.tenantView(id, t))
}

type ledgerView struct {
	ID      int64  `json:"id"`
	At      int64  `json:"at"`
	Tenant  string `json:"tenant"`
	Kind    string `json:"kind"`
	TaskID  string `json:"task_id,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	Model   string `json:"model,omitempty"`
	Tokens  int64  `json:"tokens"`
	Amount  int64  `json:"amount"`
	Delta   int64  `json:"delta"`
	Balance *int64 `json:"balance"`
	Unit    string `json:"unit"`
	Actor   string `json:"actor"`
	Note    string `json:"note,omitempty"`
}

// pageParams reads ?limit (1–1000, default 100) and ?before (an id).
func pageParams(r *http.Request) (limit int, before int64, err error) {
	q := r.URL.Query()
	limit = 100
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, task.Errorf(task.CodeInvalidParameter, "limit", "limit must be an integer from 1 to 1000")
		}
	}
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return 0, 0, task.Errorf(task.CodeInvalidParameter, "before", "before must be an entry id")
		}
	}
	return limit, before, nil
}

// Ledger is GET /admin/v1/ledger[?tenant=&task_id=&limit=&before=]: balance
// changes, newest first; next pages with before=<last id>.
func (h *Handler) Ledger(w http.ResponseWriter, r *http.Request) {
	limit, before, err := pageParams(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	f := store.LedgerFilter{Limit: limit, Before: before, TaskID: r.URL.Query().Get("task_id")}
	if f.Tenant, err = tenantFilter(r); err != nil {
		h.WriteError(w, r, err)
		return
	}
	es, err := h.Store.ListLedger(r.Context(), f)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out := make([]ledgerView, 0, len(es))
	for _, e := range es {
		out = append(out, ledgerView{ID: e.ID, At: e.At.Unix(), Tenant: TenantName(e.Tenant), Kind: e.Kind, TaskID: e.TaskID,
			KeyID: e.KeyID, Model: e.Model, Tokens: e.Tokens, Amount: e.Amount, Delta: e.Delta, Balance: e.Balance,
			Unit: e.Unit, Actor: e.Actor, Note: e.Note})
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out, "has_more": len(out) == limit})
}

type usageView struct {
	Day         string `json:"day"`
	Tenant      string `json:"tenant,omitempty"`
	Model       string `json:"model"`
	Tasks       int    `json:"tasks"`
	TotalTokens int64  `json:"total_tokens"`
	Amount      int64  `json:"amount"`
	Unit        string `json:"unit"`
}

// usage answers the settled usage per model and day of tenant (nil: all).
func (h *Handler) usage(w http.ResponseWriter, r *http.Request, tenant *string, extra map[string]any) {
	f := store.UsageFilter{Tenant: tenant}
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := ParseTime(v)
			if err != nil {
				h.WriteError(w, r, task.Errorf(task.CodeInvalidParameter, p.name, "%v", err))
				return
			}
			*p.dst = t
		}
	}
	if !f.To.IsZero() && len(q.Get("to")) == len(time.DateOnly) && strings.Count(q.Get("to"), "-") == 2 {
		f.To = f.To.Add(24 * time.Hour) // to=2025-03-14 includes that day
	}
	rows, err := h.Store.Usage(r.Context(), f)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out := make([]usageView, 0, len(rows))
	for _, u := range rows {
		v := usageView{Day: u.Day, Model: u.Model, Tasks: u.Tasks, TotalTokens: u.Tokens, Amount: u.Amount, Unit: u.Unit}
		if tenant == nil {
			v.Tenant = TenantName(u.Tenant)
		}
		out = append(out, v)
	}
	answer := map[string]any{"object": "list", "data": out}
	for k, v := range extra {
		answer[k] = v
	}
	wire.WriteJSON(w, http.StatusOK, answer)
}

// Usage is GET /admin/v1/usage[?tenant=&from=&to=]: every tenant's settled
// usage per model and day (for a tenant admin: its own tenant's).
func (h *Handler) Usage(w http.ResponseWriter, r *http.Request) {
	tenant, err := tenantFilter(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	h.usage(w, r, tenant, nil)
}

// MyUsage is GET /v1/usage[?from=&to=]: the caller's tenant's settled usage
// per model and UTC day, with its balance (null: not limited by one).
func (h *Handler) MyUsage(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.Store.GetTenant(r.Context(), p.Tenant)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.WriteError(w, r, err)
		return
	}
	v := h.tenantView(p.Tenant, t)
	h.usage(w, r, &p.Tenant, map[string]any{"tenant": v.ID, "balance": v.Balance, "unit": v.Unit})
}

// Prices is GET /admin/v1/prices: the price table in force.
func (h *Handler) PriceTable(w http.ResponseWriter, r *http.Request) {
	answer := map[string]any{"object": "prices", "unit": h.Prices.Unit(), "currency": nil, "prices": []any{}}
	if h.Prices != nil {
		answer["currency"], answer["prices"] = h.Prices.Currency, h.Prices.Rows
	}
	wire.WriteJSON(w, http.StatusOK, answer)
}
