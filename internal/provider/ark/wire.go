package ark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// The wire types are the protocol's (internal/protocol/ark), shared with the
// ark dialect and the emulator.
type (
	createBody  = arkproto.CreateBody
	contentItem = arkproto.ContentItem
	urlRef      = arkproto.URLRef
	draftTask   = arkproto.DraftTaskRef
	tool        = arkproto.Tool
	// Task is the upstream task object (get, list items, callback bodies).
	Task      = arkproto.Task
	TaskError = arkproto.TaskError
	Content   = arkproto.TaskContent
	Usage     = arkproto.Usage
)

// maxAnswerBytes bounds what is read from an API answer: a page of 500 task
// objects is well under 1 MB.
const maxAnswerBytes = 8 << 20

// errMalformed marks an answer that is not what the API promises.
var errMalformed = errors.New("malformed answer")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// decodeStrict decodes one JSON value into v and refuses trailing data, so a
// truncated or doubled body is never half-believed.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return malformed("%v", err)
	}
	if dec.More() {
		return malformed("trailing data after the JSON value")
	}
	return nil
}

// DecodeTask decodes a task object and checks it says what a task object must:
// an id and a known status, and for a success a video URL. Anything else
// (truncated, malformed, an error envelope) is an error wrapping errMalformed.
func DecodeTask(data []byte) (*Task, error) {
	var t Task
	if err := decodeStrict(data, &t); err != nil {
		return nil, err
	}
	if err := validate(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

func validate(t *Task) error {
	if strings.TrimSpace(t.ID) == "" {
		return malformed("task object without an id")
	}
	st := task.Status(t.Status)
	if !st.Valid() {
		return malformed("task %s has unknown status %q", t.ID, t.Status)
	}
	if st == task.StatusSucceeded && (t.Content == nil || t.Content.VideoURL == "") {
		return malformed("task %s succeeded without a video_url", t.ID)
	}
	return nil
}

// listAnswer is the list endpoint's answer.
type listAnswer struct {
	Items []json.RawMessage `json:"items"`
	Total *int              `json:"total"`
}

// DecodeList decodes a list answer. Items that are not valid task objects make
// the whole answer malformed: a page is believed entirely or not at all.
func DecodeList(data []byte) ([]*Task, int, error) {
	var a listAnswer
	if err := decodeStrict(data, &a); err != nil {
		return nil, 0, err
	}
	if a.Items == nil || a.Total == nil {
		return nil, 0, malformed("list answer without items or total")
	}
	out := make([]*Task, 0, len(a.Items))
	for i, raw := range a.Items {
		t, err := DecodeTask(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("item %d: %w", i, err)
		}
		out = append(out, t)
	}
	return out, *a.Total, nil
}

// decodeCreated decodes the create answer {"id":"cgt-…"}.
func decodeCreated(data []byte) (string, error) {
	var a struct {
		ID string `json:"id"`
	}
	if err := decodeStrict(data, &a); err != nil {
		return "", err
	}
	if strings.TrimSpace(a.ID) == "" {
		return "", malformed("create answer without an id")
	}
	return a.ID, nil
}

// errorEnvelope is Ark's error answer.
type errorEnvelope = arkproto.ErrorEnvelope

// decodeAPIError reads an error answer; ok is false when the body is not Ark's
// envelope (a proxy's HTML page, say).
func decodeAPIError(data []byte) (code, message, param string, ok bool) {
	var e errorEnvelope
	if json.Unmarshal(data, &e) != nil || e.Error == nil || e.Error.Code == "" {
		return "", "", "", false
	}
	return e.Error.Code, e.Error.Message, e.Error.Param, true
}
