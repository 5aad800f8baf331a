// Package jobs is the channel kind "jobs": an upstream that serves the
// gateway's native API (POST /v1/jobs, GET /v1/jobs/{id}, POST
// /v1/jobs/{id}/cancel) — another seedgate, or a backend in its style. It
// is the client side of package protocol/jobs, whose types the jobs dialect
// serves.
//
// Every create carries the task's marker as Idempotency-Key, so a create
// whose answer was lost is found by sending it again: the upstream answers
// the first create's job instead of making a second.
package jobs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the channel kind.
const Name = "jobs"

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
	client := kindhttp.NewClient(Name, &o, jp.DecodeError)
	return &Kind{opts: o, client: client}
}

// CallbackHandler serves the upstream's callbacks (the task on each change):
// a finished task is made due and read upstream.
func (k *Kind) CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler {
	return k.opts.Callbacks.Handler(nudge, func(body []byte) bool {
		j, err := jp.DecodeJob(body)
		return err == nil && j.Status == jp.StatusProcessing
	})
}

var (
	_ upstream.Kind       = (*Kind)(nil)
	_ upstream.Looker     = (*Kind)(nil)
	_ upstream.Callbacker = (*Kind)(nil)
)

func (k *Kind) Name() string { return Name }

// Capabilities: the native API carries every input and switch a task has,
// but web search and the 2.x output options.
func (k *Kind) Capabilities() upstream.Capabilities {
	return upstream.Capabilities{
		Modes: []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast, task.ModeReference, task.ModeDraftTask},
		Fields: []string{"last_frame", "reference_images", "reference_videos", "reference_audio", "draft_task_id",
			"resolution", "ratio", "duration", "frames", "seed", "camera_fixed", "watermark", "generate_audio",
			"return_last_frame", "draft", "service_tier", "execution_expires_after", "priority", "safety_identifier"},
		Cancel:    true,
		Lookup:    true,
		Callbacks: k.opts.Callbacks.On(),
		LastFrame: true,
		Audio:     true,
	}
}

// body builds the create request; input URLs go through c.Input.
func (k *Kind) body(ctx context.Context, c upstream.Call, t *task.Task) (*jp.CreateRequest, error) {
	r := &t.Request
	prompt := r.Prompt
	b := jp.Input{
		Prompt: &prompt, Resolution: r.Resolution, Duration: r.Duration, Ratio: r.Ratio, Frames: r.Frames,
		Seed: r.Seed, CameraFixed: r.CameraFixed, Watermark: r.Watermark, ReturnLastFrame: r.ReturnLastFrame,
		ServiceTier: r.ServiceTier, GenerateAudio: r.GenerateAudio, ExecutionExpiresAfter: r.ExecutionExpiresAfter,
		Draft: r.Draft, Priority: r.Priority, SafetyIdentifier: r.SafetyIdentifier, DraftTaskID: r.DraftTaskID,
		CallbackURL: k.opts.Callbacks.URL(t.ID), // "" without callbacks
	}
	if c.Draft != "" { // the draft's id at this upstream
		b.DraftTaskID = c.Draft
	}
	var err error
	if b.FirstFrameURL, err = c.InputURL(ctx, r.FirstFrame); err != nil {
		return nil, err
	}
	if b.LastFrameURL, err = c.InputURL(ctx, r.LastFrame); err != nil {
		return nil, err
	}
	if b.ReferenceImageURLs, err = c.InputURLs(ctx, r.ReferenceImages); err != nil {
		return nil, err
	}
	if b.ReferenceVideoURLs, err = c.InputURLs(ctx, r.ReferenceVideos); err != nil {
		return nil, err
	}
	if b.ReferenceAudioURLs, err = c.InputURLs(ctx, r.ReferenceAudio); err != nil {
		return nil, err
	}
	// Strict: the upstream refuses what it would otherwise change, so the
	// task runs as the gateway validated it or not at all.
	return &jp.CreateRequest{Model: c.Model, Input: &b, Strict: true}, nil
}

// Create sends POST /v1/jobs under the task's marker.
func (k *Kind) Create(ctx context.Context, c upstream.Call, t *task.Task) (string, error) {
	b, err := k.body(ctx, c, t)
	if err != nil {
		return "", err
	}
	return k.client.Create(ctx, c, t.ID, "/v1/jobs", b, func(data []byte) (string, error) {
		j, err := jp.DecodeJob(data)
		if err != nil {
			return "", err
		}
		return j.ID, nil
	})
}

// Lookup sends the create again under the same Idempotency-Key (kindhttp.FoundByResend).
func (k *Kind) Lookup(ctx context.Context, c upstream.Call, t *task.Task, _ time.Time) (string, bool, error) {
	return kindhttp.FoundByResend(k.Create(ctx, c, t))
}

// Check reads GET /v1/jobs/{id}.
func (k *Kind) Check(ctx context.Context, c upstream.Call, t *task.Task) (provider.Update, error) {
	status, data, err := k.client.Do(ctx, c, kindhttp.Request{Op: "get", Method: http.MethodGet, Path: "/v1/jobs/" + kindhttp.PathID(t.UpstreamID)})
	if err != nil {
		return provider.Update{}, err
	}
	j, err := jp.DecodeJob(data)
	if err != nil {
		return provider.Update{}, kindhttp.Malformed(status, err)
	}
	return update(j), nil
}

// update maps a job to what the scheduler records.
func update(j *jp.Job) provider.Update {
	switch j.Status {
	case jp.StatusProcessing:
		st := task.StatusQueued
		if j.Output.Status == string(task.StatusRunning) {
			st = task.StatusRunning
		}
		return provider.Update{Status: st, Progress: j.Progress}
	case jp.StatusSucceeded:
		v := j.Output.Videos[0]
		res := &task.Result{UpstreamVideoURL: v.URL, UpstreamFrameURL: j.Output.LastFrameURL,
			Width: v.Width, Height: v.Height, Duration: v.Duration, FPS: v.FPS, HasAudio: v.HasAudio,
			Ratio: j.Output.Ratio, Resolution: j.Output.Resolution}
		if j.Output.Seed != nil {
			res.Seed = *j.Output.Seed
		}
		if j.Finished != nil {
			at := time.Unix(*j.Finished, 0).UTC()
			res.UpstreamDoneAt = &at
		}
		u := provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: res}
		if j.Usage != nil {
			u.Usage = &task.Usage{CompletionTokens: j.Usage.CompletionTokens, TotalTokens: j.Usage.TotalTokens}
		}
		return u
	}
	st := task.Status(j.Status)
	e := &task.Error{Code: task.CodeUpstream, Message: "the upstream job " + j.Status}
	if st == task.StatusCancelled {
		e.Code, e.Message = task.CodeConflict, "cancelled upstream"
	}
	if j.Error != nil {
		e.Message, e.UpstreamCode = j.Error.Message, j.Error.UpstreamCode
		if e.UpstreamCode == "" {
			e.UpstreamCode = j.Error.Code
		}
	}
	return provider.Update{Status: st, Error: e}
}

// Cancel sends POST /v1/jobs/{id}/cancel; the upstream's 409 (running or
// finished) is a refusal.
func (k *Kind) Cancel(ctx context.Context, c upstream.Call, t *task.Task) error {
	_, _, err := k.client.Do(ctx, c, kindhttp.Request{Op: "cancel", Method: http.MethodPost, Path: "/v1/jobs/" + kindhttp.PathID(t.UpstreamID) + "/cancel"})
	return refusal(err)
}

// refusal turns an upstream's 409 into the task.Error the provider reads as
// "the upstream refuses".
func refusal(err error) error {
	ce, ok := err.(*upstream.CallError)
	if !ok || ce.Status != http.StatusConflict {
		return err
	}
	msg := strings.TrimSpace(ce.Message)
	if msg == "" {
		msg = fmt.Sprintf("the upstream refused the cancel (HTTP %d)", ce.Status)
	}
	return &task.Error{Code: task.CodeConflict, Message: msg, UpstreamCode: ce.Code}
}
