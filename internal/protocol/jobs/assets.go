package jobs

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// CreateAssetRequest is POST /v1/assets: an asset from an uploaded file
// (file_id) or from a URL the gateway fetches.
type CreateAssetRequest struct {
	FileID string `json:"file_id,omitempty"`
	URL    string `json:"url,omitempty"`
	Group  string `json:"group,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Asset is the wire form of an asset.
type Asset struct {
	ID     string `json:"id"`
	Object string `json:"object"` // "asset"
	// URL is what a request names the asset by: asset://<id>.
	URL    string `json:"url"`
	Group  string `json:"group"`
	Name   string `json:"name,omitempty"`
	Kind   string `json:"kind"`
	Status string `json:"status"` // Processing | Active | Failed
	// ContentURL is the signed URL of the asset's content.
	ContentURL  string        `json:"content_url,omitempty"`
	ContentType string        `json:"content_type,omitempty"`
	Bytes       int64         `json:"bytes,omitempty"`
	Width       int           `json:"width,omitempty"`
	Height      int           `json:"height,omitempty"`
	SourceURL   string        `json:"source_url,omitempty"`
	Mirrors     []AssetMirror `json:"mirrors"`
	Created     int64         `json:"created"`
}

// AssetMirror is an asset's copy in one upstream channel's asset library.
type AssetMirror struct {
	Channel    string `json:"channel"`
	UpstreamID string `json:"upstream_id,omitempty"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	Updated    int64  `json:"updated"`
}

// AssetList is GET /v1/assets.
type AssetList struct {
	Object    string  `json:"object"` // "list"
	Data      []Asset `json:"data"`
	HasMore   bool    `json:"has_more"`
	NextAfter string  `json:"next_after,omitempty"`
}

// AssetGroup is one group of GET /v1/asset-groups.
type AssetGroup struct {
	Object string `json:"object"` // "asset_group"
	Name   string `json:"name"`
	Assets int    `json:"assets"`
}

// AssetGroupList is GET /v1/asset-groups.
type AssetGroupList struct {
	Object string       `json:"object"` // "list"
	Data   []AssetGroup `json:"data"`
}

// Deleted answers a DELETE.
type Deleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// AssetErrors writes the asset endpoints' errors: the native error answer,
// with the field named as the asset request names it (no "input." prefix).
var AssetErrors = wire.Errors{Table: ErrorTable, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	return ErrorEnvelope{Error: ErrorBody{Code: row.Code, Message: e.Message, Field: e.Field,
		UpstreamCode: e.UpstreamCode, RequestID: wire.RequestID(r.Context())}}
}}
