package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type auditKey struct{}

type auditNote struct{ target string }

// SetTarget names what an audited action was done to, when the path does
// not say (a created key's id).
func SetTarget(ctx context.Context, target string) {
	if n, ok := ctx.Value(auditKey{}).(*auditNote); ok {
		n.target = target
	}
}

// maxAuditDetail bounds the request body kept with an audit entry.
const maxAuditDetail = 4 << 10

// Audited records every call of h in the audit log — who (the key), what
// (action, the path's id or SetTarget, the request body), when, and the
// status answered — whether it succeeded or not. Admin request bodies carry
// no secrets (keys and webhook secrets are only ever in answers).
func (h *Handler) Audited(action string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
		if err != nil {
			body = nil
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		note := &auditNote{target: r.PathValue("id")}
		rec := wire.NewStatusWriter(w)
		next(rec, r.WithContext(context.WithValue(r.Context(), auditKey{}, note)))

		detail := map[string]any{"method": r.Method, "path": r.URL.Path}
		if r.URL.RawQuery != "" {
			detail["query"] = r.URL.RawQuery
		}
		if len(body) > 0 {
			if len(body) <= maxAuditDetail && json.Valid(body) {
				detail["body"] = json.RawMessage(body)
			} else {
				detail["body_bytes"] = len(body)
			}
		}
		d, _ := json.Marshal(detail)
		p, _ := auth.FromContext(r.Context())
		e := &store.AuditEntry{At: h.now(), Actor: p.KeyID, Action: action, Target: note.target,
			Detail: string(d), Status: rec.Status, RequestID: wire.RequestID(r.Context())}
		// The answer is written already; the entry must be kept even if the client went away.
		if err := h.Store.AppendAudit(context.WithoutCancel(r.Context()), e); err != nil && h.Logger != nil {
			h.Logger.ErrorContext(r.Context(), "writing the audit log failed", "action", action, "actor", p.KeyID, "err", err)
		}
	}
}

type auditView struct {
	ID        int64           `json:"id"`
	At        int64           `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Status    int             `json:"status"`
	RequestID string          `json:"request_id,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// Audit is GET /admin/v1/audit[?limit=&before=]: admin actions, newest first
// (for a tenant admin: those made by its tenant's keys or done to them).
func (h *Handler) Audit(w http.ResponseWriter, r *http.Request) {
	limit, before, err := pageParams(r)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	f := store.AuditFilter{Limit: limit, Before: before}
	if p := caller(r); !p.Global() {
		f.Tenant = &p.Tenant
	}
	es, err := h.Store.ListAudit(r.Context(), f)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out := make([]auditView, 0, len(es))
	for _, e := range es {
		v := auditView{ID: e.ID, At: e.At.Unix(), Actor: e.Actor, Action: e.Action, Target: e.Target, Status: e.Status, RequestID: e.RequestID}
		if json.Valid([]byte(e.Detail)) {
			v.Detail = json.RawMessage(e.Detail)
		}
		out = append(out, v)
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out, "has_more": len(out) == limit})
}

// WriteError writes err in the native API's shape ({"error":{"code","message",
// "field","request_id"}}), with the field named as the admin API names it.
func WriteError(w http.ResponseWriter, r *http.Request, err error) { adminErrors.Write(w, r, err) }

// adminErrors keeps the default statuses (an empty table) in the admin API's shape.
var adminErrors = wire.Errors{Table: wire.ErrorTable{}, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	return map[string]any{"error": map[string]string{
		"code": row.Code, "message": e.Message, "field": e.Field, "request_id": wire.RequestID(r.Context())}}
}}
