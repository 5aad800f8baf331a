package ark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
)

// The client side's codecs: what a caller of the API decodes from its answers.
// They believe an answer entirely or not at all.

// ErrMalformed marks an answer that is not what the API promises.
var ErrMalformed = errors.New("malformed answer")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
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
// (truncated, malformed, an error envelope) is an error wrapping ErrMalformed.
func DecodeTask(data []byte) (*Task, error) {
	var t Task
	if err := decodeStrict(data, &t); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks what every task object must say: an id, a known status,
// and for a success a video URL.
func (t *Task) Validate() error {
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

// DecodeList decodes a list answer. Items that are not valid task objects make
// the whole answer malformed: a page is believed entirely or not at all.
func DecodeList(data []byte) ([]*Task, int, error) {
	var a struct {
		Items []json.RawMessage `json:"items"`
		Total *int              `json:"total"`
	}
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

// DecodeCreated decodes the create answer {"id":"cgt-…"}.
func DecodeCreated(data []byte) (string, error) {
	var a CreateAnswer
	if err := decodeStrict(data, &a); err != nil {
		return "", err
	}
	if strings.TrimSpace(a.ID) == "" {
		return "", malformed("create answer without an id")
	}
	return a.ID, nil
}
