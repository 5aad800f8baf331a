package ark

import (
	"math"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// Render is the task as Ark shows it. model is the name the client used;
// duration (or frames) echoes the request; ratio is what adaptive resolved to
// once known.
func Render(t *task.Task) arkproto.Task {
	q := t.Request
	o := arkproto.Task{
		ID: t.ID, Model: t.ModelAlias, Status: string(t.Status),
		CreatedAt: t.CreatedAt.Unix(), UpdatedAt: t.UpdatedAt.Unix(),
		Resolution: q.Resolution, Ratio: q.Ratio, Duration: q.Duration, Frames: q.Frames,
		FramesPerSecond: arkproto.OutputFPS, GenerateAudio: q.GenerateAudio, Draft: task.Bool(task.Or(q.Draft, false)),
		DraftTaskID: q.DraftTaskID, ServiceTier: q.ServiceTier,
		ExecutionExpiresAfter: q.ExpiresAfter(), SafetyIdentifier: q.SafetyIdentifier,
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
			o.Content = &arkproto.TaskContent{VideoURL: res.VideoURL, LastFrameURL: res.LastFrameURL}
		}
	}
	if t.Usage != nil && t.Status == task.StatusSucceeded {
		o.Usage = &arkproto.Usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil && (t.Status == task.StatusFailed || t.Status == task.StatusExpired) {
		o.Error = &arkproto.TaskError{Code: arkproto.ErrorCode(t.Error), Message: t.Error.Message}
	}
	return o
}

// WebhookPayload is what Ark POSTs to a task's callback_url on each status
// change: the task object.
func WebhookPayload(t *task.Task) any { return Render(t) }
