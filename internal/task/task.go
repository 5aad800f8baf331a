// Package task holds seedgate's domain: the task, its normalized request and
// result, the error type with stable codes, and the Seedance model catalog
// (limits, pixel sizes, usage tokens, legacy inline parameters).
//
// Every client dialect decodes into a Request and every provider consumes one,
// so this package depends on nothing else in the module.
package task

import "time"

// Status is a task's lifecycle state. The names are the upstream's (docs/upstream-ark.md).
type Status string

const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusQueued, StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled, StatusExpired}

// Terminal reports whether no further change can happen to a task in this status.
func (s Status) Terminal() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusCancelled, StatusExpired:
		return true
	}
	return false
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Task is one client request for a video and everything known about it.
// The store keeps it; the scheduler moves it through its statuses.
type Task struct {
	ID         string  `json:"id"`
	Tenant     string  `json:"tenant,omitempty"` // owner; "" for the open / static-key mode
	Dialect    string  `json:"dialect"`          // which client API created it (jobs, ark, videos, …)
	Model      string  `json:"model"`            // canonical catalog id (Model.ID)
	ModelAlias string  `json:"model_alias"`      // the name the client used
	Status     Status  `json:"status"`
	Request    Request `json:"request"`

	Result *Result `json:"result,omitempty"`
	Usage  *Usage  `json:"usage,omitempty"`
	Error  *Error  `json:"error,omitempty"`

	// Provider is the provider that owns the task ("sandbox", or an upstream channel's provider).
	Provider string `json:"provider,omitempty"`
	// UpstreamID is the provider's id for the task once it was created there.
	UpstreamID string `json:"upstream_id,omitempty"`
	// Channel and UpstreamKey name the upstream channel and the key within it that
	// own the upstream task: polling and cancel must use that key only. UpstreamKey
	// is the key's id, never the secret.
	Channel     string `json:"channel,omitempty"`
	UpstreamKey string `json:"upstream_key,omitempty"`
	// DispatchedAt is set (before calling the provider) when a create was attempted:
	// a task with DispatchedAt and no UpstreamID has an uncertain create to reconcile,
	// never to blindly re-send.
	DispatchedAt *time.Time `json:"dispatched_at,omitempty"`
	// Attempts counts provider calls that failed transiently for the current step.
	Attempts int `json:"attempts,omitempty"`
	// TraceParent is the W3C trace context of the request that created the
	// task ("" untraced): its background steps are spans of that trace.
	TraceParent string `json:"trace_parent,omitempty"`

	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// ExpiresAt is CreatedAt + Request.ExecutionExpiresAfter: a task not finished by then is expired.
	ExpiresAt time.Time `json:"expires_at"`
	// NextCheckAt is when the scheduler should next look at the task (nil when terminal).
	NextCheckAt *time.Time `json:"next_check_at,omitempty"`
	// Progress is an estimate in percent (0–100), never past 99 before success.
	Progress int `json:"progress"`

	// Version is bumped by every store write; updates are conditional on it
	// (optimistic concurrency between the scheduler and API calls such as cancel).
	Version int64 `json:"-"`
	// LeaseOwner and LeaseUntil: the scheduler instance working on the task, and until when.
	LeaseOwner string     `json:"-"`
	LeaseUntil *time.Time `json:"-"`
}

// File is an uploaded input (image, video, audio) or a stored result (video, last frame).
type File struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant,omitempty"`
	Kind        string    `json:"kind"`    // image | video | audio
	Purpose     string    `json:"purpose"` // e.g. reference, first_frame, output
	Name        string    `json:"name,omitempty"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	Duration    float64   `json:"duration,omitempty"`
	BlobKey     string    `json:"-"`                 // where the bytes live in blob storage
	TaskID      string    `json:"task_id,omitempty"` // for results: the task that produced it
	CreatedAt   time.Time `json:"created_at"`
	// ExpiredAt is set when a result's content was removed after the
	// retention period: the record stays to say so.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
}

// Request is the normalized form of every dialect's create call.
// Zero values mean "not given"; Catalog.Normalize fills defaults and validates.
type Request struct {
	Prompt string `json:"prompt"`

	FirstFrame      string   `json:"first_frame,omitempty"` // URL (http(s), data:, or a gateway file URL)
	LastFrame       string   `json:"last_frame,omitempty"`
	ReferenceImages []string `json:"reference_images,omitempty"`
	ReferenceVideos []string `json:"reference_videos,omitempty"`
	ReferenceAudio  []string `json:"reference_audio,omitempty"`
	DraftTaskID     string   `json:"draft_task_id,omitempty"`

	Resolution string `json:"resolution,omitempty"` // 480p 720p 1080p 4k
	Ratio      string `json:"ratio,omitempty"`      // 16:9 4:3 1:1 3:4 9:16 21:9 adaptive
	Duration   *int   `json:"duration,omitempty"`   // seconds; -1 = model chooses
	Frames     *int   `json:"frames,omitempty"`     // 25+4n in [29,289]; wins over duration (1.0 only)
	Seed       *int64 `json:"seed,omitempty"`       // -1 = random

	CameraFixed     *bool `json:"camera_fixed,omitempty"`
	Watermark       *bool `json:"watermark,omitempty"`
	GenerateAudio   *bool `json:"generate_audio,omitempty"`
	ReturnLastFrame *bool `json:"return_last_frame,omitempty"`
	Draft           *bool `json:"draft,omitempty"`

	// OutputFormat is the container of the result: mp4 (default) or mov.
	OutputFormat string `json:"output_format,omitempty"`
	// ReferenceTaskType is what reference inputs are for (Ark's
	// omni_reference_task_type): auto (default), reference, edit or extend.
	ReferenceTaskType string `json:"omni_reference_task_type,omitempty"`

	ServiceTier           string `json:"service_tier,omitempty"`            // default | flex
	ExecutionExpiresAfter *int   `json:"execution_expires_after,omitempty"` // seconds
	CallbackURL           string `json:"callback_url,omitempty"`

	// Upstream-only passthroughs (2.x).
	Priority         *int   `json:"priority,omitempty"`
	SafetyIdentifier string `json:"safety_identifier,omitempty"`
	WebSearch        bool   `json:"web_search,omitempty"`

	// InputVideoSeconds is the length of the reference videos together, as the
	// gateway measured or estimated it at intake (Model.InputVideoSeconds):
	// 2.x models bill it. Never read from a client.
	InputVideoSeconds float64 `json:"input_video_seconds,omitempty"`

	// Warnings are the notes of what the gateway changed to make the request
	// acceptable (Model.Relax), shown to the client with the task.
	Warnings []string `json:"warnings,omitempty"`
	// RequestID is the gateway request id of the create call: some dialects echo
	// it with the task later (seedance's envelope, callbacks).
	RequestID string `json:"request_id,omitempty"`
	// KeyID names the API key (auth.Principal.KeyID, never the secret) that created
	// the task: its webhooks are signed with that key's secret.
	KeyID string `json:"key_id,omitempty"`
}

// Result is what a succeeded task produced. URLs are the gateway's own stable URLs
// once the result is mirrored; UpstreamVideoURL keeps the provider's original.
type Result struct {
	VideoURL        string `json:"video_url"`
	LastFrameURL    string `json:"last_frame_url,omitempty"`
	VideoFileID     string `json:"video_file_id,omitempty"`
	LastFrameFileID string `json:"last_frame_file_id,omitempty"`
	// ThumbnailFileID is a still of the video, made by the background step that
	// produced the result (render or mirror), so no request runs ffmpeg.
	ThumbnailFileID  string `json:"thumbnail_file_id,omitempty"`
	UpstreamVideoURL string `json:"upstream_video_url,omitempty"`
	UpstreamFrameURL string `json:"upstream_last_frame_url,omitempty"`
	// UpstreamDoneAt is when the upstream finished the task: its result URLs
	// stay valid for a day from then, so the copy is retried until shortly before.
	UpstreamDoneAt *time.Time `json:"upstream_done_at,omitempty"`

	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Duration   float64 `json:"duration"` // seconds
	FPS        int     `json:"fps"`
	HasAudio   bool    `json:"has_audio"`
	Seed       int64   `json:"seed"`
	Ratio      string  `json:"ratio,omitempty"` // what adaptive resolved to
	Resolution string  `json:"resolution,omitempty"`
}

// Usage is what the task consumed, in the upstream's tokens.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// Int, Int64 and Bool return pointers, for building Requests.
func Int(v int) *int       { return &v }
func Int64(v int64) *int64 { return &v }
func Bool(v bool) *bool    { return &v }

// ExpiresAfter is the request's execution window in seconds (the default when
// it names none).
func (r *Request) ExpiresAfter() int {
	return Or(r.ExecutionExpiresAfter, DefaultExecutionExpiresAfter)
}

// Or returns *p, or def when p is nil.
func Or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
