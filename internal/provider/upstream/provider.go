package upstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
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

// Name is the provider name stored on the tasks it owns. It is "ark" because
// the provider ran Ark channels only before channels had kinds: tasks already
// in stores name it so, and keeping the name keeps them (their key load, their
// drafts, their metrics) without an alias or a migration. Which kind ran a
// task is its channel's (Task.Channel).
const Name = "ark"

// DefaultCreateTimeout bounds one create call when the channel sets no timeout.
const DefaultCreateTimeout = 60 * time.Second

// defaultReconcileAfter is checks.reconcile_after's default.
const defaultReconcileAfter = 5 * time.Second

// Env is what the gateway gives every kind when it is built (NewKind).
type Env struct {
	Settings *routing.Settings
	// Store reads draft tasks and the per-key load.
	Store store.Store
	// Media recognises and reads gateway file URLs given as inputs.
	Media *media.Resolver
	// FileURL returns the signed gateway URL of a file.
	FileURL func(id string) string
	// PublicURL is the gateway's public base URL. Input files go upstream as
	// URLs only when it is reachable from the internet (PublicReachable).
	PublicURL string
	// CallbackURL, when set, is the gateway's public base URL upstreams may
	// call back to; "" polls only. A kind receiving callbacks serves them
	// under CallbackPath(kind) (see Callbacker).
	CallbackURL    string
	CallbackSecret []byte
	// HTTP calls the upstreams (each call has its own timeout).
	HTTP   *http.Client
	Logger *slog.Logger
	Now    func() time.Time
	// Observe, when set, hears of every call to an upstream: its channel,
	// key id, operation (create, get, list, delete, …), HTTP status (0: no
	// answer) and duration (metrics.Metrics.Upstream).
	Observe func(channel, key, op string, status int, d time.Duration)
	// Assets turns asset:// inputs into what a channel reads (copies in its
	// account's asset library); nil: kinds send them as they are.
	Assets *assetmirror.Mirror
}

// Inputs is how the kinds of this Env turn input URLs into what an upstream reads.
func (e *Env) Inputs() Inputs {
	return Inputs{Media: e.Media, FileURL: e.FileURL, Public: PublicReachable(e.PublicURL)}
}

// CallbackPath is where the gateway takes the callbacks of a kind's upstreams:
// POST <public URL>/upstream/<kind>/callbacks/{id}/{token}.
func CallbackPath(kind string) string { return "/upstream/" + kind + "/callbacks" }

// CallbackBase is the URL prefix a kind's callbacks are sent to ("" without callbacks).
func (e *Env) CallbackBase(kind string) string {
	if e.CallbackURL == "" {
		return ""
	}
	return strings.TrimRight(e.CallbackURL, "/") + CallbackPath(kind)
}

// NewKind builds a kind for an Env. Registering a kind is adding its NewKind
// to the gateway's list (internal/app).
type NewKind func(Env) (Kind, error)

// Config wires a Provider.
type Config struct {
	Env
	// Kinds is the registry: kind name → the kind that runs its channels.
	// Every channel's kind must be in it.
	Kinds map[string]Kind
}

// Provider runs tasks on the channels of every kind: it chooses a channel and
// key (package routing), fails over, reconciles creates whose outcome is
// unknown, paces and batches status checks, and releases load. It is safe
// for concurrent use.
type Provider struct {
	cfg            Config
	log            *slog.Logger
	router         *routing.Router
	kinds          map[string]Kind
	caps           map[string]Capabilities // kind name → its capabilities
	timing         *timing.Model
	reconcileAfter time.Duration
	inputs         Inputs

	mu       sync.Mutex
	attempts map[string]time.Time // task id → end of its last create with an unknown outcome
}

var (
	_ provider.Provider     = (*Provider)(nil)
	_ provider.Reconciler   = (*Provider)(nil)
	_ provider.BatchChecker = (*Provider)(nil)
	_ provider.Validator    = (*Provider)(nil)
)

// New returns a provider for validated settings (routing.ParseSettings,
// routing.LoadSettings). Every channel's kind must be registered.
func New(cfg Config) (*Provider, error) {
	if cfg.Settings == nil || len(cfg.Settings.Channels) == 0 {
		return nil, errors.New("upstream: no channels")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if cfg.Store == nil {
		return nil, errors.New("upstream: a store is required")
	}
	cfg.Logger, cfg.Now = baseservice.Logger(cfg.Logger), baseservice.Now(cfg.Now)
	if cfg.FileURL == nil {
		cfg.FileURL = func(id string) string { return cfg.PublicURL + "/v1/files/" + id + "/content" }
	}
	var unknown []string
	var channels []*routing.Channel
	for i := range cfg.Settings.Channels {
		ch := &cfg.Settings.Channels[i]
		channels = append(channels, ch)
		if cfg.Kinds[ch.Kind] == nil {
			unknown = append(unknown, fmt.Sprintf("channel %q has kind %q, which this build cannot run yet (it runs: %s)",
				ch.Name, ch.Kind, strings.Join(KindNames(cfg.Kinds), ", ")))
		}
	}
	if len(unknown) > 0 {
		return nil, errors.New(strings.Join(unknown, "; "))
	}
	checks := cfg.Settings.Checks
	p := &Provider{
		cfg:   cfg,
		log:   cfg.Logger.With("provider", Name),
		kinds: cfg.Kinds,
		caps:  map[string]Capabilities{},
		timing: timing.New(timing.Settings{MinInterval: checks.MinInterval, MaxInterval: checks.MaxInterval,
			ExpectedTime: checks.ExpectedTime}),
		reconcileAfter: cmp.Or(checks.ReconcileAfter, defaultReconcileAfter),
		inputs:         cfg.Inputs(),
		attempts:       map[string]time.Time{},
	}
	for name, k := range cfg.Kinds {
		p.caps[name] = k.Capabilities()
	}
	p.router = routing.New(routing.Config{Channels: channels, Load: keyLoad(cfg.Store), MinWait: p.timing.MinInterval(), Now: cfg.Now})
	return p, nil
}

// KindNames lists a registry's kinds, sorted.
func KindNames(kinds map[string]Kind) []string {
	var out []string
	for name := range kinds {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Router is the provider's router (its channels and their load).
func (p *Provider) Router() *routing.Router { return p.router }

// Kind returns the registered kind of that name (nil: none).
func (p *Provider) Kind(name string) Kind { return p.kinds[name] }

// Serves reports whether some channel serves the catalog model.
func (p *Provider) Serves(modelID string) bool { return p.router.Serves(modelID) }

// Models lists the catalog ids some channel serves.
func (p *Provider) Models() []string { return p.router.Models() }

// Describe summarises the channels for the startup log (never the keys).
func (p *Provider) Describe() string { return p.router.Describe() }

func (p *Provider) now() time.Time { return p.cfg.Now() }

// call is the Call for one channel and key.
func (p *Provider) call(ch *routing.Channel, k *routing.Key, model, draft string) Call {
	up, _ := ch.UpstreamModel(model)
	return Call{Channel: ch, Key: k, Model: up, Draft: draft, Input: p.inputs.Resolve}
}

// owner returns the channel, key and kind a task recorded.
func (p *Provider) owner(t *task.Task) (Call, Kind, error) {
	if ch, k, ok := p.router.Lookup(t.Channel, t.UpstreamKey); ok {
		return p.call(ch, k, t.Model, ""), p.kinds[ch.Kind], nil
	}
	return Call{}, nil, fmt.Errorf("channel %q with key %q is no longer configured: the upstream task %s can only be read with the key that created it",
		t.Channel, t.UpstreamKey, t.UpstreamID)
}

// callbacks reports whether a kind's upstreams call back (checks are then a safety net).
func (p *Provider) callbacks(kind string) bool { return p.caps[kind].Callbacks }

func lookupModel(t *task.Task) (*task.Model, error) {
	m, _, ok := task.LookupModel(t.Model)
	if !ok {
		return nil, task.Errorf(task.CodeUnknownModel, "model", "unknown model %q", t.Model)
	}
	return m, nil
}

// createTimeout is how long one create on a channel may take.
func createTimeout(ch *routing.Channel) time.Duration {
	if ch.Timeout > 0 {
		return ch.Timeout
	}
	return DefaultCreateTimeout
}

// Submit implements provider.Provider: create the task on a key with room
// whose kind can carry the request, failing over as package routing says.
// The scheduler has recorded the dispatch intent; Reconcile handles every
// later attempt.
func (p *Provider) Submit(ctx context.Context, t *task.Task) (string, error) {
	m, err := lookupModel(t)
	if err != nil {
		return "", err
	}
	if err := p.carriable(ctx, m, &t.Request); err != nil {
		return "", err // the channels changed since the task was accepted
	}
	pn, draftID, err := p.draft(ctx, t)
	if err != nil {
		return "", err
	}
	if err := p.pinFits(ctx, pn, &t.Request); err != nil {
		return "", err
	}
	f := p.router.Failover(routing.Request{TaskID: t.ID, Model: m, Pin: pn, RunTime: p.timing.Expected(t), Fits: p.fits(ctx, &t.Request)})
	for {
		c, err := f.Next(ctx)
		if last, ok := routing.IsExhausted(err); ok {
			return "", upstreamError(last)
		}
		if err != nil {
			return "", err // a provider.Wait: nothing was created
		}
		kind := p.kinds[c.Channel.Kind]
		call := p.call(c.Channel, c.Key, m.ID, draftID)
		now := p.now()
		t.Channel, t.UpstreamKey = c.Channel.Name, c.Key.ID
		id, err := kind.Create(ctx, call, t)
		if err == nil {
			p.created(t, now)
			p.log.DebugContext(ctx, "upstream task created", "task", t.ID, "upstream_id", id, "channel", c.Channel.Name, "kind", kind.Name(), "key", c.Key.ID)
			return id, nil
		}
		var ce *CallError
		if !errors.As(err, &ce) {
			// Nothing was sent: the request cannot be (a *task.Error) or the
			// gateway could not build it now (its store, its blobs).
			p.router.Release(t.ID)
			t.Channel, t.UpstreamKey = "", ""
			if te := task.AsError(err); te.Code != task.CodeInternal {
				return "", te
			}
			return "", notSent(err)
		}
		outcome, coolDown := classifyCreate(ce)
		f.Failed(c, outcome, coolDown, err)
		switch outcome {
		case routing.Rejected:
			t.Channel, t.UpstreamKey = "", ""
			return "", upstreamError(err)
		case routing.Unknown:
			return "", p.unknownOutcome(ctx, t, c, kind, ce)
		default:
			t.Channel, t.UpstreamKey = "", ""
			p.log.WarnContext(ctx, "create failed on a key; failing over", "task", t.ID, "channel", c.Channel.Name, "key", c.Key.ID, "err", err)
		}
	}
}

// pinFits fails a create pinned to a key (a draft's) whose channel cannot
// carry the request: no other key may take it, so it could only wait.
func (p *Provider) pinFits(ctx context.Context, pn *routing.Pin, r *task.Request) error {
	if pn == nil {
		return nil
	}
	ch, _, ok := p.router.Lookup(pn.Channel, pn.Key)
	if !ok {
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"the draft's channel %q and key are no longer configured: a draft re-renders only on the account that made it", pn.Channel)
	}
	missing, err := p.refusal(ctx, ch, r)
	if err != nil {
		return err
	}
	if missing != "" {
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"the draft's channel %s cannot carry %s, and a draft re-renders only on the account that made it", ch.Name, missing)
	}
	return nil
}

// unknownOutcome handles a create that may have gone through. The key stays
// on the task: the upstream task may exist there. A kind that can look tasks
// up reconciles later; one that cannot never sends the create again.
func (p *Provider) unknownOutcome(ctx context.Context, t *task.Task, c *routing.Candidate, kind Kind, err *CallError) error {
	if !p.canLookup(kind) {
		p.router.Release(t.ID)
		p.log.WarnContext(ctx, "create outcome unknown and the kind cannot look tasks up; failing the task rather than creating it twice",
			"task", t.ID, "channel", c.Channel.Name, "kind", kind.Name(), "key", c.Key.ID, "err", err)
		return outcomeUnknown(c.Channel, err)
	}
	// A create that timed out may still sit in the upstream's queue and be
	// acted on later, so it counts as in flight for one more create timeout
	// before the quiet time starts.
	until := p.now()
	if errors.Is(err, context.DeadlineExceeded) {
		until = until.Add(createTimeout(c.Channel))
	}
	p.mu.Lock()
	p.attempts[t.ID] = until
	p.mu.Unlock()
	p.log.WarnContext(ctx, "create outcome unknown; will reconcile", "task", t.ID, "channel", c.Channel.Name, "key", c.Key.ID, "err", err)
	return provider.Transient(err, p.reconcileAfter)
}

// canLookup reports whether a kind finds creates whose outcome is unknown.
func (p *Provider) canLookup(k Kind) bool {
	_, ok := k.(Looker)
	return ok && p.caps[k.Name()].Lookup
}

// outcomeUnknown is the error of a task whose create may have gone through
// on a channel that cannot look it up.
func outcomeUnknown(ch *routing.Channel, err error) *task.Error {
	msg := fmt.Sprintf("the create sent to channel %s got no answer, and a %s channel cannot look up whether it created the task; "+
		"the gateway will not send it again (no second task, nothing charged): submit it again if the upstream shows no task", ch.Name, ch.Kind)
	if err != nil {
		msg += " (" + err.Error() + ")"
	}
	return &task.Error{Code: task.CodeUpstreamOutcomeUnknown, UpstreamCode: "UpstreamOutcomeUnknown", Message: msg}
}

// created notes a successful create on t: its next check and its deadline.
func (p *Provider) created(t *task.Task, now time.Time) {
	next := p.timing.Plan(t, 0, now, p.callbacks(p.kindOf(t)))
	t.NextCheckAt = &next
	// Upstreams count the window from their own created time: expire locally
	// only after it had its chance, so the upstream's outcome is what counts.
	deadline := now.Add(time.Duration(ExecutionWindow(t, now))*time.Second + 10*time.Minute)
	if deadline.After(t.ExpiresAt) {
		t.ExpiresAt = deadline
	}
	p.mu.Lock()
	delete(p.attempts, t.ID)
	p.mu.Unlock()
}

// kindOf is the kind of the channel t recorded ("" when none is configured).
func (p *Provider) kindOf(t *task.Task) string {
	if ch, _, ok := p.router.Lookup(t.Channel, t.UpstreamKey); ok {
		return ch.Kind
	}
	return ""
}

// notSent reports a failure before anything was sent upstream (the store,
// blob storage): the task stays queued in the gateway and tries again soon,
// with no dispatch left to reconcile.
func notSent(err error) error {
	return provider.Wait(5*time.Second, err.Error())
}

// classifyCreate sorts a failed create by routing's rules and says how long
// to keep off the key.
func classifyCreate(e *CallError) (routing.Outcome, time.Duration) {
	switch {
	case e.Status >= 200 && e.Status <= 299:
		return routing.Unknown, 0 // accepted, but the answer could not be read
	case e.Status != 0:
		return routing.ClassifyStatus(e.Status, e.FromUpstream, e.RetryAfter)
	case !e.Sent:
		return routing.Retry, routing.UnavailableCoolDown
	}
	return routing.Unknown, 0
}

// upstreamError turns an upstream refusal into the task's error.
func upstreamError(err error) *task.Error {
	var ce *CallError
	if errors.As(err, &ce) {
		msg := ce.Message
		if msg == "" && ce.Err != nil {
			msg = ce.Err.Error()
		}
		if msg == "" {
			msg = ce.Error()
		}
		return &task.Error{Code: task.CodeUpstream, UpstreamCode: ce.Code, Field: ce.Param, Message: msg}
	}
	if te := task.AsError(err); te.Code != task.CodeInternal {
		return te
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

// Cancel implements provider.Provider. Kinds that cannot cancel refuse with
// a conflict once the task is upstream.
func (p *Provider) Cancel(ctx context.Context, t *task.Task) error {
	defer p.router.Release(t.ID)
	if t.UpstreamID == "" {
		return nil
	}
	c, kind, err := p.owner(t)
	if err != nil {
		return task.Errorf(task.CodeUnavailable, "", "%v", err)
	}
	if !p.caps[kind.Name()].Cancel {
		return task.Errorf(task.CodeConflict, "id", "task %s runs on channel %s, whose upstream (%s) cannot cancel a task once sent", t.ID, c.Channel.Name, kind.Name())
	}
	return kind.Cancel(ctx, c, t)
}

// keyLoad reads the live tasks of a model that hold a key of this provider,
// for the router's per-key limits.
func keyLoad(st store.Store) routing.LoadFunc {
	return func(ctx context.Context, model string) ([]routing.Holder, error) {
		rows, err := st.KeyLoad(ctx, Name, model)
		if err != nil {
			return nil, err
		}
		out := make([]routing.Holder, len(rows))
		for i, r := range rows {
			out[i] = routing.Holder{TaskID: r.TaskID, Channel: r.Channel, Key: r.UpstreamKey}
		}
		return out, nil
	}
}
