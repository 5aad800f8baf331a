package seedance

import (
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// Envelope is the seed's answer: task_id is the create call's request id (the
// one a callback_url client got at once), data.task_id the task's own id.
type Envelope struct {
	Success bool      `json:"success"`
	TaskID  string    `json:"task_id"`
	TraceID string    `json:"trace_id"`
	Data    data      `json:"data"`
	Error   *apiError `json:"error,omitempty"`
}

type data struct {
	TaskID       string `json:"task_id"`
	Status       string `json:"status"`
	VideoURL     string `json:"video_url,omitempty"`
	Model        string `json:"model,omitempty"`
	LastFrameURL string `json:"last_frame_url,omitempty"`
	Progress     *int   `json:"progress,omitempty"`
	// ErrorCode and ErrorMessage say why a task failed (Ark's code).
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

func render(t *task.Task) data {
	d := data{TaskID: t.ID, Status: string(t.Status), Model: t.ModelAlias}
	if !t.Status.Terminal() {
		p := t.Progress
		d.Progress = &p
	}
	if res := t.Result; res != nil && t.Status == task.StatusSucceeded {
		d.VideoURL, d.LastFrameURL = res.VideoURL, res.LastFrameURL
	}
	if t.Error != nil && t.Status != task.StatusSucceeded && t.Status != task.StatusCancelled {
		d.ErrorCode, d.ErrorMessage = ark.ErrorCode(t.Error), t.Error.Message
	}
	return d
}

// envelope wraps the task; success is false (with the error) only for a task
// that failed or expired.
func envelope(t *task.Task, traceID string) Envelope {
	e := Envelope{Success: true, TaskID: t.Request.RequestID, TraceID: traceID, Data: render(t)}
	if e.TaskID == "" { // a task created in another dialect before request ids were kept
		e.TaskID = t.ID
	}
	if t.Status == task.StatusFailed || t.Status == task.StatusExpired {
		e.Success = false
		msg := "the task failed"
		if t.Error != nil {
			msg = t.Error.Message
		}
		e.Error = &apiError{Code: errorTable[task.CodeUpstream].code, Message: msg}
	}
	return e
}

// WebhookPayload is what this dialect POSTs to callback_url when the task
// finishes: the same envelope the waiting create answers with, whose task_id
// is the one the create answered at once.
func WebhookPayload(t *task.Task) any {
	return envelope(t, t.Request.RequestID)
}
