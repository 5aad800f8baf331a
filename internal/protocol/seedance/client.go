package seedance

import (
	"encoding/json"
	"strings"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// The client side: the create body a caller sends, and the codecs of the
// answers it reads. They believe an answer entirely or not at all.

// Request is the create body as a client sends it: Ark's client body with
// the camera switch spelled as the seed spells it ("camerafixed"). Its own
// camera_fixed is left unset.
type Request struct {
	ark.CreateBody
	CameraFixed *bool `json:"camerafixed,omitempty"`
}

// Accepted is the create answer with callback_url: {"task_id":…}, the id the
// callbacks and the retrieve calls name the task by.
type Accepted struct {
	TaskID string `json:"task_id"`
}

// DecodeAccepted reads a create answer: {"task_id"} when callback_url was
// given, else the envelope (the call waited); either way its task_id.
func DecodeAccepted(data []byte) (string, error) {
	var a Accepted
	if err := wire.DecodeAnswer(data, &a); err != nil {
		return "", err
	}
	if strings.TrimSpace(a.TaskID) == "" {
		return "", wire.Malformed("create answer without a task_id")
	}
	return a.TaskID, nil
}

// TaskStatus is the task's status of d; ok is false for a word the dialect
// does not use ("not_found" included).
func (d *Data) TaskStatus() (task.Status, bool) {
	st := task.Status(d.Status)
	return st, st.Valid()
}

// validate checks what every task must say: an id, a known status, and for a
// success a video URL.
func (d *Data) validate() error {
	if strings.TrimSpace(d.TaskID) == "" {
		return wire.Malformed("task without a task_id")
	}
	st, ok := d.TaskStatus()
	if !ok {
		return wire.Malformed("task %s has unknown status %q", d.TaskID, d.Status)
	}
	if st == task.StatusSucceeded && strings.TrimSpace(d.VideoURL) == "" {
		return wire.Malformed("task %s succeeded without a video_url", d.TaskID)
	}
	return nil
}

// DecodeEnvelope reads the envelope of one task: a retrieve answer or a
// callback's body.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	var e Envelope
	if err := wire.DecodeAnswer(data, &e); err != nil {
		return nil, err
	}
	if err := e.Data.validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// DecodeList reads the answer of a retrieve of several ids: the tasks in the
// order asked, "not_found" for ids the upstream does not know. Any other
// entry that is not a valid task makes the whole answer malformed.
func DecodeList(data []byte) ([]Data, error) {
	var a ListAnswer
	if err := wire.DecodeAnswer(data, &a); err != nil {
		return nil, err
	}
	if a.Data == nil {
		return nil, wire.Malformed("list answer without data")
	}
	for i := range a.Data {
		if a.Data[i].Status == "not_found" {
			continue
		}
		if err := a.Data[i].validate(); err != nil {
			return nil, err
		}
	}
	return a.Data, nil
}

// DecodeError reads an error answer {"success":false,"error":{"code","message","field"}};
// ok is false when the body is not that shape. field is named as the task's
// request names it where the dialect's name says which ("camerafixed"); a
// field of content[] stays "content".
func DecodeError(data []byte) (code, field, message string, ok bool) {
	var a struct {
		Success *bool     `json:"success"`
		Error   *APIError `json:"error"`
	}
	if json.Unmarshal(data, &a) != nil || a.Error == nil || a.Error.Code == "" || a.Success == nil || *a.Success {
		return "", "", "", false
	}
	f := a.Error.Field
	if f == "camerafixed" {
		f = "camera_fixed"
	}
	return a.Error.Code, f, a.Error.Message, true
}
