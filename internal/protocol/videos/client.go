package videos

import (
	"encoding/json"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// The client side's codecs: what a caller of this dialect decodes from its
// answers. They believe an answer entirely or not at all.

// DecodeCreated reads the create answer and returns the task id.
func DecodeCreated(data []byte) (string, error) {
	var a CreateAnswer
	if err := wire.DecodeAnswer(data, &a); err != nil {
		return "", err
	}
	if len(a.Data) != 1 || strings.TrimSpace(a.Data[0].TaskID) == "" {
		return "", wire.Malformed("create answer without exactly one task id")
	}
	return a.Data[0].TaskID, nil
}

// TaskStatus maps a wire status to the task's: submitted is queued,
// processing running. ok is false for a word the dialect does not use.
func (s *TaskStatus) TaskStatus() (st task.Status, ok bool) {
	switch s.Status {
	case "submitted":
		return task.StatusQueued, true
	case "processing":
		return task.StatusRunning, true
	case "succeeded", "failed", "cancelled", "expired":
		return task.Status(s.Status), true
	}
	return "", false
}

// DecodeStatus reads a status answer and checks what every task must say: an
// id, a known status, and for a success a video URL.
func DecodeStatus(data []byte) (*TaskStatus, error) {
	var a StatusAnswer
	if err := wire.DecodeAnswer(data, &a); err != nil {
		return nil, err
	}
	s := &a.Data
	if strings.TrimSpace(s.TaskID) == "" {
		return nil, wire.Malformed("status answer without a task_id")
	}
	st, ok := s.TaskStatus()
	if !ok {
		return nil, wire.Malformed("task %s has unknown status %q", s.TaskID, s.Status)
	}
	if st == task.StatusSucceeded && strings.TrimSpace(s.VideoURL) == "" {
		return nil, wire.Malformed("task %s succeeded without a video_url", s.TaskID)
	}
	return s, nil
}

// DecodeError reads an error answer {"error":{"code":<status>,"message","type","param"}};
// ok is false when the body is not that shape. code is the error's type, param
// the field as the task's request names it (NormalizeParam).
func DecodeError(data []byte) (code, param, message string, ok bool) {
	var env struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(data, &env) != nil || env.Error == nil || env.Error.Type == "" {
		return "", "", "", false
	}
	return env.Error.Type, NormalizeParam(env.Error.Param), env.Error.Message, true
}

// NormalizeParam is Param's inverse: a field as this dialect's clients write
// it, as the task's request names it. image_urls and image_with_roles carry
// both frames; they are read as the first.
func NormalizeParam(p string) string {
	switch p {
	case "aspect_ratio":
		return "ratio"
	case "audio":
		return "generate_audio"
	case "camerafixed":
		return "camera_fixed"
	case "image_urls", "image_with_roles":
		return "first_frame"
	}
	return p
}
