package admin

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type storageBody struct {
	// Quota is the bytes of files the tenant may keep; null: the gateway's
	// default (SEEDGATE_STORAGE_QUOTA), 0: no quota.
	Quota *int64 `json:"quota"`
}

// SetTenantStorage is PUT /admin/v1/tenants/{id}/storage: the tenant's
// storage quota, {"quota": bytes} or {"quota": null} for the default.
func (h *Handler) SetTenantStorage(w http.ResponseWriter, r *http.Request) {
	id, err := h.tenantID(r)
	if err == nil {
		err = onlyGlobal(caller(r), "", "setting a tenant's storage quota")
	}
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	var b storageBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: 4 << 10, Strict: true}); err != nil {
		h.WriteError(w, r, err)
		return
	}
	if b.Quota != nil && (*b.Quota < 0 || *b.Quota > 1<<60) {
		h.WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "quota", "quota must be between 0 (no quota) and %d bytes, or null (the gateway default)", int64(1<<60)))
		return
	}
	t, err := h.Store.SetTenantStorageQuota(r.Context(), id, b.Quota, h.now())
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.tenantView(id, t))
}
