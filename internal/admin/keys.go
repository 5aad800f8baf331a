// Package admin is the admin API (/admin/v1: API keys, tenants' limits and
// balances, the ledger, usage and the audit log) and the caller's own usage
// (GET /v1/usage). Every change made through it is recorded in the audit log
// (Audited). `seedgate keys` uses CreateKey and friends directly on the store.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/budget"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/webhook"
	"github.com/seedgate/seedgate/internal/wire"
)

// Handler serves the admin API; routes.go mounts its methods.
type Handler struct {
	Store store.Store
	// Webhooks makes and rotates the keys' signing secrets (nil: none).
	Webhooks *webhook.Dispatcher
	// Keyring is told to forget cached keys after a revocation or a limit change.
	Keyring *auth.Keyring
	// Prices is the price table in force (nil: balances in tokens).
	Prices *budget.Prices
	// WriteError writes errors (the native API's shape).
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	Now        func() time.Time
	Logger     *slog.Logger
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// DefaultTenant is how the tenant "" (static keys, the admin key, an open
// gateway) is named on the wire and in paths.
const DefaultTenant = "default"

var tenantName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// TenantID turns a tenant as written by people into the stored id ("default" is "").
func TenantID(name, field string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == DefaultTenant {
		return "", nil
	}
	if !tenantName.MatchString(name) {
		return "", task.Errorf(task.CodeInvalidParameter, field, "%s must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", field)
	}
	return name, nil
}

// TenantName is the wire name of a stored tenant id.
func TenantName(id string) string {
	if id == "" {
		return DefaultTenant
	}
	return id
}

// KeyInput is a key to create.
type KeyInput struct {
	Name      string
	Tenant    string // stored id ("" = default)
	Scopes    auth.Scope
	ExpiresAt *time.Time
	Limits    store.Limits
	CreatedBy string
}

// CreatedKey is a new key: the key itself exists only here.
type CreatedKey struct {
	*store.APIKey
	Key           string
	WebhookSecret string
}

// CreateKey makes and stores a key (only its hash is kept) and its webhook
// signing secret.
func CreateKey(ctx context.Context, st store.Store, in KeyInput, now time.Time) (*CreatedKey, error) {
	if in.Scopes == 0 {
		return nil, task.Errorf(task.CodeInvalidParameter, "scopes", "a key needs at least one scope: read, submit, admin or global_admin")
	}
	id, key := auth.NewKey()
	k := &store.APIKey{ID: id, Hash: auth.HashKey(key), Name: in.Name, Tenant: in.Tenant, Scopes: in.Scopes.Names(),
		Limits: in.Limits, CreatedAt: now, CreatedBy: in.CreatedBy, ExpiresAt: in.ExpiresAt}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	out := &CreatedKey{APIKey: k, Key: key}
	sec, err := st.WebhookSecret(ctx, id, webhook.NewSecret(), now)
	if err != nil {
		return nil, fmt.Errorf("webhook secret of %s: %w", id, err)
	}
	out.WebhookSecret = sec.Secret
	return out, nil
}

// keyView is a key as the admin API shows it.
type keyView struct {
	Object        string   `json:"object"`
	ID            string   `json:"id"`
	Key           string   `json:"key,omitempty"` // only in the answer that created it
	Name          string   `json:"name"`
	Tenant        string   `json:"tenant"`
	Scopes        []string `json:"scopes"`
	Status        string   `json:"status"` // active | revoked | expired
	RPM           *int     `json:"rpm"`
	MaxInFlight   *int     `json:"max_in_flight"`
	CreatedAt     int64    `json:"created_at"`
	CreatedBy     string   `json:"created_by"`
	ExpiresAt     *int64   `json:"expires_at"`
	RevokedAt     *int64   `json:"revoked_at"`
	LastUsedAt    *int64   `json:"last_used_at"`
	WebhookSecret string   `json:"webhook_secret,omitempty"` // only at creation
}

func unixPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := t.Unix()
	return &n
}

// KeyStatus says whether k works at now.
func KeyStatus(k *store.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	}
	return "active"
}

func (h *Handler) view(k *store.APIKey) keyView {
	return keyView{Object: "api_key", ID: k.ID, Name: k.Name, Tenant: TenantName(k.Tenant), Scopes: k.Scopes,
		Status: KeyStatus(k, h.now()), RPM: k.Limits.RPM, MaxInFlight: k.Limits.MaxInFlight,
		CreatedAt: k.CreatedAt.Unix(), CreatedBy: k.CreatedBy, ExpiresAt: unixPtr(k.ExpiresAt),
		RevokedAt: unixPtr(k.RevokedAt), LastUsedAt: unixPtr(k.LastUsedAt)}
}

type limitsBody struct {
	RPM         *int `json:"rpm"`
	MaxInFlight *int `json:"max_in_flight"`
}

// maxLimit bounds a configured limit (beyond it, a limit means nothing).
const maxLimit = 1_000_000

func (b limitsBody) limits() (store.Limits, error) {
	for _, f := range []struct {
		name string
		v    *int
	}{{"rpm", b.RPM}, {"max_in_flight", b.MaxInFlight}} {
		if f.v != nil && (*f.v < 0 || *f.v > maxLimit) {
			return store.Limits{}, task.Errorf(task.CodeInvalidParameter, f.name, "%s must be between 0 (unlimited) and %d, or null (inherit)", f.name, maxLimit)
		}
	}
	return store.Limits{RPM: b.RPM, MaxInFlight: b.MaxInFlight}, nil
}

type createKeyBody struct {
	Name      string   `json:"name"`
	Tenant    string   `json:"tenant"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *Time    `json:"expires_at"`
	ExpiresIn *int64   `json:"expires_in"` // seconds
	limitsBody
}

// CreateKey is POST /admin/v1/keys.
func (h *Handler) CreateKey(w http.ResponseWriter, r *http.Request) {
	var b createKeyBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: 64 << 10, Strict: true}); err != nil {
		h.WriteError(w, r, err)
		return
	}
	in, err := h.keyInput(r, b)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	k, err := CreateKey(r.Context(), h.Store, in, h.now())
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	h.Keyring.Forget() // the gateway may have been open until this key
	SetTarget(r.Context(), k.ID)
	v := h.view(k.APIKey)
	v.Key, v.WebhookSecret = k.Key, k.WebhookSecret
	wire.WriteJSON(w, http.StatusCreated, v)
}

func (h *Handler) keyInput(r *http.Request, b createKeyBody) (KeyInput, error) {
	p := caller(r)
	in := KeyInput{Name: strings.TrimSpace(b.Name), CreatedBy: p.KeyID}
	if len(in.Name) > 200 {
		return in, task.Errorf(task.CodeInvalidParameter, "name", "name is longer than 200 characters")
	}
	var err error
	if in.Tenant, err = TenantID(b.Tenant, "tenant"); err != nil {
		return in, err
	}
	if strings.TrimSpace(b.Tenant) == "" && !p.Global() {
		in.Tenant = p.Tenant // a tenant admin's keys are its tenant's
	}
	if err := reach(p, in.Tenant, "tenant"); err != nil {
		return in, err
	}
	names := b.Scopes
	if names == nil {
		names = []string{"read", "submit"}
	}
	if in.Scopes, err = auth.ParseScopes(names); err != nil {
		return in, task.Errorf(task.CodeInvalidParameter, "scopes", "%v", err)
	}
	if in.Scopes.Has(auth.ScopeGlobalAdmin) {
		if err := onlyGlobal(p, "scopes", "granting the global_admin scope"); err != nil {
			return in, err
		}
	}
	if b.RPM != nil || b.MaxInFlight != nil {
		field := map[bool]string{true: "rpm", false: "max_in_flight"}[b.RPM != nil]
		if err := onlyGlobal(p, field, "giving a key its own limits (they override its tenant's)"); err != nil {
			return in, err
		}
	}
	switch {
	case b.ExpiresAt != nil && b.ExpiresIn != nil:
		return in, task.Errorf(task.CodeInvalidParameter, "expires_in", "give expires_at or expires_in, not both")
	case b.ExpiresAt != nil:
		t := time.Time(*b.ExpiresAt)
		in.ExpiresAt = &t
	case b.ExpiresIn != nil:
		if *b.ExpiresIn <= 0 || *b.ExpiresIn > 100*365*86400 {
			return in, task.Errorf(task.CodeInvalidParameter, "expires_in", "expires_in must be a positive number of seconds")
		}
		t := h.now().Add(time.Duration(*b.ExpiresIn) * time.Second)
		in.ExpiresAt = &t
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(h.now()) {
		return in, task.Errorf(task.CodeInvalidParameter, "expires_at", "expires_at is in the past")
	}
	in.Limits, err = b.limits()
	return in, err
}

// ListKeys is GET /admin/v1/keys[?tenant=].
func (h *Handler) ListKeys(w http.ResponseWriter, r *http.Request) {
	tenant, err := tenantFilter(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	keys, err := h.Store.ListAPIKeys(r.Context(), store.KeyFilter{Tenant: tenant})
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, h.view(k))
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// GetKey is GET /admin/v1/keys/{id}.
func (h *Handler) GetKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.key(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.view(k))
}

// RevokeKey is POST /admin/v1/keys/{id}/revoke and DELETE /admin/v1/keys/{id}:
// the key stops working at once here and within the key cache's TTL on every
// other instance.
func (h *Handler) RevokeKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.key(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	k, err = h.Store.RevokeAPIKey(r.Context(), k.ID, h.now())
	if errors.Is(err, store.ErrNotFound) {
		err = task.Errorf(task.CodeNotFound, "id", "no API key %s", r.PathValue("id"))
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	h.Keyring.Forget()
	wire.WriteJSON(w, http.StatusOK, h.view(k))
}

// SetKeyLimits is PUT /admin/v1/keys/{id}/limits: the key's own limits
// (null or absent: its tenant's). Only a global admin sets them: a key's own
// limits override its tenant's.
func (h *Handler) SetKeyLimits(w http.ResponseWriter, r *http.Request) {
	k, err := h.key(r)
	if err == nil {
		err = onlyGlobal(caller(r), "", "setting a key's limits (they override its tenant's)")
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
	k, err = h.Store.SetAPIKeyLimits(r.Context(), k.ID, l)
	if errors.Is(err, store.ErrNotFound) {
		err = task.Errorf(task.CodeNotFound, "id", "no API key %s", r.PathValue("id"))
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	h.Keyring.Forget()
	wire.WriteJSON(w, http.StatusOK, h.view(k))
}

type secretView struct {
	Object                string `json:"object"`
	KeyID                 string `json:"key_id"`
	Secret                string `json:"secret"`
	PreviousSecretExpires *int64 `json:"previous_secret_expires_at,omitempty"`
	Created               int64  `json:"created"`
	Rotated               *int64 `json:"rotated,omitempty"`
}

func renderSecret(s store.WebhookSecret) secretView {
	v := secretView{Object: "webhook_secret", KeyID: s.KeyID, Secret: s.Secret, Created: s.CreatedAt.Unix(), Rotated: unixPtr(s.RotatedAt)}
	if s.Previous != "" {
		v.PreviousSecretExpires = unixPtr(s.PreviousUntil)
	}
	return v
}

// KeySecret is GET /admin/v1/keys/{id}/webhook-secret and RotateKeySecret is
// POST /admin/v1/keys/{id}/webhook-secret/rotate: the secret that signs the
// callbacks of the key's tasks (after a rotation the old one keeps signing
// too for a day, so receivers can switch).
func (h *Handler) KeySecret(w http.ResponseWriter, r *http.Request)       { h.secret(w, r, false) }
func (h *Handler) RotateKeySecret(w http.ResponseWriter, r *http.Request) { h.secret(w, r, true) }

func (h *Handler) secret(w http.ResponseWriter, r *http.Request, rotate bool) {
	if h.Webhooks == nil {
		h.WriteError(w, r, task.Errorf(task.CodeUnavailable, "", "webhooks are not available on this gateway's store"))
		return
	}
	k, err := h.key(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	var s store.WebhookSecret
	if rotate {
		s, err = h.Webhooks.RotateSecret(r.Context(), k.ID)
	} else {
		s, err = h.Webhooks.Secret(r.Context(), k.ID)
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, renderSecret(s))
}

// Time is a time given as Unix seconds, RFC 3339 or a date (2006-01-02, UTC midnight).
type Time time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseTime(s)
	if err != nil {
		return &wire.FieldError{Msg: err.Error()}
	}
	*t = Time(v)
	return nil
}

// ParseTime reads Unix seconds, RFC 3339 or a date.
func ParseTime(s string) (time.Time, error) {
	if n, err := parseUnix(s); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: give Unix seconds, RFC 3339 or YYYY-MM-DD", s)
}

func parseUnix(s string) (int64, error) {
	var n int64
	if s == "" || len(s) > 12 {
		return 0, errors.New("not a number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
