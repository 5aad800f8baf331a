// Package service is the one task service every client dialect calls: create
// (resolve the model, apply inline parameters, validate, store), read, list,
// cancel, wait, and files. Dialects translate wire formats; the rules live here.
package service

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/budget"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
)

// Service is safe for concurrent use.
type Service struct {
	store     store.Store
	blobs     blob.Store
	media     *media.Resolver
	hub       *events.Hub
	providers map[string]provider.Provider
	// route picks the provider for a new task's model.
	route  func(m *task.Model) string
	urls   *URLSigner
	now    func() time.Time
	log    *slog.Logger
	wakeUp func() // tells the scheduler there is new work
	// urlPolicy judges user-supplied URLs at submit (safehttp.CheckURL).
	urlPolicy safehttp.Options
	// prices rates tasks for their charge (nil: balances in tokens).
	prices *budget.Prices
	// webhooks serves deliveries and secrets (nil: unavailable).
	webhooks Webhooks
	// waitPoll is how often Wait re-reads the store besides the hub's wake-ups.
	waitPoll time.Duration
	// storageQuota is the tenants' default storage quota in bytes (0: none);
	// retention is how long results are kept (0: for ever); wakeSweeper has
	// the trash of a deleted task emptied now.
	storageQuota int64
	retention    time.Duration
	wakeSweeper  func()
	// fetch reads the URLs assets are made from (safehttp); forgetAssets
	// deletes a deleted asset's upstream copies (nil: none are made).
	fetch        *http.Client
	forgetAssets func(ctx context.Context, mirrors []*store.AssetMirror)

	MaxUploadBytes int64
}

// Config wires a Service.
type Config struct {
	Store     store.Store
	Blobs     blob.Store
	Media     *media.Resolver
	Hub       *events.Hub
	Providers map[string]provider.Provider
	// Route returns the provider name for a model; nil = always "sandbox".
	Route          func(m *task.Model) string
	URLs           *URLSigner
	Now            func() time.Time
	Logger         *slog.Logger
	WakeScheduler  func()
	MaxUploadBytes int64
	// AllowPrivate opens private networks to user-supplied URLs (SEEDGATE_ALLOW_PRIVATE_URLS).
	AllowPrivate []netip.Prefix
	// Prices is the price table (SEEDGATE_PRICES_FILE); nil keeps balances in tokens.
	Prices *budget.Prices
	// WaitPoll is how often a waiter re-reads the store besides the hub's
	// wake-ups, for changes made by another instance (default 2 s).
	WaitPoll time.Duration
	// StorageQuota is the bytes of files a tenant may keep unless its record
	// says otherwise (SEEDGATE_STORAGE_QUOTA; 0: no quota).
	StorageQuota int64
	// ResultRetention is SEEDGATE_RESULT_RETENTION (0: results are kept), for messages.
	ResultRetention time.Duration
	// WakeSweeper has the Sweeper empty the trash now (a task was deleted).
	WakeSweeper func()
	// ForgetAssets deletes the upstream copies of a deleted asset (assetmirror.Mirror.Forget).
	ForgetAssets func(ctx context.Context, mirrors []*store.AssetMirror)
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{
		store: c.Store, blobs: c.Blobs, media: c.Media, hub: c.Hub, providers: c.Providers,
		route: c.Route, urls: c.URLs, now: c.Now, log: c.Logger, wakeUp: c.WakeScheduler,
		MaxUploadBytes: c.MaxUploadBytes, urlPolicy: safehttp.Options{AllowPrivate: c.AllowPrivate},
		prices: c.Prices, waitPoll: c.WaitPoll,
		storageQuota: c.StorageQuota, retention: c.ResultRetention, wakeSweeper: c.WakeSweeper,
		fetch: safehttp.New(safehttp.Options{AllowPrivate: c.AllowPrivate}), forgetAssets: c.ForgetAssets,
	}
	if s.waitPoll <= 0 {
		s.waitPoll = 2 * time.Second
	}
	if s.route == nil {
		s.route = func(*task.Model) string { return "sandbox" }
	}
	s.now, s.log = baseservice.Now(s.now), baseservice.Logger(s.log)
	if s.wakeUp == nil {
		s.wakeUp = func() {}
	}
	if s.wakeSweeper == nil {
		s.wakeSweeper = func() {}
	}
	if s.hub == nil {
		s.hub = events.NewHub()
	}
	if s.MaxUploadBytes == 0 {
		s.MaxUploadBytes = 200 << 20
	}
	return s
}

// Hub is where task changes are published.
func (s *Service) Hub() *events.Hub { return s.hub }

// CreateInput is a decoded create call of any dialect.
type CreateInput struct {
	Tenant  string
	Dialect string
	Model   string // the name the client used
	Request task.Request
	// ID, when set, is used instead of a fresh one (tests, imports).
	ID string
	// Relax drops or clamps what the model cannot take instead of rejecting it
	// (Model.Relax); the notes land in Request.Warnings.
	Relax bool
}

// Create validates and stores a new task. It returns a *task.Error naming the
// field for anything the upstream would reject; nothing is stored then.
func (s *Service) Create(ctx context.Context, in CreateInput) (_ *task.Task, err error) {
	m, impliedRes, ok := task.LookupModel(in.Model)
	if in.Model == "" {
		return nil, task.Errorf(task.CodeMissingParameter, "model", "model is required; known models: %s", strings.Join(task.ModelNames(), ", "))
	}
	if !ok {
		return nil, task.Errorf(task.CodeUnknownModel, "model", "unknown model %q; known models: %s", in.Model, strings.Join(task.ModelNames(), ", "))
	}
	req := in.Request
	if p, ok := auth.FromContext(ctx); ok && req.KeyID == "" {
		req.KeyID = p.KeyID // its webhooks are signed with this key's secret
	}
	if req.Resolution == "" && impliedRes != "" {
		req.Resolution = impliedRes
	}
	clean, inline := task.ParseInline(req.Prompt)
	req.Prompt = clean
	m.ApplyInline(&req, inline)
	if in.Relax {
		req.Warnings = append(req.Warnings, m.Relax(&req)...)
	}
	if err := m.Normalize(&req); err != nil {
		return nil, err
	}
	if err := s.checkDraft(ctx, in.Tenant, m, req.DraftTaskID); err != nil {
		return nil, err
	}
	files, err := s.storeDataURLs(ctx, in.Tenant, &req)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.discardFiles(ctx, files)
		}
	}()
	if err := s.checkInputs(ctx, in.Tenant, &req); err != nil {
		return nil, err
	}
	req.InputVideoSeconds = m.InputVideoSeconds(s.videoSeconds(ctx, req.ReferenceVideos))

	now := s.now().UTC().Truncate(time.Millisecond)
	id := in.ID
	if id == "" {
		id = NewTaskID(now)
	}
	t := &task.Task{
		ID:          id,
		Tenant:      in.Tenant,
		Dialect:     in.Dialect,
		Model:       m.ID,
		ModelAlias:  in.Model,
		Status:      task.StatusQueued,
		Request:     req,
		Provider:    s.route(m),
		CreatedAt:   now,
		UpdatedAt:   now,
		ExpiresAt:   now.Add(time.Duration(req.ExpiresAfter()) * time.Second),
		NextCheckAt: &now,
		TraceParent: tracing.Parent(ctx), // its steps join the request's trace
	}
	p, ok := s.providers[t.Provider]
	if !ok {
		return nil, task.Errorf(task.CodeUnavailable, "model", "no provider is configured for %s", m.Name)
	}
	if v, ok := p.(provider.Validator); ok {
		if err := v.Validate(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := s.checkResultStorage(ctx, in.Tenant); err != nil {
		return nil, err
	}
	if err := s.admit(ctx, t, m); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, task.Errorf(task.CodeConflict, "id", "task %s exists already", id)
		}
		if task.ErrorCode(err) != "" {
			return nil, err
		}
		return nil, fmt.Errorf("create task: %w", err)
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(tracing.TaskIDKey.String(t.ID))
	}
	s.log.InfoContext(ctx, "task created", "task", t.ID, "model", t.Model, "dialect", t.Dialect, "provider", t.Provider)
	s.hub.Publish(t)
	s.wakeUp()
	return s.present(t), nil
}

// admit stores the new task t together with its charge (the estimate reserved
// from the tenant's balance), within the key's in-flight limit, in one store
// transaction (store.AccountStore.AdmitTask).
func (s *Service) admit(ctx context.Context, t *task.Task, m *task.Model) error {
	c, err := s.prices.NewCharge(t, m)
	if err != nil {
		return err
	}
	p, _ := auth.FromContext(ctx)
	err = s.store.AdmitTask(ctx, t, c, p.MaxInFlight)
	var fe *store.InFlightError
	var be *store.BalanceError
	switch {
	case errors.As(err, &fe):
		e := task.Errorf(task.CodeRateLimited, "", "this API key has %d tasks in flight, its limit: wait for one to finish", fe.Limit)
		e.RetryAfter = 10
		return e
	case errors.As(err, &be):
		return task.Errorf(task.CodePaymentRequired, "", "insufficient balance: the task is estimated at %d %s (%d tokens) and the balance is %d %s; ask for a top-up",
			be.Needed, c.Unit, c.EstimateTokens, be.Balance, c.Unit)
	}
	return err
}

// checkInputs rejects at submit what the gateway can tell is wrong now: gateway
// files that are missing or of the wrong kind, data: URLs that are not images of
// an acceptable size, and URLs of schemes no provider can read. http(s) URLs are
// fetched later by the provider (and fail the task clearly if unreadable).
func (s *Service) checkInputs(ctx context.Context, tenant string, r *task.Request) error {
	images := []struct {
		field string
		url   string
	}{{"first_frame", r.FirstFrame}, {"last_frame", r.LastFrame}}
	for i, u := range r.ReferenceImages {
		images = append(images, struct {
			field string
			url   string
		}{fmt.Sprintf("reference_images[%d]", i), u})
	}
	for _, im := range images {
		if im.url == "" {
			continue
		}
		if strings.HasPrefix(im.url, AssetScheme) {
			if err := s.checkAsset(ctx, tenant, im.field, "image", im.url); err != nil {
				return err
			}
			continue // checked as an image when it was stored
		}
		if err := s.checkURL(im.field, im.url); err != nil {
			return err
		}
		// Probe now what needs no network: uploaded files and data: URLs.
		if _, isFile := s.media.FileID(im.url); !isFile && !strings.HasPrefix(im.url, "data:") {
			continue
		}
		info, err := s.media.ProbeImage(ctx, im.url)
		if err != nil {
			return withField(err, im.field)
		}
		if err := task.ValidateImageGeometry(im.field, info.Width, info.Height); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		field, kind string
		urls        []string
	}{
		{"reference_videos", "video", r.ReferenceVideos}, {"reference_audio", "audio", r.ReferenceAudio},
	} {
		for i, u := range l.urls {
			field := fmt.Sprintf("%s[%d]", l.field, i)
			err := s.checkURL(field, u)
			if strings.HasPrefix(u, AssetScheme) {
				err = s.checkAsset(ctx, tenant, field, l.kind, u)
			}
			if err != nil {
				return err
			}
		}
	}
	if r.CallbackURL != "" {
		if !strings.HasPrefix(r.CallbackURL, "http://") && !strings.HasPrefix(r.CallbackURL, "https://") {
			return task.Errorf(task.CodeInvalidParameter, "callback_url", "callback_url must be an http(s) URL")
		}
		if err := s.checkRemote("callback_url", r.CallbackURL); err != nil {
			return err
		}
	}
	return nil
}

// videoSeconds is the measured length of each input video: a gateway file's
// recorded duration, 0 where the gateway has none (a remote URL, a file
// stored without one), which the model's billing rule then estimates.
func (s *Service) videoSeconds(ctx context.Context, urls []string) []float64 {
	out := make([]float64, len(urls))
	for i, u := range urls {
		if s.media == nil {
			break
		}
		id, ok := s.media.FileID(u)
		if !ok {
			continue
		}
		if f, err := s.store.GetFile(ctx, id); err == nil {
			out[i] = f.Duration
		}
	}
	return out
}

func (s *Service) checkURL(field, u string) error {
	switch {
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return s.checkInput(field, u)
	case strings.HasPrefix(u, "data:"), strings.HasPrefix(u, "asset://"):
		return nil
	}
	return task.Errorf(task.CodeInvalidParameter, field, "%s must be an http(s) URL, a data: URL, the URL of a file uploaded to /v1/files/upload, or asset://<id> of /v1/assets", field)
}

func withField(err error, field string) error {
	var te *task.Error
	if errors.As(err, &te) {
		c := *te
		if c.Field == "" {
			c.Field = field
		}
		if c.Code == task.CodeInternal || c.Code == "" {
			c.Code = task.CodeInvalidParameter
		}
		return &c
	}
	return task.Errorf(task.CodeInvalidParameter, field, "%s: %v", field, err)
}

// Get returns the task if the caller's tenant owns it. Another tenant's task is
// not_found exactly like a missing one.
func (s *Service) Get(ctx context.Context, tenant, id string) (*task.Task, error) {
	t, err := s.store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Tenant != tenant) {
		return nil, task.Errorf(task.CodeNotFound, "id", "task %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get task: %w", err)
	}
	return s.present(t), nil
}

// Cancel stops a task that has not started running. A running or finished task
// answers a conflict error that says why.
func (s *Service) Cancel(ctx context.Context, tenant, id string) (*task.Task, error) {
	for attempt := 0; ; attempt++ {
		t, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		switch {
		case t.Status.Terminal():
			return nil, task.Errorf(task.CodeConflict, "id", "task %s is %s and cannot be cancelled", id, t.Status)
		case t.Status == task.StatusRunning:
			return nil, task.Errorf(task.CodeConflict, "id", "task %s is running and cannot be cancelled", id)
		}
		if t.UpstreamID != "" {
			p := s.providers[t.Provider]
			if p == nil {
				return nil, fmt.Errorf("cancel: unknown provider %q", t.Provider)
			}
			if err := p.Cancel(ctx, t); err != nil {
				return nil, err
			}
		}
		// A task dispatched without a known upstream id is cancelled here; the
		// scheduler, on learning the id, sees the cancel and cancels upstream.
		now := s.now().UTC().Truncate(time.Millisecond)
		t.Status = task.StatusCancelled
		t.UpdatedAt, t.FinishedAt, t.NextCheckAt = now, &now, nil
		t.Error = &task.Error{Code: task.CodeConflict, Message: "cancelled by the client"}
		err = s.store.UpdateTask(ctx, t)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue // the scheduler moved it meanwhile: look again
		}
		if err != nil {
			return nil, fmt.Errorf("cancel: %w", err)
		}
		s.hub.Publish(t)
		return s.present(t), nil
	}
}

// Delete removes a finished task (a dialect's DELETE of a terminal task) with
// its results and the uploads it alone used (store.TaskStore.DeleteTask): their
// URLs answer not found at once, and the sweeper deletes their blobs.
func (s *Service) Delete(ctx context.Context, tenant, id string) error {
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		return err
	}
	if !t.Status.Terminal() {
		return task.Errorf(task.CodeConflict, "id", "task %s is %s; only finished tasks can be deleted", id, t.Status)
	}
	if err := s.store.DeleteTask(ctx, id, s.inputFiles(&t.Request)...); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete task: %w", err)
	}
	s.wakeSweeper()
	return nil
}

// Wait returns the task once it is terminal or the timeout passes, whichever is
// first (the caller answers with whatever state the task has then).
func (s *Service) Wait(ctx context.Context, tenant, id string, timeout time.Duration) (*task.Task, error) {
	ch, stop := s.hub.Subscribe(id)
	defer stop()
	t, err := s.Get(ctx, tenant, id)
	if err != nil || t.Status.Terminal() || timeout <= 0 {
		return t, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// Re-read from the store now and then too: another instance may move the task.
	tick := time.NewTicker(s.waitPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return t, nil
		case <-timer.C:
			return s.Get(ctx, tenant, id)
		case <-ch:
		case <-tick.C:
		}
		if t, err = s.Get(ctx, tenant, id); err != nil || t.Status.Terminal() {
			return t, err
		}
	}
}

// present fills the derived fields clients see: result URLs come from file ids,
// so they follow SEEDGATE_PUBLIC_URL and never expire.
func (s *Service) present(t *task.Task) *task.Task {
	if !t.Status.Terminal() {
		c := *t
		c.Progress = task.EstimateProgress(t, s.now()) // elapsed vs expected, never past 99
		// A result still being copied (the scheduler's mirror step) is not the client's yet.
		c.Result = nil
		t = &c
	}
	if t.Result == nil {
		return t
	}
	c := *t
	r := *t.Result
	if r.VideoFileID != "" {
		r.VideoURL = s.urls.FileURL(r.VideoFileID)
	} else if r.VideoURL == "" {
		r.VideoURL = r.UpstreamVideoURL
	}
	if r.LastFrameFileID != "" {
		r.LastFrameURL = s.urls.FileURL(r.LastFrameFileID)
	} else if r.LastFrameURL == "" {
		r.LastFrameURL = r.UpstreamFrameURL
	}
	c.Result = &r
	return &c
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewTaskID returns an id in the upstream's style (cgt-<UTC time>-<random>), with
// enough randomness that thousands per second never collide.
func NewTaskID(now time.Time) string {
	return "cgt-" + now.UTC().Format("20060102150405") + "-" + randomString(10)
}

// NewFileID returns a file id.
func NewFileID() string { return "file-" + randomString(24) }

func randomString(n int) string {
	b := make([]byte, (n*5+7)/8)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return idEncoding.EncodeToString(b)[:n]
}
