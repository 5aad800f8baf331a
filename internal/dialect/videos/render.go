package videos

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
)

// statusAnswer is {"code":200,"data":{task_id,status,video_url,…}}: the task
// status page the seed points at without showing it.
type statusAnswer struct {
	Code int        `json:"code"`
	Data taskStatus `json:"data"`
}

type taskStatus struct {
	TaskID       string     `json:"task_id"`
	Status       string     `json:"status"` // submitted, processing, succeeded, failed, cancelled, expired
	Progress     int        `json:"progress"`
	Model        string     `json:"model"`
	VideoURL     string     `json:"video_url"`
	LastFrameURL string     `json:"last_frame_url,omitempty"`
	Duration     *int       `json:"duration,omitempty"`
	AspectRatio  string     `json:"aspect_ratio"`
	Resolution   string     `json:"resolution"`
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`
	Audio        bool       `json:"audio"`
	Seed         *int64     `json:"seed,omitempty"`
	Usage        *usage     `json:"usage,omitempty"`
	Error        *taskError `json:"error,omitempty"`
	CreatedAt    int64      `json:"created_at"`
	UpdatedAt    int64      `json:"updated_at"`
	FinishedAt   *int64     `json:"finished_at,omitempty"`
}

type usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type taskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status: "submitted" (the create answer's word) until the task runs.
func status(s task.Status) string {
	switch s {
	case task.StatusQueued:
		return "submitted"
	case task.StatusRunning:
		return "processing"
	}
	return string(s)
}

func render(t *task.Task) taskStatus {
	q := t.Request
	o := taskStatus{
		TaskID: t.ID, Status: status(t.Status), Progress: t.Progress, Model: t.ModelAlias,
		Duration: q.Duration, AspectRatio: q.Ratio, Resolution: q.Resolution, Audio: task.Or(q.GenerateAudio, false),
		CreatedAt: t.CreatedAt.Unix(), UpdatedAt: t.UpdatedAt.Unix(),
	}
	if q.Seed != nil && *q.Seed >= 0 {
		o.Seed = q.Seed
	}
	if t.FinishedAt != nil {
		f := t.FinishedAt.Unix()
		o.FinishedAt = &f
	}
	if res := t.Result; res != nil && t.Status == task.StatusSucceeded {
		seed := res.Seed
		o.VideoURL, o.LastFrameURL, o.Seed = res.VideoURL, res.LastFrameURL, &seed
		o.Width, o.Height = res.Width, res.Height
		if res.Ratio != "" {
			o.AspectRatio = res.Ratio
		}
	}
	if t.Usage != nil && t.Status == task.StatusSucceeded {
		o.Usage = &usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil && t.Status != task.StatusSucceeded {
		code := t.Error.UpstreamCode
		if code == "" {
			code = string(t.Error.Code)
		}
		o.Error = &taskError{Code: code, Message: t.Error.Message}
	}
	return o
}

// WebhookPayload is the status object this dialect's callbacks carry: the same
// {"code":200,"data":{…}} as the status endpoints.
func WebhookPayload(t *task.Task) any {
	return statusAnswer{Code: http.StatusOK, Data: render(t)}
}
