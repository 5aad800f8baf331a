package ark

import (
	"math"

	"github.com/seedgate/seedgate/internal/task"
)

// Task is Ark's task object (spec/ark.md "Task object"): the get answer, the
// list items and the callback body.
type Task struct {
	ID                    string       `json:"id"`
	Model                 string       `json:"model"`
	Status                string       `json:"status"`
	Error                 *TaskError   `json:"error"`
	Content               *TaskContent `json:"content,omitempty"`
	Usage                 *Usage       `json:"usage,omitempty"`
	CreatedAt             int64        `json:"created_at"`
	UpdatedAt             int64        `json:"updated_at"`
	Seed                  *int64       `json:"seed,omitempty"`
	Resolution            string       `json:"resolution"`
	Ratio                 string       `json:"ratio"`
	Duration              *int         `json:"duration,omitempty"`
	Frames                *int         `json:"frames,omitempty"`
	FramesPerSecond       int          `json:"framespersecond"`
	GenerateAudio         *bool        `json:"generate_audio,omitempty"`
	Draft                 bool         `json:"draft"`
	DraftTaskID           string       `json:"draft_task_id,omitempty"`
	ServiceTier           string       `json:"service_tier"`
	ExecutionExpiresAfter int          `json:"execution_expires_after"`
	SafetyIdentifier      string       `json:"safety_identifier,omitempty"`
}

// TaskError is a failed task's reason, with Ark's code.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TaskContent holds a succeeded task's result URLs (the task object's "content",
// not to be confused with the create body's Content).
type TaskContent struct {
	VideoURL     string `json:"video_url"`
	LastFrameURL string `json:"last_frame_url,omitempty"`
}

// Usage is what a succeeded task is billed.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// outputFPS: every Seedance output is 24 fps.
const outputFPS = 24

// Render is the task as Ark shows it. model is the name the client used;
// duration (or frames) echoes the request; ratio is what adaptive resolved to
// once known.
func Render(t *task.Task) Task {
	q := t.Request
	o := Task{
		ID: t.ID, Model: t.ModelAlias, Status: string(t.Status),
		CreatedAt: t.CreatedAt.Unix(), UpdatedAt: t.UpdatedAt.Unix(),
		Resolution: q.Resolution, Ratio: q.Ratio, Duration: q.Duration, Frames: q.Frames,
		FramesPerSecond: outputFPS, GenerateAudio: q.GenerateAudio, Draft: task.Or(q.Draft, false),
		DraftTaskID: q.DraftTaskID, ServiceTier: q.ServiceTier,
		ExecutionExpiresAfter: task.Or(q.ExecutionExpiresAfter, 172800), SafetyIdentifier: q.SafetyIdentifier,
	}
	if q.Seed != nil && *q.Seed >= 0 {
		o.Seed = q.Seed
	}
	if res := t.Result; res != nil {
		seed := res.Seed
		o.Seed = &seed
		if res.Ratio != "" {
			o.Ratio = res.Ratio
		}
		if res.Resolution != "" {
			o.Resolution = res.Resolution
		}
		if q.Duration != nil && *q.Duration == -1 && res.Duration > 0 {
			o.Duration = task.Int(int(math.Round(res.Duration))) // what the model chose
		}
		if t.Status == task.StatusSucceeded {
			o.Content = &TaskContent{VideoURL: res.VideoURL, LastFrameURL: res.LastFrameURL}
		}
	}
	if t.Usage != nil && t.Status == task.StatusSucceeded {
		o.Usage = &Usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil && (t.Status == task.StatusFailed || t.Status == task.StatusExpired) {
		o.Error = &TaskError{Code: ErrorCode(t.Error), Message: t.Error.Message}
	}
	return o
}

// ErrorCode is Ark's code for a task's error: the upstream's own when the
// failure came from upstream, else the table's.
func ErrorCode(e *task.Error) string {
	if e.UpstreamCode != "" {
		return e.UpstreamCode
	}
	return errorRowOf(e.Code).code
}

// WebhookPayload is what Ark POSTs to a task's callback_url on each status
// change: the task object.
func WebhookPayload(t *task.Task) any { return Render(t) }
