package jobs

import (
	"net/http"
	"strconv"

	"github.com/seedgate/seedgate/internal/auth"
	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

func (h *Handler) renderAsset(a *service.Asset) jp.Asset {
	out := jp.Asset{ID: a.ID, Object: "asset", URL: service.AssetScheme + a.ID, Group: a.Group, Name: a.Name, Kind: a.Kind,
		Status: a.Status(), SourceURL: a.SourceURL, Mirrors: []jp.AssetMirror{}, Created: a.CreatedAt.Unix()}
	if f := a.File; f != nil {
		out.ContentURL, out.ContentType, out.Bytes, out.Width, out.Height = h.svc.FileURL(f.ID), f.ContentType, f.Size, f.Width, f.Height
	}
	for _, m := range a.Mirrors {
		status := m.Status
		if status == store.MirrorCreating {
			status = store.MirrorProcessing
		}
		out.Mirrors = append(out.Mirrors, jp.AssetMirror{Channel: m.Channel, UpstreamID: m.UpstreamID, Status: status,
			Error: m.Error, Updated: m.UpdatedAt.Unix()})
	}
	return out
}

// CreateAsset is POST /v1/assets: {"file_id"|"url", "group", "name"}.
func (h *Handler) CreateAsset(w http.ResponseWriter, r *http.Request) {
	var in jp.CreateAssetRequest
	if err := wire.DecodeJSON(w, r, &in, wire.DecodeOptions{MaxBytes: 64 << 10, Strict: true}); err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	a, err := h.svc.CreateAsset(r.Context(), service.AssetInput{Tenant: p.Tenant, Group: in.Group, Name: in.Name, FileID: in.FileID, URL: in.URL})
	if err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.renderAsset(a))
}

// ListAssets is GET /v1/assets?group=&limit=&after=.
func (h *Handler) ListAssets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			jp.AssetErrors.Write(w, r, task.Errorf(task.CodeInvalidParameter, "limit", "limit must be an integer in [1, 100], got %q", v))
			return
		}
		limit = n
	}
	var group *string
	if q.Has("group") {
		g := q.Get("group")
		group = &g
	}
	p, _ := auth.FromContext(r.Context())
	page, err := h.svc.ListAssets(r.Context(), p.Tenant, group, limit, q.Get("after"))
	if err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	out := jp.AssetList{Object: "list", Data: make([]jp.Asset, 0, len(page.Assets)), HasMore: page.HasMore}
	for _, a := range page.Assets {
		out.Data = append(out.Data, h.renderAsset(a))
	}
	if page.HasMore && len(page.Assets) > 0 {
		out.NextAfter = page.Assets[len(page.Assets)-1].ID
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// GetAsset is GET /v1/assets/{id}.
func (h *Handler) GetAsset(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	a, err := h.svc.GetAsset(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.renderAsset(a))
}

// DeleteAsset is DELETE /v1/assets/{id}.
func (h *Handler) DeleteAsset(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id := r.PathValue("id")
	if err := h.svc.DeleteAsset(r.Context(), p.Tenant, id); err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, jp.Deleted{ID: id, Object: "asset", Deleted: true})
}

// AssetGroups is GET /v1/asset-groups.
func (h *Handler) AssetGroups(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	gs, err := h.svc.AssetGroups(r.Context(), p.Tenant)
	if err != nil {
		jp.AssetErrors.Write(w, r, err)
		return
	}
	out := jp.AssetGroupList{Object: "list", Data: make([]jp.AssetGroup, 0, len(gs))}
	for _, g := range gs {
		out.Data = append(out.Data, jp.AssetGroup{Object: "asset_group", Name: g.Group, Assets: g.Assets})
	}
	wire.WriteJSON(w, http.StatusOK, out)
}
