// Package openrouter is the openrouter channel kind: the client side of
// OpenRouter's video API (package protocol/openrouter), the same wire the
// gateway's openrouter dialect serves. A channel's base_url is the SDK's
// serverURL (default https://openrouter.ai/api/v1).
//
// What OpenRouter offers decides what the kind declares: jobs are created and
// polled one by one; there is no cancel, no list and no idempotency key, so a
// create whose outcome is unknown cannot be looked up (the provider fails
// the task with UpstreamOutcomeUnknown rather than create it twice); no
// callbacks (OpenRouter's webhooks go to one workspace URL, not per job in a
// form the gateway can verify); no last frame. The result's URL is
// OpenRouter's content endpoint, which needs the key: ResultHeader gives it
// to the download.
package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	orp "github.com/seedgate/seedgate/internal/protocol/openrouter"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the channel kind.
const Name = "openrouter"

// DefaultBaseURL is OpenRouter's API (the SDK's production server).
const DefaultBaseURL = "https://openrouter.ai/api/v1"

// maxAnswer bounds an answer read from OpenRouter (jobs and errors are small).
const maxAnswer = 1 << 20

// vendorPrefix is the vendor part of OpenRouter's Seedance model ids.
const vendorPrefix = "bytedance/"

// Config wires a Kind.
type Config struct {
	// HTTP calls OpenRouter (default: a client with a 60 s timeout).
	HTTP *http.Client
	Now  func() time.Time
	// Observe, when set, hears of every call: channel, key id, operation,
	// HTTP status (0: no answer) and duration.
	Observe func(channel, key, op string, status int, d time.Duration)
}

// Kind is the openrouter channel kind. It is safe for concurrent use.
type Kind struct{ c Config }

var (
	_ upstream.Kind             = (*Kind)(nil)
	_ upstream.ResultAuthorizer = (*Kind)(nil)
)

// NewKind builds the kind for the gateway (the upstream provider's registry).
func NewKind(env upstream.Env) (upstream.Kind, error) {
	return New(Config{HTTP: env.HTTP, Now: env.Now, Observe: env.Observe}), nil
}

// New returns the kind.
func New(c Config) *Kind {
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Kind{c: c}
}

// Name implements upstream.Kind.
func (k *Kind) Name() string { return Name }

// Capabilities implements upstream.Kind: what OpenRouter's create body has a
// place for (frame images, references of the three kinds, resolution,
// aspect ratio, duration, seed, audio), and nothing else.
func (k *Kind) Capabilities() upstream.Capabilities {
	return upstream.Capabilities{
		Modes: []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast, task.ModeReference},
		Fields: []string{"last_frame", "reference_images", "reference_videos", "reference_audio",
			"resolution", "ratio", "duration", "seed", "generate_audio"},
		Audio: true,
	}
}

// UpstreamModel is OpenRouter's id of a model: the channel's explicit
// upstream name when it has a vendor prefix, else the catalog's OpenRouter
// alias (bytedance/…), else the name as it is.
func UpstreamModel(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	if m, _, ok := task.LookupModel(name); ok {
		for _, a := range m.Aliases {
			if strings.HasPrefix(a, vendorPrefix) {
				return a
			}
		}
	}
	return name
}

func base(c upstream.Call) string {
	if c.Channel != nil && c.Channel.BaseURL != "" {
		return strings.TrimRight(c.Channel.BaseURL, "/")
	}
	return DefaultBaseURL
}

// Create implements upstream.Kind: POST /videos.
func (k *Kind) Create(ctx context.Context, c upstream.Call, t *task.Task) (string, error) {
	body, err := orp.Encode(ctx, UpstreamModel(c.Model), &t.Request, c.Input)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode the create: %w", err)
	}
	var v orp.Video
	if err := k.do(ctx, c, "create", http.MethodPost, base(c)+orp.VideosPath, raw, http.StatusAccepted, &v); err != nil {
		return "", err
	}
	if v.ID == "" {
		return "", &upstream.CallError{Status: http.StatusAccepted, Sent: true, Err: errors.New("the create answer has no job id")}
	}
	return v.ID, nil
}

// Check implements upstream.Kind: GET /videos/{id}.
func (k *Kind) Check(ctx context.Context, c upstream.Call, t *task.Task) (provider.Update, error) {
	var v orp.Video
	if err := k.do(ctx, c, "get", http.MethodGet, base(c)+orp.VideoPath(t.UpstreamID), nil, http.StatusOK, &v); err != nil {
		var ce *upstream.CallError
		if errors.As(err, &ce) && ce.Status == http.StatusNotFound && ce.FromUpstream {
			return provider.Update{Status: task.StatusFailed, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "NotFound",
				Message: fmt.Sprintf("OpenRouter no longer knows job %s", t.UpstreamID)}}, nil
		}
		return provider.Update{}, err
	}
	status, ok := orp.TaskStatus(v.Status)
	if !ok {
		return provider.Update{}, fmt.Errorf("OpenRouter answered job %s with status %q", t.UpstreamID, v.Status)
	}
	u := provider.Update{Status: status}
	switch status {
	case task.StatusSucceeded:
		if len(v.UnsignedURLs) == 0 {
			return provider.Update{}, fmt.Errorf("OpenRouter says job %s is completed but gives no video URL", t.UpstreamID)
		}
		now := k.c.Now()
		res := &task.Result{UpstreamVideoURL: v.UnsignedURLs[0], UpstreamDoneAt: &now, Seed: task.Or(t.Request.Seed, -1),
			Resolution: t.Request.Resolution, HasAudio: task.Or(t.Request.GenerateAudio, false), FPS: 24}
		// OpenRouter says nothing of the video's geometry: the catalog's is what was asked.
		if m, _, ok := task.LookupModel(t.Model); ok {
			if w, h, frames, ratio, err := m.Output(&t.Request, 0, 0); err == nil {
				res.Width, res.Height, res.Duration, res.Ratio = w, h, float64(frames)/24, ratio
			}
		}
		u.Result = res
	case task.StatusFailed, task.StatusCancelled, task.StatusExpired:
		msg := v.Error
		if msg == "" {
			msg = "OpenRouter reports the job " + v.Status
		}
		u.Error = &task.Error{Code: task.CodeUpstream, UpstreamCode: v.Status, Message: msg}
	}
	return u, nil
}

// Cancel implements upstream.Kind. OpenRouter has no cancel: the provider
// never asks (Capabilities.Cancel is false); this answers why if it did.
func (k *Kind) Cancel(context.Context, upstream.Call, *task.Task) error {
	return task.Errorf(task.CodeConflict, "", "OpenRouter cannot cancel a video job")
}

// ResultHeader is what a download of the job's result URL needs:
// OpenRouter's content endpoint takes the key that created the job.
func (k *Kind) ResultHeader(c upstream.Call) http.Header {
	return http.Header{"Authorization": {"Bearer " + c.Key.Secret}}
}

// do sends one call and decodes a want-status answer into out; any other
// answer is a *upstream.CallError.
func (k *Kind) do(ctx context.Context, c upstream.Call, op, method, url string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return &upstream.CallError{Err: err}
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Key.Secret)
	start := k.c.Now()
	resp, err := k.c.HTTP.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if k.c.Observe != nil && c.Channel != nil {
		k.c.Observe(c.Channel.Name, c.Key.ID, op, status, k.c.Now().Sub(start))
	}
	if err != nil {
		// No answer: a create may have reached OpenRouter all the same.
		return &upstream.CallError{Sent: !neverSent(err), Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &upstream.CallError{Status: resp.StatusCode, Sent: true, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if resp.StatusCode == want || (want == http.StatusAccepted && resp.StatusCode == http.StatusOK) {
		if err := json.Unmarshal(raw, out); err != nil {
			return &upstream.CallError{Status: resp.StatusCode, Sent: true, Err: fmt.Errorf("the answer is not a video job: %w", err)}
		}
		return nil
	}
	ce := &upstream.CallError{Status: resp.StatusCode, Sent: true}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra > 0 {
		ce.RetryAfter = time.Duration(ra) * time.Second
	}
	var e orp.ErrorEnvelope
	if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
		ce.FromUpstream, ce.Message = true, e.Error.Message
		ce.Code = strconv.Itoa(e.Error.Code)
		if p, ok := e.Error.Metadata["param"].(string); ok {
			ce.Param = p
		}
		if code, ok := e.Error.Metadata["error_code"].(string); ok {
			ce.Code = code
		}
	} else {
		ce.Err = fmt.Errorf("answered %d: %.200s", resp.StatusCode, raw)
	}
	return ce
}

// neverSent: the call failed before a connection was made, so OpenRouter
// never saw it.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
