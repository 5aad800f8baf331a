package ark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Content is Ark's content[] array: text, image_url, video_url, audio_url and
// draft_task items. The seedance and responses dialects send the same items
// (in content[] and input[]), so they decode through ParseContent too.
//
// Items stay raw until ParseContent so that every error can name the item
// ("content[1].image_url").
type Content []json.RawMessage

// rawItem is a content item as the server decodes it: URLs stay raw so that
// a bare string can be told apart from an object in the error message.
type rawItem struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text"`
	ImageURL  json.RawMessage `json:"image_url"`
	VideoURL  json.RawMessage `json:"video_url"`
	AudioURL  json.RawMessage `json:"audio_url"`
	DraftTask *struct {
		ID string `json:"id"`
	} `json:"draft_task"`
	Role string `json:"role"`
}

// ParseContent turns content items into the inputs of a request: the prompt,
// first/last frames, reference images/videos/audio and the draft task. field is
// the body's name for the array ("content", "input"), used in error fields.
//
// Image roles follow Ark: one image is the first frame (role optional); two are
// first + last (roles required, except that an image without a role beside one
// with a role takes the other role); reference images all say reference_image.
func ParseContent(items Content, field string) (task.Request, error) {
	var r task.Request
	if len(items) == 0 {
		return r, task.Errorf(task.CodeMissingParameter, field, "%s is required: an array of items such as {\"type\":\"text\",\"text\":\"…\"}", field)
	}
	type image struct {
		url, role, field string
	}
	var images []image
	texts := 0
	for i, raw := range items {
		at := fmt.Sprintf("%s[%d]", field, i)
		var it rawItem
		if err := wire.Unmarshal(raw, &it, false); err != nil {
			te := task.AsError(err)
			if te.Code == task.CodeInvalidJSON || te.Field == "" {
				return r, task.Errorf(task.CodeInvalidParameter, at, "%s must be an object like {\"type\":\"text\",\"text\":\"…\"}", at)
			}
			return r, task.Errorf(task.CodeInvalidParameter, at+"."+te.Field, "%s.%s", at, te.Message)
		}
		switch it.Type {
		case "text":
			if it.Text == nil {
				return r, task.Errorf(task.CodeMissingParameter, at+".text", "%s is of type text but has no text", at)
			}
			texts++
			if texts > 1 {
				return r, task.Errorf(task.CodeInvalidParameter, at, "only one text item is allowed in %s", field)
			}
			r.Prompt = *it.Text
		case "image_url":
			u, err := urlObject(it.ImageURL, at+".image_url", "image")
			if err != nil {
				return r, err
			}
			switch it.Role {
			case "", RoleFirstFrame, RoleLastFrame, RoleReferenceImage:
			default:
				return r, task.Errorf(task.CodeInvalidParameter, at+".role",
					"%s.role %q is not valid for an image: use first_frame, last_frame or reference_image", at, it.Role)
			}
			images = append(images, image{u, it.Role, at})
		case "video_url":
			u, err := urlObject(it.VideoURL, at+".video_url", "video")
			if err != nil {
				return r, err
			}
			if it.Role != "" && it.Role != RoleReferenceVideo {
				return r, task.Errorf(task.CodeInvalidParameter, at+".role", "%s.role %q is not valid for a video: use reference_video", at, it.Role)
			}
			r.ReferenceVideos = append(r.ReferenceVideos, u)
		case "audio_url":
			u, err := urlObject(it.AudioURL, at+".audio_url", "audio")
			if err != nil {
				return r, err
			}
			if it.Role != "" && it.Role != RoleReferenceAudio {
				return r, task.Errorf(task.CodeInvalidParameter, at+".role", "%s.role %q is not valid for audio: use reference_audio", at, it.Role)
			}
			r.ReferenceAudio = append(r.ReferenceAudio, u)
		case "draft_task":
			if it.DraftTask == nil || strings.TrimSpace(it.DraftTask.ID) == "" {
				return r, task.Errorf(task.CodeMissingParameter, at+".draft_task", "%s needs draft_task {\"id\":\"cgt-…\"}", at)
			}
			if r.DraftTaskID != "" {
				return r, task.Errorf(task.CodeInvalidParameter, at, "only one draft_task item is allowed in %s", field)
			}
			r.DraftTaskID = it.DraftTask.ID
		case "":
			return r, task.Errorf(task.CodeMissingParameter, at+".type", "%s has no type: use text, image_url, video_url, audio_url or draft_task", at)
		default:
			return r, task.Errorf(task.CodeInvalidParameter, at+".type", "%s.type %q is not supported: use text, image_url, video_url, audio_url or draft_task", at, it.Type)
		}
	}

	refs := 0
	for _, im := range images {
		if im.role == RoleReferenceImage {
			refs++
		}
	}
	switch {
	case refs > 0 && refs != len(images):
		return r, task.Errorf(task.CodeInvalidParameter, field,
			"reference images cannot be combined with first or last frames: give every image the role reference_image, or use first_frame/last_frame")
	case refs > 0:
		for _, im := range images {
			r.ReferenceImages = append(r.ReferenceImages, im.url)
		}
	case len(images) == 1:
		if images[0].role == RoleLastFrame {
			return r, task.Errorf(task.CodeInvalidParameter, images[0].field+".role", "a last_frame needs a first_frame beside it")
		}
		r.FirstFrame = images[0].url
	case len(images) == 2:
		a, b := images[0], images[1]
		// One role given: the other image takes the other role.
		switch {
		case a.role == "" && b.role != "":
			a.role = otherRole(b.role)
		case b.role == "" && a.role != "":
			b.role = otherRole(a.role)
		}
		for _, im := range []image{a, b} {
			switch {
			case im.role == RoleFirstFrame && r.FirstFrame == "":
				r.FirstFrame = im.url
			case im.role == RoleLastFrame && r.LastFrame == "":
				r.LastFrame = im.url
			default:
				return r, task.Errorf(task.CodeInvalidParameter, im.field+".role",
					"two images need the roles first_frame and last_frame (or reference_image for both)")
			}
		}
	case len(images) > 2:
		return r, task.Errorf(task.CodeInvalidParameter, images[2].field+".role",
			"%d images given: more than two images must all have the role reference_image", len(images))
	}
	return r, nil
}

func otherRole(role string) string {
	if role == RoleFirstFrame {
		return RoleLastFrame
	}
	return RoleFirstFrame
}

// urlObject reads {"url": "…"}. A bare string is the commonest mistake (seed
// 003 documents it as a 400), so its message shows the object form.
func urlObject(raw json.RawMessage, field, kind string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", task.Errorf(task.CodeMissingParameter, field, "%s is missing: give {\"url\": \"https://…\"}", field)
	}
	if raw[0] == '"' {
		example := `{"url": "https://…"}`
		if kind == "image" {
			example = `{"url": "https://…/image.png"} or {"url": "data:image/png;base64,…"}`
		}
		return "", task.Errorf(task.CodeInvalidParameter, field,
			"%s must be an object %s, not a string", field, example)
	}
	var ref struct {
		URL *string `json:"url"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		return "", task.Errorf(task.CodeInvalidParameter, field, "%s must be an object {\"url\": \"https://…\"}", field)
	}
	if ref.URL == nil || strings.TrimSpace(*ref.URL) == "" {
		return "", task.Errorf(task.CodeInvalidParameter, field+".url", "%s.url is empty: give the %s's URL", field, kind)
	}
	return strings.TrimSpace(*ref.URL), nil
}

// Params are the create body's top-level generation fields as Ark spells them.
// The seedance and responses dialects take the same fields (seedance adds
// "camerafixed"), so they embed Params.
type Params struct {
	CallbackURL           *string `json:"callback_url"`
	ReturnLastFrame       *bool   `json:"return_last_frame"`
	ServiceTier           *string `json:"service_tier"`
	ExecutionExpiresAfter *int    `json:"execution_expires_after"`
	GenerateAudio         *bool   `json:"generate_audio"`
	Draft                 *bool   `json:"draft"`
	Resolution            *string `json:"resolution"`
	Ratio                 *string `json:"ratio"`
	Duration              *int    `json:"duration"`
	Frames                *int    `json:"frames"`
	Seed                  *int64  `json:"seed"`
	CameraFixed           *bool   `json:"camera_fixed"`
	Watermark             *bool   `json:"watermark"`
	Tools                 []struct {
		Type string `json:"type"`
	} `json:"tools"`
	SafetyIdentifier      *string `json:"safety_identifier"`
	Priority              *int    `json:"priority"`
	OutputFormat          *string `json:"output_format"`
	OmniReferenceTaskType *string `json:"omni_reference_task_type"`
}

// ParamsError fixes the field of a decoding error in Params: encoding/json
// names fields of an embedded struct with the struct's Go name ("Params.duration").
func ParamsError(err error) error {
	var te *task.Error
	if errors.As(err, &te) && strings.Contains(te.Field, "Params.") {
		c := *te
		c.Field = strings.ReplaceAll(c.Field, "Params.", "")
		c.Message = strings.ReplaceAll(c.Message, "Params.", "")
		return &c
	}
	return err
}

// Apply copies the given fields into r. An empty callback_url means none (seed
// 000 sends "").
func (p *Params) Apply(r *task.Request) error {
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	r.CallbackURL = strings.TrimSpace(str(p.CallbackURL))
	r.ReturnLastFrame, r.GenerateAudio, r.Draft = p.ReturnLastFrame, p.GenerateAudio, p.Draft
	r.ServiceTier, r.ExecutionExpiresAfter = str(p.ServiceTier), p.ExecutionExpiresAfter
	r.Resolution, r.Ratio = str(p.Resolution), str(p.Ratio)
	r.Duration, r.Frames, r.Seed = p.Duration, p.Frames, p.Seed
	r.CameraFixed, r.Watermark = p.CameraFixed, p.Watermark
	r.SafetyIdentifier, r.Priority = str(p.SafetyIdentifier), p.Priority
	r.OutputFormat, r.ReferenceTaskType = strings.TrimSpace(str(p.OutputFormat)), strings.TrimSpace(str(p.OmniReferenceTaskType))
	for i, t := range p.Tools {
		if t.Type != "web_search" {
			return task.Errorf(task.CodeInvalidParameter, fmt.Sprintf("tools[%d].type", i), "tools[%d].type %q is not supported: only web_search", i, t.Type)
		}
		r.WebSearch = true
	}
	return nil
}

// createRequest is the create body as the server decodes it: Content stays raw
// until ParseContent, and Params tell an absent field from a zero one.
type createRequest struct {
	Model   string  `json:"model"`
	Content Content `json:"content"`
	Params
}

// DecodeCreateRequest is DecodeCreate reading r's body within maxBytes.
func DecodeCreateRequest(w http.ResponseWriter, r *http.Request, maxBytes int64) (model string, req task.Request, err error) {
	var b createRequest
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: maxBytes}); err != nil {
		return "", task.Request{}, ParamsError(err)
	}
	return b.request()
}

func (b *createRequest) request() (string, task.Request, error) {
	if strings.TrimSpace(b.Model) == "" {
		return "", task.Request{}, task.Errorf(task.CodeMissingParameter, "model", "model is required")
	}
	req, err := ParseContent(b.Content, "content")
	if err != nil {
		return "", task.Request{}, err
	}
	if err := b.Params.Apply(&req); err != nil {
		return "", task.Request{}, err
	}
	return b.Model, req, nil
}
