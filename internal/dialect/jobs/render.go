package jobs

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// job is the wire form of a task in this dialect.
type job struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	Status    string    `json:"status"` // processing | succeeded | failed | cancelled | expired
	Model     string    `json:"model"`
	Created   int64     `json:"created"`
	Updated   int64     `json:"updated"`
	Finished  *int64    `json:"finished,omitempty"`
	Progress  int       `json:"progress"`
	RequestID string    `json:"request_id"`
	Dialect   string    `json:"dialect"`
	Warnings  []string  `json:"warnings,omitempty"`
	Input     input     `json:"input"`
	Output    output    `json:"output"`
	Usage     *usage    `json:"usage,omitempty"`
	Error     *jobError `json:"error"`
}

type output struct {
	TaskID       string  `json:"task_id"`
	Status       string  `json:"status"` // the task's own status: queued, running, …
	Videos       []video `json:"videos"`
	LastFrameURL string  `json:"last_frame_url,omitempty"`
	Seed         *int64  `json:"seed,omitempty"`
	Resolution   string  `json:"resolution,omitempty"`
	Ratio        string  `json:"ratio,omitempty"`
}

type video struct {
	URL      string  `json:"url"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Duration float64 `json:"duration"`
	FPS      int     `json:"fps"`
	HasAudio bool    `json:"has_audio"`
}

type usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type jobError struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	UpstreamCode string `json:"upstream_code,omitempty"`
}

// jobStatus: the seed answers "processing" for a job not yet finished.
func jobStatus(s task.Status) string {
	if s == task.StatusQueued || s == task.StatusRunning {
		return "processing"
	}
	return string(s)
}

func render(r *http.Request, t *task.Task) job {
	q := t.Request
	j := job{
		ID: t.ID, Object: "job", Status: jobStatus(t.Status), Model: t.ModelAlias,
		Created: t.CreatedAt.Unix(), Updated: t.UpdatedAt.Unix(), Progress: t.Progress,
		RequestID: wire.RequestID(r.Context()), Dialect: t.Dialect, Warnings: q.Warnings,
		Input: input{
			Prompt: &q.Prompt, FirstFrameURL: q.FirstFrame, LastFrameURL: q.LastFrame,
			ReferenceImageURLs: q.ReferenceImages, ReferenceVideoURLs: q.ReferenceVideos, ReferenceAudioURLs: q.ReferenceAudio,
			DraftTaskID: q.DraftTaskID, Resolution: q.Resolution, Duration: q.Duration, Ratio: q.Ratio, Frames: q.Frames,
			Seed: q.Seed, CameraFixed: q.CameraFixed, Watermark: q.Watermark, ReturnLastFrame: q.ReturnLastFrame,
			ServiceTier: q.ServiceTier, GenerateAudio: q.GenerateAudio, ExecutionExpiresAfter: q.ExecutionExpiresAfter,
			Draft: q.Draft, CallbackURL: q.CallbackURL, Priority: q.Priority, SafetyIdentifier: q.SafetyIdentifier,
		},
		Output: output{TaskID: t.ID, Status: string(t.Status), Videos: []video{}},
	}
	if t.FinishedAt != nil {
		f := t.FinishedAt.Unix()
		j.Finished = &f
	}
	if res := t.Result; res != nil {
		j.Output.Videos = append(j.Output.Videos, video{URL: res.VideoURL, Width: res.Width, Height: res.Height,
			Duration: res.Duration, FPS: res.FPS, HasAudio: res.HasAudio})
		j.Output.LastFrameURL = res.LastFrameURL
		seed := res.Seed
		j.Output.Seed, j.Output.Resolution, j.Output.Ratio = &seed, res.Resolution, res.Ratio
	}
	if t.Usage != nil {
		j.Usage = &usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil {
		j.Error = &jobError{Code: string(t.Error.Code), Message: t.Error.Message, UpstreamCode: t.Error.UpstreamCode}
	}
	return j
}
