// Package ark is the provider that runs tasks on the real Seedance upstreams,
// Volcengine Ark and BytePlus ModelArk, over the channels and
// keys that package routing chooses among.
//
// Create. The normalized request becomes the create body field by field
// (body.go). The router picks a key with room (routing.Router.Failover); with
// no room the task stays queued in the gateway (provider.Wait). The create
// fails over to the next key on 429, on 5xx answers in Ark's error envelope,
// and when the connection failed before the request was sent; 401/403/404
// put the key aside too; a 400 fails the task for good. The chosen channel
// and key are recorded on the task: checks and cancels use that key only.
//
// Unknown outcomes. A create that timed out after sending, lost its
// connection, or got a 200 it could not read may have created the task. The
// task keeps its dispatch intent, and Reconcile later lists the recent tasks
// of every key that could own it and looks for the task's marker: a
// safety_identifier "sg-<task id>" sent with every create whose client set
// none, or else a seed derived from the task id when the client's seed was
// random, or else the echoed parameters (accepted only when exactly one task
// matches). Only when none is found after the upstream has been quiet for
// checks.reconcile_after is the task created again.
//
// Status checks are batched (check.go): the scheduler hands over every due
// task at once; they are grouped by key and service tier and read with the
// list endpoint's filter.task_ids, up to 500 ids a call. When to look again
// follows each task's expected finish time (package timing). With a public
// gateway URL the upstream's callbacks wake the scheduler instead
// (callback.go), and checks are only a safety net.
//
// A succeeded task is reported with its upstream result URLs; the scheduler's
// mirror step copies the files into blob storage before the task is
// succeeded in the gateway.
package ark

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/assetmirror"
	"github.com/seedgate/seedgate/internal/provider/timing"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the provider name stored on the tasks it owns.
const Name = "ark"

// defaultReconcileAfter is checks.reconcile_after's default.
const defaultReconcileAfter = 5 * time.Second

// Config wires a Provider.
type Config struct {
	Settings *routing.Settings
	// Store reads draft tasks and the per-key load.
	Store store.Store
	// Media recognises and reads gateway file URLs given as inputs.
	Media *media.Resolver
	// FileURL returns the signed gateway URL of a file.
	FileURL func(id string) string
	// PublicURL is the gateway's public base URL. Input files go upstream as
	// URLs only when it is reachable from the internet (see inputURL).
	PublicURL string
	// CallbackBase, when set, is the URL prefix the upstream's callbacks are
	// sent to (<public URL>/upstream/ark/callbacks); "" polls only.
	CallbackBase   string
	CallbackSecret []byte
	// HTTP calls the upstream API (default: a plain client; each call has its own timeout).
	HTTP   *http.Client
	Logger *slog.Logger
	Now    func() time.Time
	// Observe, when set, hears of every call to the upstream: its channel,
	// key id, operation (create, get, list, delete), HTTP status (0: no
	// answer) and duration (metrics.Metrics.Upstream).
	Observe func(channel, key, op string, status int, d time.Duration)
	// Assets turns asset:// inputs into what the chosen channel reads
	// (copies in its account's asset library); nil sends them as they are.
	Assets *assetmirror.Mirror
}

// Provider is the ark provider. It is safe for concurrent use.
type Provider struct {
	cfg            Config
	log            *slog.Logger
	router         *routing.Router
	clients        map[string]*client // channel name → its client
	timing         *timing.Model
	reconcileAfter time.Duration
	batchSize      int
	publicInputs   bool

	mu       sync.Mutex
	attempts map[string]time.Time // task id → end of its last create with an unknown outcome
}

var (
	_ provider.Provider     = (*Provider)(nil)
	_ provider.Reconciler   = (*Provider)(nil)
	_ provider.BatchChecker = (*Provider)(nil)
	_ provider.Validator    = (*Provider)(nil)
)

// New returns a provider for validated settings (routing.ParseSettings, routing.LoadSettings).
func New(cfg Config) (*Provider, error) {
	if cfg.Settings == nil || len(cfg.Settings.Channels) == 0 {
		return nil, errors.New("ark: no channels")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("ark: %w", err)
	}
	if cfg.Store == nil || cfg.Media == nil {
		return nil, errors.New("ark: a store and a media resolver are required")
	}
	if cfg.FileURL == nil {
		cfg.FileURL = func(id string) string { return cfg.PublicURL + "/v1/files/" + id + "/content" }
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true,
		}}
	}
	cfg.Logger, cfg.Now = baseservice.Logger(cfg.Logger), baseservice.Now(cfg.Now)
	if cfg.CallbackBase != "" && len(cfg.CallbackSecret) < 16 {
		return nil, errors.New("ark: callbacks need a secret of at least 16 bytes")
	}
	checks := cfg.Settings.Checks
	p := &Provider{
		cfg:     cfg,
		log:     cfg.Logger.With("provider", Name),
		clients: map[string]*client{},
		timing: timing.New(timing.Settings{MinInterval: checks.MinInterval, MaxInterval: checks.MaxInterval,
			ExpectedTime: checks.ExpectedTime, Callbacks: cfg.CallbackBase != ""}),
		reconcileAfter: cmp.Or(checks.ReconcileAfter, defaultReconcileAfter),
		batchSize:      cmp.Or(checks.BatchSize, maxPageSize),
		publicInputs:   publicReachable(cfg.PublicURL),
		attempts:       map[string]time.Time{},
	}
	var channels []*routing.Channel
	for i := range cfg.Settings.Channels {
		ch := &cfg.Settings.Channels[i]
		channels = append(channels, ch)
		timeout := ch.Timeout
		if timeout <= 0 {
			timeout = defaultCreateTimeout
		}
		p.clients[ch.Name] = &client{http: cfg.HTTP, base: ch.BaseURL, createTimeout: timeout, userAgent: "seedgate",
			channel: ch.Name, observe: cfg.Observe}
	}
	p.router = routing.New(routing.Config{Channels: channels, Load: keyLoad(cfg.Store), MinWait: p.timing.MinInterval(), Now: cfg.Now})
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Router is the provider's router (its channels and their load).
func (p *Provider) Router() *routing.Router { return p.router }

// Serves reports whether some channel serves the catalog model.
func (p *Provider) Serves(modelID string) bool { return p.router.Serves(modelID) }

// Models lists the catalog ids some channel serves.
func (p *Provider) Models() []string { return p.router.Models() }

// Describe summarises the channels for the startup log (never the keys).
func (p *Provider) Describe() string { return p.router.Describe() }

func (p *Provider) now() time.Time { return p.cfg.Now() }

func (p *Provider) callbacks() bool { return p.cfg.CallbackBase != "" }

// channel returns the channel and key a task recorded.
func (p *Provider) channel(t *task.Task) (*routing.Channel, *routing.Key, *client, error) {
	if ch, k, ok := p.router.Lookup(t.Channel, t.UpstreamKey); ok {
		return ch, k, p.clients[ch.Name], nil
	}
	return nil, nil, nil, fmt.Errorf("channel %q with key %q is no longer configured: the upstream task %s can only be read with the key that created it",
		t.Channel, t.UpstreamKey, t.UpstreamID)
}

func lookupModel(t *task.Task) (*task.Model, error) {
	m, _, ok := task.LookupModel(t.Model)
	if !ok {
		return nil, task.Errorf(task.CodeUnknownModel, "model", "unknown model %q", t.Model)
	}
	return m, nil
}

// Submit implements provider.Provider: create the task on a key with room,
// failing over as the package comment says. The scheduler has recorded the
// dispatch intent; Reconcile handles every later attempt.
func (p *Provider) Submit(ctx context.Context, t *task.Task) (string, error) {
	m, err := lookupModel(t)
	if err != nil {
		return "", err
	}
	pn, draftID, err := p.draft(ctx, t)
	if err != nil {
		return "", err
	}
	var content []contentItem // built once a key is found: inline images are costly
	contentFor := ""          // the channel content was built for: assets differ per account
	f := p.router.Failover(routing.Request{TaskID: t.ID, Model: m, Pin: pn, RunTime: p.timing.Expected(t)})
	for {
		c, err := f.Next(ctx)
		if last, ok := routing.IsExhausted(err); ok {
			return "", upstreamError(last)
		}
		if err != nil {
			return "", err // a provider.Wait: nothing was created
		}
		if content == nil || (contentFor != c.Channel.Name && assetmirror.HasAssets(&t.Request)) {
			req := &t.Request
			if p.cfg.Assets != nil {
				req, err = p.cfg.Assets.Request(ctx, c.Channel, req)
			}
			if err == nil {
				content, err = p.content(ctx, req, draftID)
			}
			contentFor = c.Channel.Name
			if err != nil {
				p.router.Release(t.ID)
				if te := task.AsError(err); te.Code == task.CodeInternal {
					return "", notSent(err)
				}
				return "", err
			}
		}
		up, _ := c.Channel.UpstreamModel(m.ID)
		now := p.now()
		body, err := p.createBody(t, up, content, now)
		if err != nil {
			p.router.Release(t.ID)
			return "", err
		}
		cl := p.clients[c.Channel.Name]
		t.Channel, t.UpstreamKey = c.Channel.Name, c.Key.ID
		id, err := cl.create(ctx, c.Key, body)
		if err == nil {
			p.created(t, now)
			p.log.DebugContext(ctx, "upstream task created", "task", t.ID, "upstream_id", id, "channel", c.Channel.Name, "key", c.Key.ID)
			return id, nil
		}
		outcome, coolDown := classifyCreate(err)
		f.Failed(c, outcome, coolDown, err)
		switch outcome {
		case routing.Rejected:
			t.Channel, t.UpstreamKey = "", ""
			return "", upstreamError(err)
		case routing.Unknown:
			// Keep the key on the task: the upstream task may exist there. A
			// create that timed out may still sit in the upstream's queue and be
			// acted on later, so it counts as in flight for one more create
			// timeout before the quiet time starts.
			until := p.now()
			if errors.Is(err, context.DeadlineExceeded) {
				until = until.Add(cl.createTimeout)
			}
			p.mu.Lock()
			p.attempts[t.ID] = until
			p.mu.Unlock()
			p.log.WarnContext(ctx, "create outcome unknown; will reconcile", "task", t.ID, "channel", c.Channel.Name, "key", c.Key.ID, "err", err)
			return "", provider.Transient(err, p.reconcileAfter)
		default:
			t.Channel, t.UpstreamKey = "", ""
			p.log.WarnContext(ctx, "create failed on a key; failing over", "task", t.ID, "channel", c.Channel.Name, "key", c.Key.ID, "err", err)
		}
	}
}

// created notes a successful create on t: its next check and its deadline.
func (p *Provider) created(t *task.Task, now time.Time) {
	next := p.timing.Next(t, 0, now)
	t.NextCheckAt = &next
	// The upstream counts the window from its own created time: expire locally
	// only after it had its chance, so the upstream's outcome is what counts.
	deadline := now.Add(time.Duration(executionWindow(t, now))*time.Second + 10*time.Minute)
	if deadline.After(t.ExpiresAt) {
		t.ExpiresAt = deadline
	}
	p.mu.Lock()
	delete(p.attempts, t.ID)
	p.mu.Unlock()
}

// notSent reports a failure before anything was sent upstream (the store,
// blob storage): the task stays queued in the gateway and tries again soon,
// with no dispatch left to reconcile.
func notSent(err error) error {
	return provider.Wait(5*time.Second, err.Error())
}

// classifyCreate sorts a failed create by routing's rules and says how long
// to keep off the key.
func classifyCreate(err error) (routing.Outcome, time.Duration) {
	var ae *APIError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		return routing.ClassifyStatus(ae.Status, ae.Code != "", ae.RetryAfter)
	case errors.As(err, &te) && !te.Sent:
		return routing.Retry, routing.UnavailableCoolDown
	}
	return routing.Unknown, 0
}

// upstreamError turns an upstream refusal into the task's error.
func upstreamError(err error) *task.Error {
	var ae *APIError
	if errors.As(err, &ae) {
		msg := ae.Message
		if msg == "" {
			msg = ae.Error()
		}
		return &task.Error{Code: task.CodeUpstream, UpstreamCode: ae.Code, Field: ae.Param, Message: msg}
	}
	return &task.Error{Code: task.CodeUpstream, Message: err.Error()}
}

// draft resolves a draft_task id that names a gateway task to its upstream
// id, and pins the create to the key that owns the draft (drafts are per account).
func (p *Provider) draft(ctx context.Context, t *task.Task) (*routing.Pin, string, error) {
	id := t.Request.DraftTaskID
	if id == "" {
		return nil, "", nil
	}
	d, err := p.cfg.Store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil // an upstream id the client knows: send it as it is
	}
	if err != nil {
		return nil, "", notSent(fmt.Errorf("look up draft task: %w", err))
	}
	if d.Tenant != t.Tenant || d.Provider != Name || d.UpstreamID == "" {
		return nil, "", task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"draft task %s was not run on an upstream channel of this gateway", id)
	}
	return &routing.Pin{Channel: d.Channel, Key: d.UpstreamKey}, d.UpstreamID, nil
}

// Cancel implements provider.Provider. Only a task still queued upstream can
// be cancelled; it is read first, because DELETE of a finished task would
// delete its record (and its result) upstream.
func (p *Provider) Cancel(ctx context.Context, t *task.Task) error {
	defer p.router.Release(t.ID)
	if t.UpstreamID == "" {
		return nil
	}
	_, k, cl, err := p.channel(t)
	if err != nil {
		return task.Errorf(task.CodeUnavailable, "", "%v", err)
	}
	up, err := cl.get(ctx, k, t.UpstreamID)
	if isNotFound(err) {
		return nil // nothing left to stop
	}
	if err != nil {
		return fmt.Errorf("cancel: read upstream task: %w", err)
	}
	switch task.Status(up.Status) {
	case task.StatusQueued:
	case task.StatusCancelled:
		return nil
	case task.StatusRunning:
		return task.Errorf(task.CodeConflict, "id", "task %s is already running upstream and cannot be cancelled", t.ID)
	default:
		return task.Errorf(task.CodeConflict, "id", "task %s has already finished upstream (%s)", t.ID, up.Status)
	}
	err = cl.delete(ctx, k, t.UpstreamID)
	var ae *APIError
	switch {
	case err == nil, isNotFound(err):
		return nil
	case errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
		return task.Errorf(task.CodeConflict, "id", "the upstream refused to cancel task %s: %s", t.ID, ae.Message)
	}
	return fmt.Errorf("cancel: %w", err)
}

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
