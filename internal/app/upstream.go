package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/metrics"
	"github.com/seedgate/seedgate/internal/mirror"
	"github.com/seedgate/seedgate/internal/provider/ark"
	"github.com/seedgate/seedgate/internal/provider/assetmirror"
	"github.com/seedgate/seedgate/internal/provider/jobs"
	"github.com/seedgate/seedgate/internal/provider/openrouter"
	"github.com/seedgate/seedgate/internal/provider/seedance"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/provider/videos"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// kinds are the channel kinds this build runs, each the client side of one
// protocol. Registering a kind is adding its constructor here; a channel of a
// kind not listed stops startup with a message naming the channel.
var kinds = []upstream.NewKind{
	ark.NewKind,
	jobs.NewKind,
	videos.NewKind,
	seedance.NewKind,
	openrouter.NewKind,
}

// newUpstream builds the upstream provider from SEEDGATE_CHANNELS_FILE and/or the
// SEEDGATE_ARK_API_KEY shortcut, and the copier of assets into its channels'
// asset libraries; nil when neither is set (sandbox only). extra kinds
// (WithKinds) join the registered ones, replacing any of the same name.
func newUpstream(ctx context.Context, c *config.Config, st store.Store, resolver *media.Resolver,
	urls *service.URLSigner, base baseservice.Archetype, m *metrics.Metrics, extra []upstream.Kind) (*upstream.Provider, *assetmirror.Mirror, error) {
	log := base.Logger
	var settings *routing.Settings
	if c.ChannelsFile != "" {
		s, err := routing.LoadSettings(c.ChannelsFile)
		if err != nil {
			return nil, nil, fmt.Errorf("SEEDGATE_CHANNELS_FILE: %w", err)
		}
		settings = s
	}
	if len(c.ArkAPIKeys) > 0 {
		if settings == nil {
			settings = &routing.Settings{}
		}
		settings.Channels = append(settings.Channels, routing.ShortcutChannel(c.ArkAPIKeys, c.ArkBaseURL))
		if err := settings.Validate(); err != nil {
			return nil, nil, fmt.Errorf("SEEDGATE_ARK_API_KEY: %w", err)
		}
	}
	if settings == nil {
		return nil, nil, nil
	}
	var channels []*routing.Channel
	for i := range settings.Channels {
		channels = append(channels, &settings.Channels[i])
	}
	assets, err := assetmirror.New(assetmirror.Config{Store: st, Channels: channels, FileURL: urls.FileURL,
		Now: base.Now, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("SEEDGATE_CHANNELS_FILE: %w", err)
	}
	env := upstream.Env{
		Assets:   assets,
		Settings: settings, Store: st, Media: resolver, FileURL: urls.FileURL, PublicURL: c.PublicURL,
		Logger: log,
		Now:    base.Now,
	}
	if m != nil {
		env.Observe = m.Upstream
	}
	if c.PublicURLSet {
		// The setting's name predates other kinds: Ark's callback URLs stay valid.
		secret, err := st.Setting(ctx, "ark_callback_key", randomHex(32))
		if err != nil {
			return nil, nil, fmt.Errorf("callback key: %w", err)
		}
		env.CallbackURL, env.CallbackSecret = c.PublicURL, []byte(secret)
	}
	registry := map[string]upstream.Kind{}
	for _, newKind := range kinds {
		k, err := newKind(env)
		if err != nil {
			return nil, nil, fmt.Errorf("SEEDGATE_CHANNELS_FILE: %w", err)
		}
		registry[k.Name()] = k
	}
	for _, k := range extra {
		registry[k.Name()] = k
	}
	p, err := upstream.New(upstream.Config{Env: env, Kinds: registry})
	if err != nil {
		return nil, nil, fmt.Errorf("SEEDGATE_CHANNELS_FILE: %w", err)
	}
	log.Info("upstream channels", "channels", p.Describe(), "models", p.Models(), "callbacks", env.CallbackURL != "")
	return p, assets, nil
}

// newMirror builds the scheduler's mirror step. Result files come from the
// upstream's storage: public hosts, fetched through the SSRF guard like any
// URL the gateway did not choose itself; a kind whose result URLs need its
// key gives the header (up.ResultHeaders).
func newMirror(c *config.Config, blobs blob.Store, workDir string, base baseservice.Archetype, up *upstream.Provider) *mirror.Mirror {
	mc := mirror.Config{
		Blobs:      blobs,
		Download:   safehttp.New(safehttp.Options{AllowPrivate: c.AllowPrivate, Timeout: 30 * time.Minute}),
		FFmpegPath: c.FFmpegPath, WorkDir: workDir, Logger: base.Logger, Now: base.Now,
	}
	if up != nil {
		mc.Headers = up.ResultHeaders
	}
	return mirror.New(mc)
}

// providersLabel names the providers new tasks run on, for the startup log:
// "ark(2 channels, 5 keys)", or "sandbox" without upstream channels.
func providersLabel(p *upstream.Provider) string {
	if p == nil {
		return "sandbox"
	}
	return fmt.Sprintf("%s(%s)", p.Name(), p.Router().Summary())
}

// upstreamRoute sends the models a channel serves to the upstream provider
// and refuses the others ("" names no provider: the service answers
// unavailable). With no channels every model stays on the sandbox (nil: the
// service's default).
func upstreamRoute(p *upstream.Provider) func(*task.Model) string {
	if p == nil {
		return nil
	}
	return func(m *task.Model) string {
		if p.Serves(m.ID) {
			return p.Name()
		}
		return ""
	}
}

// upstreamCallbacks is the handler of the upstreams' callbacks (nil without them).
func (a *App) upstreamCallbacks(p *upstream.Provider) http.Handler {
	if p == nil || !a.Config.PublicURLSet {
		return nil
	}
	return p.CallbackHandler(a.Scheduler.NudgeAt)
}

// assetFile reads the file holding an asset's content (asset:// inputs).
func assetFile(st store.Store) func(ctx context.Context, id string) (*task.File, error) {
	return func(ctx context.Context, id string) (*task.File, error) {
		a, err := st.GetAsset(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, task.Errorf(task.CodeNotFound, "", "asset %s not found", id)
		}
		if err != nil {
			return nil, err
		}
		f, err := st.GetFile(ctx, a.FileID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, task.Errorf(task.CodeNotFound, "", "the file of asset %s is gone", id)
		}
		return f, err
	}
}
