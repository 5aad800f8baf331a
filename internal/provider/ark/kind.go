// Package ark is the ark channel kind: the client of the real Seedance
// upstreams, Volcengine Ark and BytePlus ModelArk. The upstream provider
// (package upstream) chooses the channel and key of each call, fails over
// and paces checks; this package speaks Ark.
//
// Create. The normalized request becomes the create body field by field
// (body.go). Failures are sorted for failover by their answer: 429 and 5xx
// in Ark's error envelope created nothing; a timeout after sending, a lost
// connection or a 200 that could not be read has an unknown outcome.
//
// Unknown outcomes are reconciled (reconcile.go): Lookup lists the recent
// tasks of a key and looks for the task's marker: a safety_identifier
// "sg-<task id>" sent with every create whose client set none, or else a
// seed derived from the task id when the client's seed was random, or else
// the echoed parameters (accepted only when exactly one task matches).
//
// Status checks are batched (check.go): the tasks of a key are grouped by
// service tier and read with the list endpoint's filter.task_ids, up to
// checks.batch_size ids a call. With a public gateway URL the upstream's
// callbacks wake the scheduler instead (callback.go), and checks are only a
// safety net.
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
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the kind's name in the channels file.
const Name = routing.KindArk

// CallbackPath is where the gateway takes Ark's callbacks (see callback.go).
var CallbackPath = upstream.CallbackPath(Name)

// Kind is the ark kind. It is safe for concurrent use.
type Kind struct {
	cfg          upstream.Env
	log          *slog.Logger
	inputs       upstream.Inputs
	callbackBase string
	batchSize    int
}

var (
	_ upstream.Kind         = (*Kind)(nil)
	_ upstream.Looker       = (*Kind)(nil)
	_ upstream.BatchChecker = (*Kind)(nil)
	_ upstream.Validator    = (*Kind)(nil)
	_ upstream.Callbacker   = (*Kind)(nil)
)

// NewKind is New as the gateway's registry takes it.
func NewKind(env upstream.Env) (upstream.Kind, error) { return New(env) }

// New returns the ark kind.
func New(cfg upstream.Env) (*Kind, error) {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true,
		}}
	}
	if cfg.FileURL == nil {
		cfg.FileURL = func(id string) string { return cfg.PublicURL + "/v1/files/" + id + "/content" }
	}
	cfg.Logger, cfg.Now = baseservice.Logger(cfg.Logger), baseservice.Now(cfg.Now)
	k := &Kind{cfg: cfg, log: cfg.Logger.With("kind", Name), inputs: cfg.Inputs(), callbackBase: cfg.CallbackBase(Name),
		batchSize: maxPageSize}
	if k.callbackBase != "" && len(cfg.CallbackSecret) < 16 {
		return nil, errors.New("ark: callbacks need a secret of at least 16 bytes")
	}
	if cfg.Settings != nil {
		k.batchSize = cmp.Or(cfg.Settings.Checks.BatchSize, maxPageSize)
	}
	return k, nil
}

// Name implements upstream.Kind.
func (k *Kind) Name() string { return Name }

// Capabilities implements upstream.Kind: Ark carries every field the gateway
// knows, cancels queued tasks, lists tasks (lookup, batches) and calls
// back when the gateway is public.
func (k *Kind) Capabilities() upstream.Capabilities {
	return upstream.Capabilities{
		Modes: []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast, task.ModeReference, task.ModeEdit, task.ModeExtend, task.ModeDraftTask},
		Fields: []string{"resolution", "ratio", "duration", "frames", "seed", "camera_fixed", "watermark", "generate_audio",
			"return_last_frame", "draft", "draft_task_id", "service_tier", "execution_expires_after", "priority",
			"safety_identifier", "web_search", "reference_images", "reference_videos", "reference_audio", "last_frame",
			"output_format", "omni_reference_task_type"},
		Cancel:     true,
		Lookup:     true,
		Callbacks:  k.callbacks(),
		BatchCheck: true,
		LastFrame:  true,
		Audio:      true,
	}
}

func (k *Kind) now() time.Time { return k.cfg.Now() }

func (k *Kind) callbacks() bool { return k.callbackBase != "" }

// client is the client of a call's channel.
func (k *Kind) client(ch *routing.Channel) *client {
	timeout := ch.Timeout
	if timeout <= 0 {
		timeout = upstream.DefaultCreateTimeout
	}
	return &client{http: k.cfg.HTTP, base: ch.BaseURL, createTimeout: timeout, userAgent: "seedgate",
		channel: ch.Name, observe: k.cfg.Observe}
}

// Create implements upstream.Kind.
func (k *Kind) Create(ctx context.Context, c upstream.Call, t *task.Task) (string, error) {
	req := &t.Request
	if k.cfg.Assets != nil {
		var err error
		if req, err = k.cfg.Assets.Request(ctx, c.Channel, req); err != nil {
			return "", err // nothing sent: a *task.Error fails the task, other errors wait
		}
	}
	content, err := k.content(ctx, req, c.Draft)
	if err != nil {
		return "", err
	}
	body, err := k.createBody(t, c.Model, content, k.now())
	if err != nil {
		return "", err
	}
	id, err := k.client(c.Channel).create(ctx, c.Key, body)
	if err != nil {
		return "", callError(err)
	}
	return id, nil
}

// callError describes a failed call in the terms of failover.
func callError(err error) error {
	var ae *APIError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		return &upstream.CallError{Status: ae.Status, Sent: true, FromUpstream: ae.Code != "", Code: ae.Code, Param: ae.Param,
			Message: ae.Message, RetryAfter: ae.RetryAfter, Err: err}
	case errors.As(err, &te):
		return &upstream.CallError{Sent: te.Sent, Err: err}
	}
	return &upstream.CallError{Sent: true, Err: err}
}

// Cancel implements upstream.Kind. Only a task still queued upstream can be
// cancelled; it is read first, because DELETE of a finished task would
// delete its record (and its result) upstream.
func (k *Kind) Cancel(ctx context.Context, c upstream.Call, t *task.Task) error {
	cl := k.client(c.Channel)
	up, err := cl.get(ctx, c.Key, t.UpstreamID)
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
	err = cl.delete(ctx, c.Key, t.UpstreamID)
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
