// Package seedance is the channel kind "seedance": an upstream that speaks
// the xhuoapi dialect (POST /v1/seedance/videos with Ark's content[], the
// {"success","task_id","trace_id","data"} envelope, POST /v1/seedance/tasks
// to retrieve). It is the client side of package protocol/seedance, whose
// types the seedance dialect serves.
//
// A create without callback_url waits for the video, so creates name the
// gateway's callback URL (the upstream posts the envelope there when the task
// ends, which makes the task due at once) and the create answers {"task_id"}
// at once; that id names the task in every later call. A seedance channel
// therefore needs a gateway with a public URL. Tasks are
// read many at a time with {"ids":[…]}.
//
// Every create carries the task's marker as X-Client-Request-Id and
// Idempotency-Key: an upstream that files tasks under the request id (as
// seedgate does) finds a create whose answer was lost by that marker.
package seedance

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	sp "github.com/seedgate/seedgate/internal/protocol/seedance"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the channel kind.
const Name = "seedance"

// maxBatch is the retrieve call's limit of ids.
const maxBatch = 100

// Options configure the kind.
type Options = kindhttp.Options

// Kind implements upstream.Kind, upstream.Looker and upstream.BatchChecker,
// and takes the upstream's callbacks (CallbackHandler).
type Kind struct {
	opts   Options
	client kindhttp.Client
}

// New returns the kind.
func New(o Options) *Kind {
	client := kindhttp.NewClient(Name, &o, sp.DecodeError)
	return &Kind{opts: o, client: client}
}

var (
	_ upstream.Kind         = (*Kind)(nil)
	_ upstream.Looker       = (*Kind)(nil)
	_ upstream.BatchChecker = (*Kind)(nil)
	_ upstream.Callbacker   = (*Kind)(nil)
)

func (k *Kind) Name() string { return Name }

// Capabilities are the seed's: text and first (+ last) frame images, its
// top-level fields, the last frame and audio; no cancel call.
func (k *Kind) Capabilities() upstream.Capabilities {
	return upstream.Capabilities{
		Modes: []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast},
		Fields: []string{"last_frame", "resolution", "ratio", "duration", "seed", "camera_fixed", "watermark",
			"generate_audio", "return_last_frame", "service_tier", "execution_expires_after"},
		Lookup:     true,
		Callbacks:  k.callbacks(),
		BatchCheck: true,
		LastFrame:  true,
		Audio:      true,
	}
}

func (k *Kind) callbacks() bool { return k.opts.Callbacks.On() }

func (k *Kind) body(ctx context.Context, c upstream.Call, t *task.Task) (*sp.Request, error) {
	r := &t.Request
	b := &sp.Request{CameraFixed: r.CameraFixed, CreateBody: ark.CreateBody{
		Model: c.Model,
		// Without callbacks "": the create then waits for the video, as long
		// as the upstream lets it and the channel's timeout allows.
		CallbackURL:     k.opts.Callbacks.URL(t.ID),
		ReturnLastFrame: r.ReturnLastFrame, ExecutionExpiresAfter: r.ExecutionExpiresAfter, GenerateAudio: r.GenerateAudio,
		Resolution: r.Resolution, Ratio: r.Ratio, Duration: r.Duration, Seed: r.Seed, Watermark: r.Watermark,
	}}
	if r.ServiceTier != task.TierDefault {
		b.ServiceTier = r.ServiceTier // the upstream's default otherwise
	}
	if r.Prompt != "" {
		b.Content = append(b.Content, ark.ContentItem{Type: "text", Text: r.Prompt})
	}
	for _, f := range []struct{ url, role string }{{r.FirstFrame, ark.RoleFirstFrame}, {r.LastFrame, ark.RoleLastFrame}} {
		if f.url == "" {
			continue
		}
		u, err := c.InputURL(ctx, f.url)
		if err != nil {
			return nil, err
		}
		b.Content = append(b.Content, ark.ContentItem{Type: "image_url", ImageURL: &ark.URLRef{URL: u}, Role: f.role})
	}
	return b, nil
}

// Create sends POST /v1/seedance/videos under the task's marker.
func (k *Kind) Create(ctx context.Context, c upstream.Call, t *task.Task) (string, error) {
	b, err := k.body(ctx, c, t)
	if err != nil {
		return "", err
	}
	return k.client.Create(ctx, c, t.ID, "/v1/seedance/videos", b, sp.DecodeAccepted)
}

// Lookup reads the task filed under the create's marker. The upstream's own
// 404 means it has none.
func (k *Kind) Lookup(ctx context.Context, c upstream.Call, t *task.Task, _ time.Time) (string, bool, error) {
	marker := kindhttp.Marker(t.ID)
	status, data, err := k.client.Do(ctx, c, kindhttp.Request{Op: "lookup", Method: http.MethodGet, Path: "/v1/seedance/tasks/" + kindhttp.PathID(marker)})
	var ce *upstream.CallError
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound && ce.FromUpstream {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if _, err := sp.DecodeEnvelope(data); err != nil {
		return "", false, kindhttp.Malformed(status, err)
	}
	return marker, true, nil
}

// Check reads GET /v1/seedance/tasks/{id}.
func (k *Kind) Check(ctx context.Context, c upstream.Call, t *task.Task) (provider.Update, error) {
	status, data, err := k.client.Do(ctx, c, kindhttp.Request{Op: "get", Method: http.MethodGet, Path: "/v1/seedance/tasks/" + kindhttp.PathID(t.UpstreamID)})
	if err != nil {
		return provider.Update{}, err
	}
	e, err := sp.DecodeEnvelope(data)
	if err != nil {
		return provider.Update{}, kindhttp.Malformed(status, err)
	}
	return update(&e.Data), nil
}

// CheckBatch reads up to 100 tasks per POST /v1/seedance/tasks {"ids":[…]};
// the answer lists them in the order asked.
func (k *Kind) CheckBatch(ctx context.Context, c upstream.Call, ts []*task.Task) (map[string]provider.Update, error) {
	out := make(map[string]provider.Update, len(ts))
	for start := 0; start < len(ts); start += maxBatch {
		part := ts[start:min(start+maxBatch, len(ts))]
		ids := make([]string, len(part))
		for i, t := range part {
			ids[i] = t.UpstreamID
		}
		status, data, err := k.client.Do(ctx, c, kindhttp.Request{Op: "list", Method: http.MethodPost, Path: "/v1/seedance/tasks",
			Body: sp.RetrieveBody{IDs: ids}})
		if err != nil {
			return out, err
		}
		items, err := sp.DecodeList(data)
		if err != nil {
			return out, kindhttp.Malformed(status, err)
		}
		if len(items) != len(part) {
			return out, kindhttp.Malformed(status, errors.New("retrieve answered a different number of tasks than asked"))
		}
		for i, d := range items {
			if d.Status == "not_found" {
				continue // checked one by one, which says what the upstream answers
			}
			out[part[i].ID] = update(&d)
		}
	}
	return out, nil
}

func update(d *sp.Data) provider.Update {
	st, _ := d.TaskStatus()
	switch st {
	case task.StatusQueued, task.StatusRunning:
		u := provider.Update{Status: st}
		if d.Progress != nil {
			u.Progress = *d.Progress
		}
		return u
	case task.StatusSucceeded:
		return provider.Update{Status: st, Progress: 100,
			Result: &task.Result{UpstreamVideoURL: d.VideoURL, UpstreamFrameURL: d.LastFrameURL}}
	}
	e := &task.Error{Code: task.CodeUpstream, Message: d.ErrorMessage, UpstreamCode: d.ErrorCode}
	if st == task.StatusCancelled {
		e.Code = task.CodeConflict
	}
	if e.Message == "" {
		e.Message = "the upstream task " + d.Status
	}
	return provider.Update{Status: st, Error: e}
}

// Cancel is never asked (Capabilities.Cancel is false): the dialect has no
// cancel call.
func (k *Kind) Cancel(context.Context, upstream.Call, *task.Task) error {
	return &task.Error{Code: task.CodeConflict, Message: "a seedance channel cannot cancel its tasks"}
}

// CallbackHandler serves the upstream's callbacks (the envelope, posted when
// the task ends): a finished task is made due and read upstream.
func (k *Kind) CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler {
	return k.opts.Callbacks.Handler(nudge, func(body []byte) bool {
		e, err := sp.DecodeEnvelope(body)
		if err != nil {
			return false
		}
		st, _ := e.Data.TaskStatus()
		return !st.Terminal()
	})
}
