package openai

import (
	"net/http"
	"strconv"

	"github.com/seedgate/seedgate/internal/auth"
	oa "github.com/seedgate/seedgate/internal/protocol/openai"
	"github.com/seedgate/seedgate/internal/task"
)

func status(s task.Status) string {
	switch s {
	case task.StatusQueued:
		return "queued"
	case task.StatusRunning:
		return "in_progress"
	case task.StatusSucceeded:
		return "completed"
	}
	return "failed" // failed, expired, cancelled
}

// Render is the task as an OpenAI video object. seconds and size are the
// output's (estimated from the request until the video exists).
func Render(t *task.Task) oa.Video {
	q := t.Request
	v := oa.Video{ID: t.ID, Object: "video", Model: t.ModelAlias, Status: status(t.Status), Progress: t.Progress,
		CreatedAt: t.CreatedAt.Unix(), Prompt: q.Prompt}
	if m, _, ok := task.LookupModel(t.Model); ok {
		if w, h, frames, _, err := m.Output(&q, 0, 0); err == nil {
			v.Size, v.Seconds = sizeString(w, h), strconv.Itoa((frames-1)/24)
		}
	}
	if res := t.Result; res != nil && t.Status == task.StatusSucceeded {
		v.Size = sizeString(res.Width, res.Height)
		v.Seconds = strconv.Itoa(int(res.Duration + 0.5))
	}
	if t.Status == task.StatusSucceeded {
		v.Progress = 100
	}
	if t.FinishedAt != nil {
		f := t.FinishedAt.Unix()
		v.CompletedAt = &f
	}
	if t.Error != nil && t.Status != task.StatusSucceeded {
		code := t.Error.UpstreamCode
		if code == "" {
			code = string(t.Error.Code)
		}
		v.Error = &oa.TaskError{Code: code, Message: t.Error.Message}
	}
	if t.Status == task.StatusCancelled && v.Error == nil {
		v.Error = &oa.TaskError{Code: "cancelled", Message: "the video was cancelled"}
	}
	return v
}

// WebhookPayload is this dialect's status object: the video object.
func WebhookPayload(t *task.Task) any { return Render(t) }

// Content is GET /v1/videos/{id}/content?variant=video|thumbnail: the MP4, or
// the still of it that the render stored with the result (a JPEG of its first
// frame). No media work happens here.
func (h *Handler) Content(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	variant := r.URL.Query().Get("variant")
	switch variant {
	case "", "video", "thumbnail":
	case "spritesheet":
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "variant", "variant spritesheet is not available: use video or thumbnail"))
		return
	default:
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "variant", "variant must be video or thumbnail, got %q", variant))
		return
	}
	if t.Status != task.StatusSucceeded || t.Result == nil || t.Result.VideoFileID == "" {
		WriteError(w, r, task.Errorf(task.CodeConflict, "id", "video %s is %s: its content exists once it is completed", t.ID, status(t.Status)))
		return
	}
	fileID := t.Result.VideoFileID
	if variant == "thumbnail" {
		if t.Result.ThumbnailFileID == "" {
			WriteError(w, r, task.Errorf(task.CodeNotFound, "variant", "video %s has no thumbnail: it was made before thumbnails were kept", t.ID))
			return
		}
		fileID = t.Result.ThumbnailFileID
	}
	f, obj, err := h.svc.OpenFile(r.Context(), fileID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer obj.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", obj.ModTime(), obj)
}
