package jobs

import (
	"net/http"

	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// jobStatus: the seed answers "processing" for a job not yet finished.
func jobStatus(s task.Status) string {
	if s == task.StatusQueued || s == task.StatusRunning {
		return "processing"
	}
	return string(s)
}

func render(r *http.Request, t *task.Task) jp.Job {
	q := t.Request
	j := jp.Job{
		ID: t.ID, Object: "job", Status: jobStatus(t.Status), Model: t.ModelAlias,
		Created: t.CreatedAt.Unix(), Updated: t.UpdatedAt.Unix(), Progress: t.Progress,
		RequestID: wire.RequestID(r.Context()), Dialect: t.Dialect, Warnings: q.Warnings,
		Input: jp.Input{
			Prompt: &q.Prompt, FirstFrameURL: q.FirstFrame, LastFrameURL: q.LastFrame,
			ReferenceImageURLs: q.ReferenceImages, ReferenceVideoURLs: q.ReferenceVideos, ReferenceAudioURLs: q.ReferenceAudio,
			DraftTaskID: q.DraftTaskID, Resolution: q.Resolution, Duration: q.Duration, Ratio: q.Ratio, Frames: q.Frames,
			Seed: q.Seed, CameraFixed: q.CameraFixed, Watermark: q.Watermark, ReturnLastFrame: q.ReturnLastFrame,
			ServiceTier: q.ServiceTier, GenerateAudio: q.GenerateAudio, ExecutionExpiresAfter: q.ExecutionExpiresAfter,
			Draft: q.Draft, CallbackURL: q.CallbackURL, Priority: q.Priority, SafetyIdentifier: q.SafetyIdentifier,
			OutputFormat: q.OutputFormat, OmniReferenceTaskType: q.ReferenceTaskType,
		},
		Output: jp.Output{TaskID: t.ID, Status: string(t.Status), Videos: []jp.Video{}},
	}
	if t.FinishedAt != nil {
		f := t.FinishedAt.Unix()
		j.Finished = &f
	}
	if res := t.Result; res != nil {
		j.Output.Videos = append(j.Output.Videos, jp.Video{URL: res.VideoURL, Width: res.Width, Height: res.Height,
			Duration: res.Duration, FPS: res.FPS, HasAudio: res.HasAudio})
		j.Output.LastFrameURL = res.LastFrameURL
		seed := res.Seed
		j.Output.Seed, j.Output.Resolution, j.Output.Ratio = &seed, res.Resolution, res.Ratio
	}
	if t.Usage != nil {
		j.Usage = &jp.Usage{CompletionTokens: t.Usage.CompletionTokens, TotalTokens: t.Usage.TotalTokens}
	}
	if t.Error != nil {
		j.Error = &jp.JobError{Code: string(t.Error.Code), Message: t.Error.Message, UpstreamCode: t.Error.UpstreamCode}
	}
	return j
}
