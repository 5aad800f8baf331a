package seedance

import (
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	sp "github.com/seedgate/seedgate/internal/protocol/seedance"
	"github.com/seedgate/seedgate/internal/task"
)

func render(t *task.Task) sp.Data {
	d := sp.Data{TaskID: t.ID, Status: string(t.Status), Model: t.ModelAlias}
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
func envelope(t *task.Task, traceID string) sp.Envelope {
	e := sp.Envelope{Success: true, TaskID: t.Request.RequestID, TraceID: traceID, Data: render(t)}
	if e.TaskID == "" { // a task created in another dialect before request ids were kept
		e.TaskID = t.ID
	}
	if t.Status == task.StatusFailed || t.Status == task.StatusExpired {
		e.Success = false
		msg := "the task failed"
		if t.Error != nil {
			msg = t.Error.Message
		}
		e.Error = &sp.APIError{Code: sp.ErrorTable.Row(task.CodeUpstream).Code, Message: msg}
	}
	return e
}

// WebhookPayload is what this dialect POSTs to callback_url when the task
// finishes: the same envelope the waiting create answers with, whose task_id
// is the one the create answered at once.
func WebhookPayload(t *task.Task) any {
	return envelope(t, t.Request.RequestID)
}
