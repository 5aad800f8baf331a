package ark

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/media"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// marker is what lets a create whose answer was lost be found again in the
// upstream's task list (see Reconcile). Exactly one of the three applies,
// derived from the task alone, so any instance computes the same marker:
//   - safety_identifier "sg-<task id>", when the client set none (the usual case);
//   - otherwise a seed derived from the task id, when the client's seed is random
//     (-1): a random seed the gateway picked is still a random seed;
//   - otherwise nothing: the task is matched by its echoed parameters.
type marker struct {
	safety string
	seed   *int64
}

func markerOf(t *task.Task) marker {
	switch {
	case t.Request.SafetyIdentifier == "":
		id := t.ID
		if len(id) > 61 {
			sum := sha256.Sum256([]byte(id))
			id = base64.RawURLEncoding.EncodeToString(sum[:24])
		}
		return marker{safety: "sg-" + id}
	case task.Or(t.Request.Seed, -1) < 0:
		sum := sha256.Sum256([]byte("seedgate-seed:" + t.ID))
		seed := int64(binary.BigEndian.Uint32(sum[:4]) & math.MaxInt32)
		return marker{seed: &seed}
	}
	return marker{}
}

// content builds the create body's content items, turning gateway file URLs
// into what the upstream can read (see inputURL). Errors are *task.Error naming
// the field: the task cannot be sent as it is.
func (k *Kind) content(ctx context.Context, r *task.Request, draftUpstreamID string) ([]contentItem, error) {
	var items []contentItem
	if r.Prompt != "" {
		items = append(items, contentItem{Type: "text", Text: r.Prompt})
	}
	image := func(field, u, role string) error {
		v, err := k.inputURL(ctx, field, "image", u)
		if err != nil {
			return err
		}
		items = append(items, contentItem{Type: "image_url", ImageURL: &urlRef{URL: v}, Role: role})
		return nil
	}
	if r.FirstFrame != "" {
		if err := image("first_frame", r.FirstFrame, "first_frame"); err != nil {
			return nil, err
		}
	}
	if r.LastFrame != "" {
		if err := image("last_frame", r.LastFrame, "last_frame"); err != nil {
			return nil, err
		}
	}
	for i, u := range r.ReferenceImages {
		if err := image(fmt.Sprintf("reference_images[%d]", i), u, "reference_image"); err != nil {
			return nil, err
		}
	}
	for i, u := range r.ReferenceVideos {
		v, err := k.inputURL(ctx, fmt.Sprintf("reference_videos[%d]", i), "video", u)
		if err != nil {
			return nil, err
		}
		items = append(items, contentItem{Type: "video_url", VideoURL: &urlRef{URL: v}, Role: "reference_video"})
	}
	for i, u := range r.ReferenceAudio {
		v, err := k.inputURL(ctx, fmt.Sprintf("reference_audio[%d]", i), "audio", u)
		if err != nil {
			return nil, err
		}
		items = append(items, contentItem{Type: "audio_url", AudioURL: &urlRef{URL: v}, Role: "reference_audio"})
	}
	if r.DraftTaskID != "" {
		id := r.DraftTaskID
		if draftUpstreamID != "" {
			id = draftUpstreamID
		}
		items = append(items, contentItem{Type: "draft_task", DraftTask: &draftTask{ID: id}})
	}
	return items, nil
}

// inputURL returns what to send for one input URL (upstream.Inputs.URL),
// but videos, which Ark takes by URL only, never go inline.
func (k *Kind) inputURL(ctx context.Context, field, kind, u string) (string, error) {
	if kind == upstream.InputVideo {
		if err := k.videoProblem(field, u); err != nil {
			return "", err
		}
	}
	return k.inputs.URL(ctx, field, kind, u)
}

// createBody builds the body for one channel: every field of the normalized
// request that is set (Normalize cleared what the model does not take), the
// marker, the callback, and the remaining execution window.
func (k *Kind) createBody(t *task.Task, upstreamModel string, content []contentItem, now time.Time) ([]byte, error) {
	r := &t.Request
	b := createBody{
		Model:           upstreamModel,
		Content:         content,
		ReturnLastFrame: r.ReturnLastFrame,
		GenerateAudio:   r.GenerateAudio,
		Draft:           r.Draft,
		Resolution:      r.Resolution,
		Ratio:           r.Ratio,
		Duration:        r.Duration,
		Frames:          r.Frames,
		Seed:            r.Seed,
		CameraFixed:     r.CameraFixed,
		Watermark:       r.Watermark,
		Priority:        r.Priority,
	}
	if r.ServiceTier != "" && r.ServiceTier != task.TierDefault {
		b.ServiceTier = r.ServiceTier // "default" is the upstream's default, and 2.x refuses the field
	}
	if r.WebSearch {
		b.Tools = []tool{{Type: "web_search"}}
	}
	// In the upstream's spelling (edit, extend); the defaults (mp4, auto) go
	// unsaid: models without the fields refuse them.
	if f := strings.ToLower(r.OutputFormat); f != "" && f != "mp4" {
		b.OutputFormat = f
	}
	if k := task.ReferenceTaskTypeOf(r); k != "" && k != "auto" {
		b.OmniReferenceTaskType = k
	}
	b.SafetyIdentifier = r.SafetyIdentifier
	mk := markerOf(t)
	if mk.safety != "" {
		b.SafetyIdentifier = mk.safety
	}
	if mk.seed != nil {
		b.Seed = mk.seed
	}
	eea := upstream.ExecutionWindow(t, now)
	b.ExecutionExpiresAfter = &eea
	if k.callbacks() {
		b.CallbackURL = k.callbackURL(t.ID)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode create body: %w", err)
	}
	if len(data) > arkproto.MaxBody {
		return nil, task.Errorf(task.CodeInvalidParameter, "content",
			"the request is %d MB with its images inline, more than the upstream's 64 MB: use fewer or smaller images, or set SEEDGATE_PUBLIC_URL to a public address so images go by URL",
			len(data)>>20)
	}
	return data, nil
}

// Validate implements upstream.Validator: refuse at create what could never
// be sent upstream (videos Ark cannot fetch), so the client gets a 400 now
// rather than a failed task later. Images and audio always find a way.
func (k *Kind) Validate(_ context.Context, _ *routing.Channel, r *task.Request) error {
	for i, u := range r.ReferenceVideos {
		if err := k.videoProblem(fmt.Sprintf("reference_videos[%d]", i), u); err != nil {
			return err
		}
	}
	return nil
}

// videoProblem says why a reference video cannot go upstream, if it cannot.
func (k *Kind) videoProblem(field, u string) error {
	if media.IsDataURL(u) {
		return task.Errorf(task.CodeInvalidParameter, field,
			"%s is a data: URL, but Ark takes reference videos by URL only: upload the video and pass its URL", field)
	}
	if k.inputs.Public {
		return nil
	}
	if _, ok := k.inputs.GatewayFile(u); ok {
		return task.Errorf(task.CodeInvalidParameter, field,
			"%s is a file stored in the gateway, but SEEDGATE_PUBLIC_URL (%s) is not reachable from the internet and Ark takes reference videos by URL only: "+
				"set SEEDGATE_PUBLIC_URL to a public address of the gateway, or pass a public video URL", field, k.cfg.PublicURL)
	}
	return nil
}
