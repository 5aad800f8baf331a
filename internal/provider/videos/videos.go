// Package videos is the channel kind "videos": an upstream that speaks the
// xcompute dialect (POST /v1/videos/generations, GET
// /v1/videos/generations/{task_id}). It is the client side of package
// protocol/videos, whose types the videos dialect serves.
//
// The dialect has top-level fields and first/last frame images only: no
// reference media, no last-frame output, no cancel. Every create carries the
// task's marker as Idempotency-Key, so a create whose answer was lost is
// found by sending it again.
package videos

import (
	"context"
	"net/http"
	"strings"
	"time"

	vp "github.com/seedgate/seedgate/internal/protocol/videos"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the channel kind.
const Name = "videos"

// Options configure the kind.
type Options = kindhttp.Options

// Kind implements upstream.Kind and upstream.Looker, and takes the
// upstream's callbacks (CallbackHandler).
type Kind struct {
	opts   Options
	client kindhttp.Client
}

// New returns the kind.
func New(o Options) *Kind {
	client := kindhttp.NewClient(Name, &o, vp.DecodeError)
	return &Kind{opts: o, client: client}
}

// CallbackHandler serves the upstream's callbacks (the task on each change):
// a finished task is made due and read upstream.
func (k *Kind) CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler {
	return k.opts.Callbacks.Handler(nudge, func(body []byte) bool {
		s, err := vp.DecodeStatus(body)
		if err != nil {
			return false
		}
		st, _ := s.TaskStatus()
		return !st.Terminal()
	})
}

var (
	_ upstream.Kind       = (*Kind)(nil)
	_ upstream.Looker     = (*Kind)(nil)
	_ upstream.Callbacker = (*Kind)(nil)
	_ upstream.Validator  = (*Kind)(nil)
)

func (k *Kind) Name() string { return Name }

// Capabilities are the seed's fields: text and first (+ last) frame, with
// duration, aspect ratio, resolution, seed, audio, camera and watermark.
func (k *Kind) Capabilities() upstream.Capabilities {
	return upstream.Capabilities{
		Modes:     []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast},
		Fields:    []string{"last_frame", "resolution", "ratio", "duration", "seed", "camera_fixed", "watermark", "generate_audio"},
		Lookup:    true,
		Callbacks: k.opts.Callbacks.On(),
		Audio:     true,
	}
}

func (k *Kind) body(ctx context.Context, c upstream.Call, t *task.Task) (*vp.CreateBody, error) {
	r := &t.Request
	model, prompt := c.Model, r.Prompt
	b := &vp.CreateBody{
		Model: &model, Prompt: &prompt, Duration: r.Duration, AspectRatio: r.Ratio, Resolution: r.Resolution,
		Seed: r.Seed, CameraFixed: r.CameraFixed, Watermark: r.Watermark, CallbackURL: k.opts.Callbacks.URL(t.ID),
		// Always said: the dialect's default (false) is not the model's.
		Audio: task.Bool(task.Or(r.GenerateAudio, false)),
	}
	for _, f := range []struct{ url, role string }{{r.FirstFrame, "first_frame"}, {r.LastFrame, "last_frame"}} {
		if f.url == "" {
			continue
		}
		u, err := c.InputURL(ctx, f.url)
		if err != nil {
			return nil, err
		}
		b.ImageWithRoles = append(b.ImageWithRoles, vp.RoleImage{URL: u, Role: f.role})
	}
	return b, nil
}

// Create sends POST /v1/videos/generations under the task's marker.
func (k *Kind) Create(ctx context.Context, c upstream.Call, t *task.Task) (string, error) {
	b, err := k.body(ctx, c, t)
	if err != nil {
		return "", err
	}
	return k.client.Create(ctx, c, t.ID, "/v1/videos/generations", b, vp.DecodeCreated)
}

// Lookup sends the create again under the same Idempotency-Key (kindhttp.FoundByResend).
func (k *Kind) Lookup(ctx context.Context, c upstream.Call, t *task.Task, _ time.Time) (string, bool, error) {
	return kindhttp.FoundByResend(k.Create(ctx, c, t))
}

// Check reads GET /v1/videos/generations/{task_id}.
func (k *Kind) Check(ctx context.Context, c upstream.Call, t *task.Task) (provider.Update, error) {
	status, data, err := k.client.Do(ctx, c, kindhttp.Request{Op: "get", Method: http.MethodGet,
		Path: "/v1/videos/generations/" + kindhttp.PathID(t.UpstreamID)})
	if err != nil {
		return provider.Update{}, err
	}
	s, err := vp.DecodeStatus(data)
	if err != nil {
		return provider.Update{}, kindhttp.Malformed(status, err)
	}
	return update(s), nil
}

func update(s *vp.TaskStatus) provider.Update {
	st, _ := s.TaskStatus()
	switch st {
	case task.StatusQueued, task.StatusRunning:
		return provider.Update{Status: st, Progress: s.Progress}
	case task.StatusSucceeded:
		res := &task.Result{UpstreamVideoURL: s.VideoURL, UpstreamFrameURL: s.LastFrameURL, Width: s.Width, Height: s.Height,
			HasAudio: s.Audio, Ratio: s.AspectRatio, Resolution: s.Resolution}
		if s.Duration != nil {
			res.Duration = float64(*s.Duration)
		}
		if s.Seed != nil {
			res.Seed = *s.Seed
		}
		if s.FinishedAt != nil {
			at := time.Unix(*s.FinishedAt, 0).UTC()
			res.UpstreamDoneAt = &at
		}
		u := provider.Update{Status: st, Progress: 100, Result: res}
		if s.Usage != nil {
			u.Usage = &task.Usage{CompletionTokens: s.Usage.CompletionTokens, TotalTokens: s.Usage.TotalTokens}
		}
		return u
	}
	e := &task.Error{Code: task.CodeUpstream, Message: "the upstream task " + s.Status}
	if st == task.StatusCancelled {
		e.Code, e.Message = task.CodeConflict, "cancelled upstream"
	}
	if s.Error != nil {
		e.Message, e.UpstreamCode = s.Error.Message, s.Error.Code
	}
	return provider.Update{Status: st, Error: e}
}

// Validate refuses what the dialect cannot take though every field is in
// Capabilities: it requires a prompt, even with images.
func (k *Kind) Validate(_ context.Context, _ *routing.Channel, r *task.Request) error {
	if strings.TrimSpace(r.Prompt) == "" {
		return task.Errorf(task.CodeMissingParameter, "prompt", "prompt is required on a videos channel, even with images")
	}
	return nil
}

// Cancel is never asked (Capabilities.Cancel is false): the dialect has no
// cancel call.
func (k *Kind) Cancel(context.Context, upstream.Call, *task.Task) error {
	return &task.Error{Code: task.CodeConflict, Message: "a videos channel cannot cancel its tasks"}
}
