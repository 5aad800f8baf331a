package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// AssetScheme prefixes an asset reference in a request's media URLs.
const AssetScheme = "asset://"

// Asset is an asset as clients see it: its record, its file and its copies
// in upstream asset libraries.
type Asset struct {
	store.Asset
	File    *task.File
	Mirrors []*store.AssetMirror
}

// Status is the asset's state in the upstream's terms: Active once stored,
// or while copies exist, Failed if one failed, else Processing while one is
// being made, else Active.
func (a *Asset) Status() string {
	status := store.MirrorActive
	for _, m := range a.Mirrors {
		switch m.Status {
		case store.MirrorFailed:
			return store.MirrorFailed
		case store.MirrorCreating, store.MirrorProcessing:
			status = store.MirrorProcessing
		}
	}
	return status
}

// AssetInput is a new asset: from a file the tenant uploaded (FileID) or a URL.
type AssetInput struct {
	Tenant string
	Group  string
	Name   string
	FileID string
	URL    string
}

var groupPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{0,64}$`)

// CreateAsset stores a new asset: a copy of the upload, or the content at the
// URL (fetched through the SSRF guard), checked as an upload is; its kind
// (image, video or audio) is the content's.
func (s *Service) CreateAsset(ctx context.Context, in AssetInput) (*Asset, error) {
	if !groupPattern.MatchString(in.Group) {
		return nil, task.Errorf(task.CodeInvalidParameter, "group", "group must be at most 64 letters, digits, '.', '_' or '-'")
	}
	if len(in.Name) > 64 {
		return nil, task.Errorf(task.CodeInvalidParameter, "name", "name is longer than 64 characters")
	}
	var (
		body  io.Reader
		field string
		name  = in.Name
	)
	switch {
	case in.FileID != "" && in.URL != "":
		return nil, task.Errorf(task.CodeInvalidParameter, "url", "give file_id or url, not both")
	case in.FileID != "":
		field = "file_id"
		f, err := s.File(ctx, in.Tenant, in.FileID)
		if task.ErrorCode(err) == task.CodeNotFound {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "file_id: file %s does not exist: upload it with /v1/files/upload", in.FileID)
		}
		if err != nil {
			return nil, err
		}
		_, obj, err := s.OpenFile(ctx, f.ID)
		if err != nil {
			return nil, withField(err, field)
		}
		defer obj.Close()
		body = obj
		if name == "" {
			name = f.Name
		}
	case in.URL != "":
		field = "url"
		if !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://") {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "url must be an http(s) URL")
		}
		if err := s.checkRemote(field, in.URL); err != nil {
			return nil, err
		}
		resp, err := safehttp.Get(ctx, s.fetch, in.URL, s.MaxUploadBytes)
		if err != nil {
			return nil, fetchError(field, err)
		}
		defer resp.Body.Close()
		body = resp.Body
		if name == "" {
			if u, err := url.Parse(in.URL); err == nil {
				name = path.Base(u.Path)
			}
		}
	default:
		return nil, task.Errorf(task.CodeMissingParameter, "file_id", "give file_id (an uploaded file) or url")
	}
	br := bufio.NewReaderSize(body, 512)
	head, _ := br.Peek(512)
	kind := kindOf(sniff(head))
	if kind == "" {
		return nil, task.Errorf(task.CodeUnsupportedMedia, field, "the content is %s, not an image, video or audio file", sniff(head))
	}
	f, err := s.Upload(ctx, UploadInput{Tenant: in.Tenant, Kind: kind, Purpose: "asset", Name: cleanName(name), Body: br})
	if err != nil {
		if te := task.AsError(err); te.Code != task.CodeInternal && (te.Field == "file" || te.Field == "") {
			c := *te
			c.Field = field
			return nil, &c
		}
		return nil, err
	}
	a := &store.Asset{ID: NewAssetID(), Tenant: in.Tenant, Group: in.Group, Name: cleanName(name), Kind: kind,
		FileID: f.ID, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if in.URL != "" {
		a.SourceURL = in.URL
	}
	if err := s.store.CreateAsset(ctx, a); err != nil {
		s.DiscardUpload(ctx, f)
		return nil, fmt.Errorf("create asset: %w", err)
	}
	return &Asset{Asset: *a, File: f}, nil
}

func kindOf(contentType string) string {
	for kind, types := range uploadTypes {
		if contains(types, contentType) {
			return kind
		}
	}
	return ""
}

// fetchError says why the content at a URL could not be read.
func fetchError(field string, err error) error {
	var (
		refused  *safehttp.RefusedError
		tooLarge *safehttp.TooLargeError
		status   *safehttp.StatusError
	)
	switch {
	case errors.As(err, &refused):
		return task.Errorf(task.CodeInvalidParameter, field, "%s is refused: %s (only public internet addresses are allowed)", field, refused.Reason)
	case errors.As(err, &tooLarge):
		return task.Errorf(task.CodeInvalidParameter, field, "the content at %s is larger than %s", field, safehttp.FormatBytes(tooLarge.Limit))
	case errors.As(err, &status):
		return task.Errorf(task.CodeInvalidParameter, field, "fetching %s failed: the server answered %s", field, status.Status)
	case errors.Is(err, context.Canceled):
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the url.Error repeats the URL
	}
	return task.Errorf(task.CodeInvalidParameter, field, "fetching %s failed: %v", field, err)
}

// GetAsset returns a tenant's asset; another tenant's is not found like a missing one.
func (s *Service) GetAsset(ctx context.Context, tenant, id string) (*Asset, error) {
	a, err := s.store.GetAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Tenant != tenant) {
		return nil, task.Errorf(task.CodeNotFound, "id", "asset %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get asset: %w", err)
	}
	return s.assetView(ctx, a)
}

func (s *Service) assetView(ctx context.Context, a *store.Asset) (*Asset, error) {
	v := &Asset{Asset: *a}
	f, err := s.store.GetFile(ctx, a.FileID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("asset file: %w", err)
	}
	v.File = f
	if v.Mirrors, err = s.store.AssetMirrors(ctx, a.ID); err != nil {
		return nil, fmt.Errorf("asset mirrors: %w", err)
	}
	return v, nil
}

// AssetList is one page of a tenant's assets.
type AssetList struct {
	Assets  []*Asset
	HasMore bool
}

// ListAssets returns a page of a tenant's assets, newest first; group, when
// not nil, selects one group.
func (s *Service) ListAssets(ctx context.Context, tenant string, group *string, limit int, after string) (*AssetList, error) {
	p, err := s.store.ListAssets(ctx, store.AssetFilter{Tenant: tenant, Group: group, Limit: limit, After: after})
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	out := &AssetList{HasMore: p.HasMore}
	for _, a := range p.Assets {
		v, err := s.assetView(ctx, a)
		if err != nil {
			return nil, err
		}
		out.Assets = append(out.Assets, v)
	}
	return out, nil
}

// AssetGroups lists a tenant's asset groups.
func (s *Service) AssetGroups(ctx context.Context, tenant string) ([]store.AssetGroupCount, error) {
	gs, err := s.store.AssetGroups(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("asset groups: %w", err)
	}
	return gs, nil
}

// DeleteAsset removes a tenant's asset, its file and, best effort, its
// upstream copies. Tasks that used it keep their results.
func (s *Service) DeleteAsset(ctx context.Context, tenant, id string) error {
	if _, err := s.GetAsset(ctx, tenant, id); err != nil {
		return err
	}
	mirrors, err := s.store.DeleteAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return task.Errorf(task.CodeNotFound, "id", "asset %s not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete asset: %w", err)
	}
	if s.forgetAssets != nil && len(mirrors) > 0 {
		s.forgetAssets(context.WithoutCancel(ctx), mirrors)
	}
	s.wakeSweeper()
	return nil
}

// checkAsset checks an asset:// input of a request: an asset of the tenant,
// of the kind the field takes.
func (s *Service) checkAsset(ctx context.Context, tenant, field, kind, u string) error {
	id := strings.TrimPrefix(u, AssetScheme)
	if id == "" || strings.ContainsAny(id, "/?#") {
		return task.Errorf(task.CodeInvalidParameter, field, "%s: %q is not an asset reference: use asset://<id> with an id from /v1/assets", field, u)
	}
	a, err := s.store.GetAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Tenant != tenant) {
		return task.Errorf(task.CodeInvalidParameter, field, "%s: asset %s does not exist: create it with POST /v1/assets", field, id)
	}
	if err != nil {
		return fmt.Errorf("look up asset: %w", err)
	}
	if a.Kind != kind {
		return task.Errorf(task.CodeInvalidParameter, field, "%s: asset %s is %s %s, and %s takes %s", field, id, article(a.Kind), a.Kind, field, kind)
	}
	return nil
}

func article(kind string) string {
	if kind == "image" || kind == "audio" {
		return "an"
	}
	return "a"
}

// NewAssetID returns an asset id.
func NewAssetID() string { return "asset-" + randomString(24) }
