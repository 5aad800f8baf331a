package jobs

import (
	"encoding/json"
	"strings"

	"github.com/seedgate/seedgate/internal/wire"
)

// The client side's codecs: what a caller of the native API decodes from its
// answers. They believe an answer entirely or not at all.

// Job statuses on the wire.
const (
	StatusProcessing = "processing"
	StatusSucceeded  = "succeeded"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusExpired    = "expired"
)

// DecodeJob decodes a job object and checks what every job must say: an id,
// a known status, and for a success a video URL.
func DecodeJob(data []byte) (*Job, error) {
	var j Job
	if err := wire.DecodeAnswer(data, &j); err != nil {
		return nil, err
	}
	if strings.TrimSpace(j.ID) == "" {
		return nil, wire.Malformed("job without an id")
	}
	switch j.Status {
	case StatusProcessing, StatusFailed, StatusCancelled, StatusExpired:
	case StatusSucceeded:
		if len(j.Output.Videos) == 0 || strings.TrimSpace(j.Output.Videos[0].URL) == "" {
			return nil, wire.Malformed("job %s succeeded without a video url", j.ID)
		}
	default:
		return nil, wire.Malformed("job %s has unknown status %q", j.ID, j.Status)
	}
	return &j, nil
}

// DecodeError reads an error answer {"error":{"code","message","field"}}; ok
// is false when the body is not that shape. field is named as the task's
// request names it (NormalizeField).
func DecodeError(data []byte) (code, field, message string, ok bool) {
	var env struct {
		Error *ErrorBody `json:"error"`
	}
	if json.Unmarshal(data, &env) != nil || env.Error == nil || env.Error.Code == "" {
		return "", "", "", false
	}
	return env.Error.Code, NormalizeField(env.Error.Field), env.Error.Message, true
}

// NormalizeField is Field's inverse: a field as this API's clients write it
// ("input.aspect_ratio"), as the task's request names it ("ratio").
func NormalizeField(f string) string {
	rest, ok := strings.CutPrefix(f, "input.")
	if !ok {
		return f
	}
	switch rest {
	case "first_frame_url":
		return "first_frame"
	case "last_frame_url":
		return "last_frame"
	case "aspect_ratio":
		return "ratio"
	}
	for _, p := range [][2]string{{"reference_image_urls", "reference_images"}, {"reference_video_urls", "reference_videos"}, {"reference_audio_urls", "reference_audio"}} {
		if tail, ok := strings.CutPrefix(rest, p[0]); ok {
			return p[1] + tail
		}
	}
	return rest
}
