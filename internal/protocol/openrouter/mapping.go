package openrouter

import (
	"context"
	"fmt"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
)

// Decode reads a create body (already in memory: the dialect reads it with
// wire.DecodeJSON, the emulator and the fuzz target with wire.Unmarshal)
// into the request it asks for. The model name is returned as given (the
// service resolves it); previous_job_id is left to the caller, which must
// look the job up. Errors are *task.Error naming the field as the client
// wrote it.
func (b *CreateRequest) Decode() (model string, r task.Request, err error) {
	model = strings.TrimSpace(b.Model)
	if model == "" {
		return "", r, task.Errorf(task.CodeMissingParameter, "model", "model is required, e.g. bytedance/seedance-2.0")
	}
	if b.Creativity != nil || b.UpscaleFactor != nil {
		field := "creativity"
		if b.Creativity == nil {
			field = "upscale_factor"
		}
		return "", r, task.Errorf(task.CodeInvalidParameter, field, "%s is for video upscaling models only: Seedance models do not take it", field)
	}
	if b.Prompt != nil {
		r.Prompt = *b.Prompt
	}
	if strings.TrimSpace(r.Prompt) == "" && len(b.FrameImages) == 0 && b.PreviousJobID == "" {
		return "", r, task.Errorf(task.CodeMissingParameter, "prompt", "prompt is required unless frame_images give the first frame")
	}
	r.Duration, r.Seed, r.GenerateAudio = b.Duration, b.Seed, b.GenerateAudio
	r.Resolution = Resolution(b.Resolution)
	r.Ratio = strings.TrimSpace(b.AspectRatio)
	r.CallbackURL = strings.TrimSpace(b.CallbackURL)
	// With an unknown model the size is left unread (the service names the
	// model); the rest of the body is still checked.
	if m, _, ok := task.LookupModel(model); b.Size != "" && ok {
		res, ratio, err := task.SizeToRequest(m, b.Size)
		if err != nil {
			return "", r, err
		}
		if r.Resolution != "" && r.Resolution != res {
			return "", r, task.Errorf(task.CodeInvalidParameter, "size", "size %s is %s, but resolution says %s: give one of them", b.Size, res, b.Resolution)
		}
		if r.Ratio != "" && r.Ratio != ratio {
			return "", r, task.Errorf(task.CodeInvalidParameter, "size", "size %s is %s, but aspect_ratio says %s: give one of them", b.Size, ratio, r.Ratio)
		}
		r.Resolution, r.Ratio = res, ratio
	}
	for i, f := range b.FrameImages {
		at := fmt.Sprintf("frame_images[%d]", i)
		if f.Type != TypeImageURL {
			return "", r, task.Errorf(task.CodeInvalidParameter, at+".type", "%s.type must be image_url, got %q", at, f.Type)
		}
		u := strings.TrimSpace(f.ImageURL.URL)
		if u == "" {
			return "", r, task.Errorf(task.CodeMissingParameter, at+".image_url.url", "%s.image_url.url is required", at)
		}
		var dst *string
		switch f.FrameType {
		case FrameFirst:
			dst = &r.FirstFrame
		case FrameLast:
			dst = &r.LastFrame
		default:
			return "", r, task.Errorf(task.CodeInvalidParameter, at+".frame_type", "%s.frame_type must be first_frame or last_frame, got %q", at, f.FrameType)
		}
		if *dst != "" {
			return "", r, task.Errorf(task.CodeInvalidParameter, at+".frame_type", "frame_images has more than one %s", f.FrameType)
		}
		*dst = u
	}
	if r.LastFrame != "" && r.FirstFrame == "" {
		return "", r, task.Errorf(task.CodeInvalidParameter, "frame_images", "a last_frame needs a first_frame beside it")
	}
	for i, ref := range b.InputReferences {
		at := fmt.Sprintf("input_references[%d]", i)
		var u *URL
		var dst *[]string
		switch ref.Type {
		case TypeImageURL:
			u, dst = ref.ImageURL, &r.ReferenceImages
		case TypeVideoURL:
			u, dst = ref.VideoURL, &r.ReferenceVideos
		case TypeAudioURL:
			u, dst = ref.AudioURL, &r.ReferenceAudio
		default:
			return "", r, task.Errorf(task.CodeInvalidParameter, at+".type", "%s.type must be image_url, video_url or audio_url, got %q", at, ref.Type)
		}
		if u == nil || strings.TrimSpace(u.URL) == "" {
			return "", r, task.Errorf(task.CodeMissingParameter, at+"."+ref.Type+".url", "%s is of type %s but has no %s.url", at, ref.Type, ref.Type)
		}
		*dst = append(*dst, strings.TrimSpace(u.URL))
	}
	return model, r, nil
}

// Resolution is the catalog's spelling of an OpenRouter resolution ("4K" is
// 4k); values the catalog does not know pass through for it to refuse.
func Resolution(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// wireResolution is OpenRouter's spelling of a catalog resolution.
func wireResolution(s string) string {
	if strings.EqualFold(s, task.Res4K) {
		return "4K"
	}
	return s
}

// Encode is the create body of r for model (the upstream's model id), the
// client side of Decode. input turns each input URL into one the upstream
// can read (nil: as they are). Fields OpenRouter has no place for are not
// sent: the channel kind declares what it carries, so routing never sends a
// request that needs them.
func Encode(ctx context.Context, model string, r *task.Request, input func(ctx context.Context, url string) (string, error)) (*CreateRequest, error) {
	if input == nil {
		input = func(_ context.Context, u string) (string, error) { return u, nil }
	}
	b := &CreateRequest{Model: model, Duration: r.Duration, Seed: r.Seed, GenerateAudio: r.GenerateAudio,
		Resolution: wireResolution(r.Resolution)}
	if r.Prompt != "" {
		p := r.Prompt
		b.Prompt = &p
	}
	if b.Duration != nil && *b.Duration == -1 {
		b.Duration = nil // "the model chooses" is OpenRouter's default
	}
	if b.Seed != nil && *b.Seed == -1 {
		b.Seed = nil
	}
	if r.Ratio != "" && r.Ratio != task.RatioAdaptive {
		b.AspectRatio = r.Ratio
	}
	for _, f := range []struct{ url, kind string }{{r.FirstFrame, FrameFirst}, {r.LastFrame, FrameLast}} {
		if f.url == "" {
			continue
		}
		u, err := input(ctx, f.url)
		if err != nil {
			return nil, err
		}
		b.FrameImages = append(b.FrameImages, FrameImage{Type: TypeImageURL, ImageURL: URL{URL: u}, FrameType: f.kind})
	}
	refs := []struct {
		urls []string
		typ  string
	}{{r.ReferenceImages, TypeImageURL}, {r.ReferenceVideos, TypeVideoURL}, {r.ReferenceAudio, TypeAudioURL}}
	for _, g := range refs {
		for _, raw := range g.urls {
			u, err := input(ctx, raw)
			if err != nil {
				return nil, err
			}
			ref := InputReference{Type: g.typ}
			switch g.typ {
			case TypeImageURL:
				ref.ImageURL = &URL{URL: u}
			case TypeVideoURL:
				ref.VideoURL = &URL{URL: u}
			default:
				ref.AudioURL = &URL{URL: u}
			}
			b.InputReferences = append(b.InputReferences, ref)
		}
	}
	return b, nil
}

// Status is OpenRouter's name of a task status.
func Status(s task.Status) string {
	switch s {
	case task.StatusQueued:
		return StatusPending
	case task.StatusRunning:
		return StatusInProgress
	case task.StatusSucceeded:
		return StatusCompleted
	case task.StatusCancelled:
		return StatusCancelled
	case task.StatusExpired:
		return StatusExpired
	}
	return StatusFailed
}

// TaskStatus is the task status of an OpenRouter job status ("" and false
// for one this package does not know).
func TaskStatus(s string) (task.Status, bool) {
	switch s {
	case StatusPending:
		return task.StatusQueued, true
	case StatusInProgress:
		return task.StatusRunning, true
	case StatusCompleted:
		return task.StatusSucceeded, true
	case StatusFailed:
		return task.StatusFailed, true
	case StatusCancelled:
		return task.StatusCancelled, true
	case StatusExpired:
		return task.StatusExpired, true
	}
	return "", false
}
