// Package assetmirror copies the gateway's assets into upstream accounts'
// asset libraries and turns asset://<gateway id> inputs into what a channel
// can read.
//
// Ark refuses images with real faces unless they come from the account's
// asset library. For a channel with Volcengine OpenAPI keys
// (routing.Channel.AccessKeyID, SecretAccessKey, OpenAPIURL) an asset is
// copied once per account: a record claimed in the store before the
// upstream's CreateAsset (store.AssetStore.ClaimAssetMirror) makes sure that
// however many tasks and instances use an asset at once, one of them creates
// it; the others wait for its state (GetAsset until Active) and then send
// asset://<upstream id>. A channel without keys is sent the asset's content
// as a gateway file, like any upload.
package assetmirror

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/protocol/arkassets"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Scheme prefixes an asset reference in an input URL.
const Scheme = "asset://"

// AssetID returns the id of an asset:// URL.
func AssetID(rawURL string) (string, bool) {
	id, ok := strings.CutPrefix(rawURL, Scheme)
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return "", false
	}
	return id, true
}

// Config wires a Mirror.
type Config struct {
	Store store.Store
	// Channels are every upstream channel; those with access keys get a client.
	Channels []*routing.Channel
	// FileURL is the signed gateway URL of a file (what a channel without
	// keys, and the upstream's CreateAsset, are given).
	FileURL func(id string) string
	HTTP    *http.Client
	Now     func() time.Time
	Logger  *slog.Logger
	// PollInterval and PollFor pace the wait for an upstream asset to be
	// Active (default 500 ms, for up to 30 s in one call); past PollFor the
	// caller is told to come back later.
	PollInterval, PollFor time.Duration
	// StaleAfter is when a claim whose creator never answered is taken over (default 1 min).
	StaleAfter time.Duration
}

// Mirror is safe for concurrent use.
type Mirror struct {
	cfg     Config
	log     *slog.Logger
	clients map[string]*Client // channel name → its OpenAPI client
	byKey   map[string]*Client // access key id → a client of that account
	flight  singleflight.Group
}

// New checks the channels' OpenAPI settings and returns a Mirror.
func New(cfg Config) (*Mirror, error) {
	if cfg.Store == nil || cfg.FileURL == nil {
		return nil, errors.New("assetmirror: a store and FileURL are required")
	}
	cfg.Now, cfg.Logger = baseservice.Now(cfg.Now), baseservice.Logger(cfg.Logger)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, 500*time.Millisecond)
	cfg.PollFor = cmp.Or(cfg.PollFor, 30*time.Second)
	cfg.StaleAfter = cmp.Or(cfg.StaleAfter, time.Minute)
	m := &Mirror{cfg: cfg, log: cfg.Logger.With("component", "assetmirror"), clients: map[string]*Client{}, byKey: map[string]*Client{}}
	for _, ch := range cfg.Channels {
		if ch.AccessKeyID == "" && ch.SecretAccessKey == "" {
			if ch.OpenAPIURL != "" {
				return nil, fmt.Errorf("channel %s: openapi_url is set without access_key_id and secret_access_key", ch.Name)
			}
			continue
		}
		if ch.AccessKeyID == "" || ch.SecretAccessKey == "" {
			return nil, fmt.Errorf("channel %s: access_key_id and secret_access_key go together", ch.Name)
		}
		if ch.OpenAPIURL != "" {
			u, err := url.Parse(ch.OpenAPIURL)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" {
				return nil, fmt.Errorf("channel %s: openapi_url %q is not an http(s) URL", ch.Name, ch.OpenAPIURL)
			}
		}
		region := arkassets.RegionVolcengine
		if ch.Flavor == routing.FlavorBytePlus {
			region = arkassets.RegionBytePlus
		}
		c := NewClient(ch.OpenAPIURL, arkassets.Credentials{AccessKeyID: ch.AccessKeyID, SecretAccessKey: ch.SecretAccessKey, Region: region}, cfg.HTTP)
		m.clients[ch.Name] = c
		m.byKey[ch.AccessKeyID] = c
	}
	return m, nil
}

// Enabled reports whether some channel has OpenAPI keys.
func (m *Mirror) Enabled() bool { return m != nil && len(m.clients) > 0 }

// Input turns one input URL into what channel ch is sent: an asset:// of
// the gateway becomes asset://<upstream id> on a channel with keys (copied
// first if need be), else its gateway file URL; any other URL is returned
// as it is. A missing asset, or one the upstream refused, is a *task.Error
// (the task cannot be sent); other errors are worth trying again later.
func (m *Mirror) Input(ctx context.Context, ch *routing.Channel, rawURL string) (string, error) {
	id, ok := AssetID(rawURL)
	if !ok {
		return rawURL, nil
	}
	a, err := m.cfg.Store.GetAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", task.Errorf(task.CodeInvalidParameter, "", "asset %s does not exist (any more)", id)
	}
	if err != nil {
		return "", fmt.Errorf("look up asset %s: %w", id, err)
	}
	c := m.clients[ch.Name]
	if c == nil {
		return m.cfg.FileURL(a.FileID), nil
	}
	v, err, _ := m.flight.Do(a.ID+"\x00"+ch.AccessKeyID, func() (any, error) { return m.ensure(ctx, ch, c, a) })
	if err != nil {
		return "", err
	}
	return Scheme + v.(string), nil
}

// Request returns a copy of r whose asset:// inputs are what ch is sent
// (Input); errors name the field.
func (m *Mirror) Request(ctx context.Context, ch *routing.Channel, r *task.Request) (*task.Request, error) {
	if !HasAssets(r) {
		return r, nil
	}
	c := *r
	one := func(field string, u *string) error {
		v, err := m.Input(ctx, ch, *u)
		if err != nil {
			var te *task.Error
			if errors.As(err, &te) {
				cp := *te
				cp.Field, cp.Message = field, field+": "+cp.Message
				return &cp
			}
			return err
		}
		*u = v
		return nil
	}
	if err := one("first_frame", &c.FirstFrame); err != nil {
		return nil, err
	}
	if err := one("last_frame", &c.LastFrame); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		name string
		list *[]string
	}{{"reference_images", &c.ReferenceImages}, {"reference_videos", &c.ReferenceVideos}, {"reference_audio", &c.ReferenceAudio}} {
		*l.list = append([]string(nil), *l.list...)
		for i := range *l.list {
			if err := one(fmt.Sprintf("%s[%d]", l.name, i), &(*l.list)[i]); err != nil {
				return nil, err
			}
		}
	}
	return &c, nil
}

// HasAssets reports whether r names an asset:// input.
func HasAssets(r *task.Request) bool {
	for _, u := range InputURLs(r) {
		if strings.HasPrefix(u, Scheme) {
			return true
		}
	}
	return false
}

// InputURLs lists every media URL of r.
func InputURLs(r *task.Request) []string {
	out := []string{r.FirstFrame, r.LastFrame}
	out = append(out, r.ReferenceImages...)
	out = append(out, r.ReferenceVideos...)
	return append(out, r.ReferenceAudio...)
}

// ensure returns the id of a's copy in ch's account, copying it first if
// no one has, and waiting until the upstream says it is Active.
func (m *Mirror) ensure(ctx context.Context, ch *routing.Channel, c *Client, a *store.Asset) (string, error) {
	deadline := m.cfg.Now().Add(m.cfg.PollFor)
	tick := time.NewTicker(m.cfg.PollInterval)
	defer tick.Stop()
	for {
		now := m.cfg.Now().UTC()
		claim := &store.AssetMirror{AssetID: a.ID, Account: ch.AccessKeyID, Channel: ch.Name, UpdatedAt: now}
		claimed, cur, err := m.cfg.Store.ClaimAssetMirror(ctx, claim, now.Add(-m.cfg.StaleAfter))
		if err != nil {
			return "", err
		}
		if claimed {
			if cur, err = m.create(ctx, ch, c, a, cur); err != nil {
				return "", err
			}
		}
		switch cur.Status {
		case store.MirrorActive:
			return cur.UpstreamID, nil
		case store.MirrorFailed:
			return "", task.Errorf(task.CodeInvalidParameter, "", "asset %s could not be copied into the asset library of channel %s: %s", a.ID, ch.Name, cur.Error)
		case store.MirrorProcessing:
			if cur, err = m.refresh(ctx, c, cur); err != nil {
				return "", err
			}
			if cur == nil {
				continue // the upstream copy is gone: make another
			}
			switch cur.Status {
			case store.MirrorActive:
				return cur.UpstreamID, nil
			case store.MirrorFailed:
				return "", task.Errorf(task.CodeInvalidParameter, "", "asset %s could not be copied into the asset library of channel %s: %s", a.ID, ch.Name, cur.Error)
			}
		}
		// Creating (by someone else) or Processing: look again shortly.
		if !m.cfg.Now().Before(deadline) {
			return "", fmt.Errorf("asset %s is still being copied into the asset library of channel %s (%s)", a.ID, ch.Name, cur.Status)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// create makes the upstream copy of a under a claim the caller holds.
func (m *Mirror) create(ctx context.Context, ch *routing.Channel, c *Client, a *store.Asset, cur *store.AssetMirror) (*store.AssetMirror, error) {
	group, err := m.group(ctx, c, ch.AccessKeyID, a)
	if err != nil {
		return nil, m.createFailed(ctx, cur, err)
	}
	src := a.SourceURL
	if src == "" {
		src = m.cfg.FileURL(a.FileID)
	}
	name := cmp.Or(a.Name, a.ID)
	id, err := c.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: group, URL: src, Name: name, AssetType: assetType(a.Kind)})
	if err != nil {
		return nil, m.createFailed(ctx, cur, err)
	}
	m.log.InfoContext(ctx, "asset copied upstream", "asset", a.ID, "channel", ch.Name, "upstream_id", id)
	cur.UpstreamID, cur.Status, cur.UpdatedAt = id, store.MirrorProcessing, m.cfg.Now().UTC()
	if err := m.cfg.Store.UpdateAssetMirror(ctx, cur); err != nil {
		return nil, err
	}
	return cur, nil
}

// createFailed records a refused create as Failed (a later use learns why);
// any other failure leaves the claim to go stale, since the upstream may
// have made the asset after all.
func (m *Mirror) createFailed(ctx context.Context, cur *store.AssetMirror, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || !ae.Refused() {
		return fmt.Errorf("copy asset %s upstream: %w", cur.AssetID, err)
	}
	cur.Status, cur.Error, cur.UpdatedAt = store.MirrorFailed, ae.Code+": "+ae.Message, m.cfg.Now().UTC()
	if uerr := m.cfg.Store.UpdateAssetMirror(ctx, cur); uerr != nil {
		return uerr
	}
	return task.Errorf(task.CodeInvalidParameter, "", "asset %s was refused by the upstream's asset library: %s", cur.AssetID, cur.Error)
}

// group returns the upstream group holding a's group in the account.
func (m *Mirror) group(ctx context.Context, c *Client, account string, a *store.Asset) (string, error) {
	id, err := m.cfg.Store.AssetGroupMirror(ctx, a.Tenant, a.Group, account)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	v, err, _ := m.flight.Do("group\x00"+a.Tenant+"\x00"+a.Group+"\x00"+account, func() (any, error) {
		name := "seedgate-" + shortHash(a.Tenant+"\x00"+a.Group)
		id, err := c.CreateAssetGroup(ctx, name, "seedgate tenant group "+a.Group)
		if err != nil {
			return "", err
		}
		return m.cfg.Store.PutAssetGroupMirror(ctx, a.Tenant, a.Group, account, id, m.cfg.Now().UTC())
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// refresh reads the upstream state of a copy and records it; nil when the
// upstream lost the copy (expired or deleted), whose record is then released.
func (m *Mirror) refresh(ctx context.Context, c *Client, cur *store.AssetMirror) (*store.AssetMirror, error) {
	up, err := c.GetAsset(ctx, cur.UpstreamID)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound || err == nil && up.Status == arkassets.StatusExpired {
		m.log.InfoContext(ctx, "upstream asset gone; copying again", "asset", cur.AssetID, "upstream_id", cur.UpstreamID)
		return nil, m.cfg.Store.ReleaseAssetMirror(ctx, cur.AssetID, cur.Account)
	}
	if err != nil {
		return nil, fmt.Errorf("read upstream asset %s: %w", cur.UpstreamID, err)
	}
	status := MapStatus(up.Status)
	if status == cur.Status {
		return cur, nil
	}
	cur.Status, cur.UpdatedAt = status, m.cfg.Now().UTC()
	if up.Error != nil {
		cur.Error = strings.TrimSpace(up.Error.Code + ": " + up.Error.Message)
	}
	if err := m.cfg.Store.UpdateAssetMirror(ctx, cur); err != nil {
		return nil, err
	}
	return cur, nil
}

// MapStatus maps an upstream asset status to the record's.
func MapStatus(s string) string {
	switch s {
	case arkassets.StatusActive:
		return store.MirrorActive
	case arkassets.StatusFailed:
		return store.MirrorFailed
	}
	return store.MirrorProcessing
}

// Forget deletes the upstream copies of a deleted asset, best effort: a copy
// left behind only takes room in the account's library.
func (m *Mirror) Forget(ctx context.Context, mirrors []*store.AssetMirror) {
	if m == nil {
		return
	}
	for _, mr := range mirrors {
		c := m.byKey[mr.Account]
		if c == nil || mr.UpstreamID == "" {
			continue
		}
		if err := c.DeleteAsset(ctx, mr.UpstreamID); err != nil {
			m.log.WarnContext(ctx, "deleting an upstream asset failed", "asset", mr.AssetID, "upstream_id", mr.UpstreamID, "err", err)
		}
	}
}

func assetType(kind string) string {
	switch kind {
	case "video":
		return arkassets.TypeVideo
	case "audio":
		return arkassets.TypeAudio
	}
	return arkassets.TypeImage
}

// shortHash names an upstream group without showing the tenant's name.
func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}
