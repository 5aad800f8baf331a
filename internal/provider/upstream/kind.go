// Package upstream is the provider that runs tasks on upstream channels of
// every kind: the official Ark API, resellers that speak one of the dialects
// seedgate itself serves, OpenAI Videos-compatible servers and OpenRouter.
//
// A channel names its kind (routing.Channel.Kind). Each kind is the client
// side of one protocol package and implements Kind; the provider owns what is
// common to all of them: choosing a channel and key (package routing),
// failing over, reconciling creates whose outcome is unknown, pacing status
// checks and releasing load.
package upstream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Kind is the client side of one upstream protocol. Implementations are safe
// for concurrent use and hold no routing state: every call names the channel
// and key to use.
type Kind interface {
	// Name is the channel kind it serves ("ark", "jobs", "openrouter", …).
	Name() string
	// Capabilities says what a channel of this kind can carry.
	Capabilities() Capabilities
	// Create sends a create and returns the upstream's task id. A failure is a
	// *CallError (the provider classifies it for failover) or a *task.Error
	// (the request can never be sent: the task fails).
	Create(ctx context.Context, c Call, t *task.Task) (upstreamID string, err error)
	// Check reads the task's state upstream (t.UpstreamID is set). The
	// provider fills what the kind leaves at zero: when to look again (by
	// the expected finish time), a running task's progress. A succeeded
	// update gives the result at upstream URLs (Result.UpstreamVideoURL…),
	// mirrored by the scheduler, and RunTime when the upstream says.
	// Errors are retried, but for a *task.Error.
	Check(ctx context.Context, c Call, t *task.Task) (provider.Update, error)
	// Cancel stops a task still queued upstream. A *task.Error with
	// CodeConflict means the upstream refuses (already running, finished).
	// Kinds without Capabilities.Cancel are never asked.
	Cancel(ctx context.Context, c Call, t *task.Task) error
}

// Call is one call's channel, key and what the kind needs to build the body.
type Call struct {
	Channel *routing.Channel
	Key     *routing.Key
	// Model is the upstream's model id for the task (Channel.UpstreamModel).
	Model string
	// Draft, on a create whose draft_task_id names a gateway task, is that
	// draft's upstream id (send it instead); the create is pinned to the
	// draft's channel and key. "" sends draft_task_id as given.
	Draft string
	// Input turns an input URL of the request into what the upstream can
	// read: a gateway file URL becomes its signed public URL when the gateway
	// is reachable from the internet, else the file inline as a base64 data:
	// URL (content type sniffed); any other URL (http(s), data:) is returned
	// as given. Errors are a *task.Error (the file is gone: the task fails)
	// or storage trouble (any other error: the create waits and is retried).
	// Kinds needing more control use Inputs.URL.
	Input func(ctx context.Context, url string) (string, error)
}

// InputURL is Input for one URL of the request: "" stays "", and without an
// Input function the URL goes as it is.
func (c Call) InputURL(ctx context.Context, url string) (string, error) {
	if url == "" || c.Input == nil {
		return url, nil
	}
	return c.Input(ctx, url)
}

// InputURLs is InputURL for each of urls (nil for none).
func (c Call) InputURLs(ctx context.Context, urls []string) ([]string, error) {
	var out []string
	for _, u := range urls {
		v, err := c.InputURL(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Looker is a kind that can find a task whose create outcome is unknown (a
// list by time or marker, or an idempotency key the upstream honours); it
// declares Capabilities.Lookup. found=false with a nil error means the key
// certainly has no such task (yet: the provider waits for the upstream to be
// quiet before creating again); found=true means this is the task, and the
// search stops. A *task.Error fails the task (several tasks match and none
// can be told apart); other errors are retried. since is the dispatch intent
// minus ReconcileSkew.
type Looker interface {
	Lookup(ctx context.Context, c Call, t *task.Task, since time.Time) (upstreamID string, found bool, err error)
}

// BatchChecker is a kind that reads many tasks of one key in few calls; it
// declares Capabilities.BatchCheck. The map is keyed by gateway task id.
// Tasks missing from the map are checked one by one.
type BatchChecker interface {
	CheckBatch(ctx context.Context, c Call, ts []*task.Task) (map[string]provider.Update, error)
}

// CallError is a failed call to an upstream, in the terms failover needs.
type CallError struct {
	// Status is the HTTP status; 0 when no answer was read.
	Status int
	// Sent: the request may have reached the upstream. A call without an
	// answer that was sent has an unknown outcome.
	Sent bool
	// FromUpstream: the answer is in the upstream's own error shape (not a
	// proxy's page), so its status can be trusted.
	FromUpstream bool
	// Code, Param and Message are the upstream's error, mapped to the task's
	// error when the request is refused.
	Code, Param, Message string
	RetryAfter           time.Duration
	Err                  error
}

func (e *CallError) Error() string {
	switch {
	case e.Status == 0 && e.Err != nil:
		return e.Err.Error()
	case e.Message != "":
		return fmt.Sprintf("upstream %d %s: %s", e.Status, e.Code, e.Message)
	case e.Err != nil:
		return fmt.Sprintf("upstream %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("upstream answered %d", e.Status)
}

func (e *CallError) Unwrap() error { return e.Err }

// Capabilities is what a kind can carry. Routing never sends a request to a
// channel whose kind lacks something the request needs.
type Capabilities struct {
	// Modes are the input modes the kind can express.
	Modes []task.InputMode
	// Fields are the optional request fields it can send, by their task.Request
	// JSON names (resolution, ratio, duration, frames, seed, camera_fixed,
	// watermark, generate_audio, return_last_frame, draft, draft_task_id,
	// service_tier, execution_expires_after, priority, safety_identifier,
	// web_search, output_format, omni_reference_task_type, reference_images,
	// reference_videos, reference_audio, last_frame).
	Fields []string
	// Cancel: a queued upstream task can be cancelled.
	Cancel bool
	// Lookup: a create with an unknown outcome can be found (Looker).
	Lookup bool
	// Callbacks: the upstream calls back when a task changes.
	Callbacks bool
	// BatchCheck: many tasks are read in one call (BatchChecker).
	BatchCheck bool
	// LastFrame: the result can include the video's last frame.
	LastFrame bool
	// Audio: the result can carry a generated soundtrack.
	Audio bool
}

// Missing names the first thing r needs that the kind cannot carry ("" when
// it can carry all of it): a request field's JSON name, or "mode <name>".
// Fields left at their defaults are not needed.
func (c Capabilities) Missing(r *task.Request) string {
	if mode := task.InputModeOf(r); mode != task.ModeText && !slices.Contains(c.Modes, mode) {
		return "mode " + string(mode)
	}
	for _, f := range requestFields(r) {
		if !slices.Contains(c.Fields, f) {
			return f
		}
	}
	if r.ReturnLastFrame != nil && *r.ReturnLastFrame && !c.LastFrame {
		return "return_last_frame"
	}
	return ""
}

// requestFields lists the optional fields r sets, by JSON name, in a fixed order.
func requestFields(r *task.Request) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(r.LastFrame != "", "last_frame")
	add(len(r.ReferenceImages) > 0, "reference_images")
	add(len(r.ReferenceVideos) > 0, "reference_videos")
	add(len(r.ReferenceAudio) > 0, "reference_audio")
	add(r.DraftTaskID != "", "draft_task_id")
	add(r.Resolution != "", "resolution")
	add(r.Ratio != "", "ratio")
	add(r.Duration != nil, "duration")
	add(r.Frames != nil, "frames")
	add(r.Seed != nil && *r.Seed != -1, "seed")
	add(r.CameraFixed != nil && *r.CameraFixed, "camera_fixed")
	add(r.Watermark != nil && *r.Watermark, "watermark")
	add(r.GenerateAudio != nil && *r.GenerateAudio, "generate_audio")
	add(r.Draft != nil && *r.Draft, "draft")
	add(r.ServiceTier != "" && r.ServiceTier != task.TierDefault, "service_tier")
	add(r.Priority != nil, "priority")
	add(r.SafetyIdentifier != "", "safety_identifier")
	add(r.WebSearch, "web_search")
	add(r.OutputFormat != "" && !strings.EqualFold(r.OutputFormat, "mp4"), "output_format")
	add(r.ReferenceTaskType != "" && r.ReferenceTaskType != "auto", "omni_reference_task_type")
	return out
}
