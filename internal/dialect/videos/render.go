package videos

import (
	"net/http"

	vp "github.com/seedgate/seedgate/internal/protocol/videos"
	"github.com/seedgate/seedgate/internal/task"
)

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

func render(t *task.Task) vp.TaskStatus {
	q := t.Request
	o := vp.TaskStatus{
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
		o.Usage = &vp.Usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil && t.Status != task.StatusSucceeded {
		code := t.Error.UpstreamCode
		if code == "" {
			code = string(t.Error.Code)
		}
		o.Error = &vp.TaskError{Code: code, Message: t.Error.Message}
	}
	return o
}

// WebhookPayload is the status object this dialect's callbacks carry: the same
// {"code":200,"data":{…}} as the status endpoints.
func WebhookPayload(t *task.Task) any {
	return vp.StatusAnswer{Code: http.StatusOK, Data: render(t)}
}
