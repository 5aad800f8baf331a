// Package ark is the provider that runs tasks on the real Seedance upstreams,
// Volcengine Ark and BytePlus ModelArk (spec/ark.md), through channels:
// groups of API keys with the models they serve, priorities, weights and
// per-key limits (channels.go).
//
// Create. The normalized request becomes the create body field by field
// (body.go). A key with room is picked (route.go): channels by priority, then
// at random by weight, the least loaded key within; a key is full when its
// live tasks reach the channel's concurrency or its creates the RPM (both per
// key and model, as Ark counts them). With no room the task stays queued in
// the gateway (provider.Wait). The create fails over to the next key on 429,
// on 5xx answers in Ark's error envelope, and when the connection failed
// before the request was sent; 401/403/404 put the key aside too; a 400 fails
// the task for good. The chosen channel and key are recorded on the task:
// checks and cancels use that key only.
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
// follows each task's expected finish time (timing.go). With a public
// gateway URL the upstream's callbacks wake the scheduler instead
// (callback.go), and checks are only a safety net.
//
// Results are copied into blob storage before the task is reported
// succeeded (mirror.go).
package ark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the provider name stored on the tasks it owns.
const Name = "ark"

// Config wires a Provider.
type Config struct {
	Settings *Settings
	// Store reads draft tasks and the per-key load.
	Store store.Store
	// Blobs receives mirrored results.
	Blobs blob.Store
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
	HTTP *http.Client
	// Download fetches result files (default: safehttp.New with no private addresses).
	Download *http.Client
	// MaxVideoBytes bounds a mirrored video (default 2 GiB).
	MaxVideoBytes int64
	// MaxMirrors bounds concurrent result downloads (default 8).
	MaxMirrors int
	Logger     *slog.Logger
	Now        func() time.Time
}

// Provider is the ark provider. It is safe for concurrent use.
type Provider struct {
	cfg          Config
	log          *slog.Logger
	channels     []*Channel
	clients      map[string]*client
	timing       *timing
	publicInputs bool
	mirrors      chan struct{}

	mu       sync.Mutex
	keys     map[slot]*keyState
	pending  map[string]pendingSlot
	attempts map[string]time.Time     // task id → end of its last create with an unknown outcome
	loads    map[string]*loadSnapshot // model → the store's count of its key load (route.go)
}

var (
	_ provider.Provider     = (*Provider)(nil)
	_ provider.Reconciler   = (*Provider)(nil)
	_ provider.BatchChecker = (*Provider)(nil)
	_ provider.Validator    = (*Provider)(nil)
)

// New returns a provider for validated settings (ParseSettings, LoadSettings).
func New(cfg Config) (*Provider, error) {
	if cfg.Settings == nil || len(cfg.Settings.Channels) == 0 {
		return nil, errors.New("ark: no channels")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("ark: %w", err)
	}
	if cfg.Store == nil || cfg.Blobs == nil {
		return nil, errors.New("ark: a store and blob storage are required")
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
	if cfg.Download == nil {
		cfg.Download = safehttp.New(safehttp.Options{Timeout: 30 * time.Minute})
	}
	if cfg.MaxVideoBytes <= 0 {
		cfg.MaxVideoBytes = 2 << 30
	}
	if cfg.MaxMirrors <= 0 {
		cfg.MaxMirrors = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CallbackBase != "" && len(cfg.CallbackSecret) < 16 {
		return nil, errors.New("ark: callbacks need a secret of at least 16 bytes")
	}
	p := &Provider{
		cfg:          cfg,
		log:          cfg.Logger.With("provider", Name),
		clients:      map[string]*client{},
		timing:       newTiming(cfg.Settings.Checks, cfg.CallbackBase != ""),
		publicInputs: publicReachable(cfg.PublicURL),
		mirrors:      make(chan struct{}, cfg.MaxMirrors),
		keys:         map[slot]*keyState{},
		pending:      map[string]pendingSlot{},
		attempts:     map[string]time.Time{},
		loads:        map[string]*loadSnapshot{},
	}
	for i := range cfg.Settings.Channels {
		ch := &cfg.Settings.Channels[i]
		p.channels = append(p.channels, ch)
		timeout := ch.Timeout
		if timeout <= 0 {
			timeout = defaultCreateTimeout
		}
		p.clients[ch.Name] = &client{http: cfg.HTTP, base: ch.BaseURL, createTimeout: timeout, userAgent: "seedgate"}
	}
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Serves reports whether some channel serves the catalog model.
func (p *Provider) Serves(modelID string) bool {
	for _, ch := range p.channels {
		if ch.Serves(modelID) {
			return true
		}
	}
	return false
}

// Models lists the catalog ids some channel serves.
func (p *Provider) Models() []string {
	var out []string
	for _, m := range task.Models() {
		if p.Serves(m.ID) {
			out = append(out, m.ID)
		}
	}
	return out
}

// Describe summarises the channels for the startup log (never the keys).
func (p *Provider) Describe() string {
	var parts []string
	for _, ch := range p.channels {
		parts = append(parts, fmt.Sprintf("%s (%s, %d keys, %d models, priority %d)", ch.Name, ch.BaseURL, len(ch.keys), len(ch.routes), ch.Priority))
	}
	return strings.Join(parts, "; ")
}

func (p *Provider) now() time.Time { return p.cfg.Now() }

func (p *Provider) callbacks() bool { return p.cfg.CallbackBase != "" }

// channel returns the channel and key a task recorded.
func (p *Provider) channel(t *task.Task) (*Channel, *Key, *client, error) {
	for _, ch := range p.channels {
		if ch.Name != t.Channel {
			continue
		}
		if k := ch.key(t.UpstreamKey); k != nil {
			return ch, k, p.clients[ch.Name], nil
		}
	}
	return nil, nil, nil, fmt.Errorf("channel %q with key %q is no longer configured: the upstream task %s can only be read with the key that created it",
		t.Channel, t.UpstreamKey, t.UpstreamID)
}

// slotCount is how many keys could take a create of the model.
func (p *Provider) slotCount(model string, pn *pin) int {
	n := 0
	for _, ch := range p.channels {
		if !ch.Serves(model) {
			continue
		}
		for _, k := range ch.keys {
			if pn == nil || (pn.channel == ch.Name && pn.key == k.ID) {
				n++
			}
		}
	}
	return n
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
	tried := map[slot]bool{}
	var (
		lastErr     error
		onlyKeyErrs = true // every key refused the account/model: retrying will not help
	)
	for {
		c, wait, err := p.pick(ctx, m, t, pn, tried)
		if err != nil {
			return "", notSent(err)
		}
		if c == nil {
			if lastErr == nil {
				return "", provider.Wait(wait, "every channel serving "+m.ID+" is at its limits")
			}
			if onlyKeyErrs && len(tried) == p.slotCount(m.ID, pn) {
				return "", upstreamError(lastErr)
			}
			return "", provider.Wait(wait, lastErr.Error())
		}
		s := c.slot(m.ID)
		tried[s] = true
		if content == nil {
			if content, err = p.content(ctx, &t.Request, draftID); err != nil {
				p.release(t.ID)
				if te := task.AsError(err); te.Code == task.CodeInternal {
					return "", notSent(err)
				}
				return "", err
			}
		}
		up, _ := c.ch.UpstreamModel(m.ID)
		now := p.now()
		body, err := p.createBody(t, up, content, now)
		if err != nil {
			p.release(t.ID)
			return "", err
		}
		t.Channel, t.UpstreamKey = c.ch.Name, c.key.ID
		id, err := c.cl.create(ctx, c.key, body)
		if err == nil {
			p.created(t, now)
			p.log.Debug("upstream task created", "task", t.ID, "upstream_id", id, "channel", c.ch.Name, "key", c.key.ID)
			return id, nil
		}
		switch outcome, after := classifyCreate(err); outcome {
		case createRejected:
			p.release(t.ID)
			t.Channel, t.UpstreamKey = "", ""
			return "", upstreamError(err)
		case createUnknown:
			// Keep the key on the task: the upstream task may exist there. A
			// create that timed out may still sit in the upstream's queue and be
			// acted on later, so it counts as in flight for one more create
			// timeout before the quiet time starts.
			until := p.now()
			if errors.Is(err, context.DeadlineExceeded) {
				until = until.Add(c.cl.createTimeout)
			}
			p.mu.Lock()
			p.attempts[t.ID] = until
			p.mu.Unlock()
			p.log.Warn("create outcome unknown; will reconcile", "task", t.ID, "channel", c.ch.Name, "key", c.key.ID, "err", err)
			return "", provider.Transient(err, p.timing.s.ReconcileAfter)
		case createKeyRefused, createRetry:
			p.release(t.ID)
			t.Channel, t.UpstreamKey = "", ""
			p.coolDown(s, after)
			if outcome == createRetry {
				onlyKeyErrs = false
			}
			lastErr = err
			p.log.Warn("create failed on a key; failing over", "task", t.ID, "channel", c.ch.Name, "key", c.key.ID, "err", err)
		}
	}
}

// created notes a successful create on t: its next check and its deadline.
func (p *Provider) created(t *task.Task, now time.Time) {
	next := p.timing.next(t, 0, now)
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

type createOutcome int

const (
	createRejected   createOutcome = iota // 4xx about the request: fail the task
	createKeyRefused                      // 401/403/404: this key or account cannot
	createRetry                           // 429, 5xx in Ark's envelope, not sent: nothing created, try elsewhere
	createUnknown                         // maybe created: reconcile
)

// classifyCreate sorts a failed create and says how long to keep off the key.
func classifyCreate(err error) (createOutcome, time.Duration) {
	var ae *APIError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		switch {
		case ae.Status == http.StatusTooManyRequests:
			return createRetry, max(ae.RetryAfter, 3*time.Second)
		case ae.Status >= 500 && ae.Code != "":
			return createRetry, max(ae.RetryAfter, 5*time.Second)
		case ae.Status >= 500:
			return createUnknown, 0 // a proxy's answer: the upstream may have acted
		case ae.Status == http.StatusUnauthorized, ae.Status == http.StatusForbidden, ae.Status == http.StatusNotFound:
			return createKeyRefused, time.Minute
		}
		return createRejected, 0
	case errors.As(err, &te) && !te.Sent:
		return createRetry, 5 * time.Second
	}
	return createUnknown, 0
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
func (p *Provider) draft(ctx context.Context, t *task.Task) (*pin, string, error) {
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
	return &pin{channel: d.Channel, key: d.UpstreamKey}, d.UpstreamID, nil
}

// Cancel implements provider.Provider. Only a task still queued upstream can
// be cancelled; it is read first, because DELETE of a finished task would
// delete its record (and its result) upstream.
func (p *Provider) Cancel(ctx context.Context, t *task.Task) error {
	defer p.release(t.ID)
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
