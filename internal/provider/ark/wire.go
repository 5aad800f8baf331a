package ark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
)

// createBody is the create call's body (spec/ark.md "Create body"). Pointers
// and omitempty leave out what the task did not set, so the upstream applies
// its own defaults exactly as it documents them.
type createBody struct {
	Model                 string        `json:"model"`
	Content               []contentItem `json:"content"`
	CallbackURL           string        `json:"callback_url,omitempty"`
	ReturnLastFrame       *bool         `json:"return_last_frame,omitempty"`
	ServiceTier           string        `json:"service_tier,omitempty"`
	ExecutionExpiresAfter *int          `json:"execution_expires_after,omitempty"`
	GenerateAudio         *bool         `json:"generate_audio,omitempty"`
	Draft                 *bool         `json:"draft,omitempty"`
	Resolution            string        `json:"resolution,omitempty"`
	Ratio                 string        `json:"ratio,omitempty"`
	Duration              *int          `json:"duration,omitempty"`
	Frames                *int          `json:"frames,omitempty"`
	Seed                  *int64        `json:"seed,omitempty"`
	CameraFixed           *bool         `json:"camera_fixed,omitempty"`
	Watermark             *bool         `json:"watermark,omitempty"`
	Tools                 []tool        `json:"tools,omitempty"`
	SafetyIdentifier      string        `json:"safety_identifier,omitempty"`
	Priority              *int          `json:"priority,omitempty"`
}

type contentItem struct {
	Type      string     `json:"type"`
	Text      string     `json:"text,omitempty"`
	ImageURL  *urlRef    `json:"image_url,omitempty"`
	VideoURL  *urlRef    `json:"video_url,omitempty"`
	AudioURL  *urlRef    `json:"audio_url,omitempty"`
	DraftTask *draftTask `json:"draft_task,omitempty"`
	Role      string     `json:"role,omitempty"`
}

type urlRef struct {
	URL string `json:"url"`
}

type draftTask struct {
	ID string `json:"id"`
}

type tool struct {
	Type string `json:"type"`
}

// Task is the upstream task object (get, list items, callback bodies).
type Task struct {
	ID                    string     `json:"id"`
	Model                 string     `json:"model"`
	Status                string     `json:"status"`
	Error                 *TaskError `json:"error"`
	Content               *Content   `json:"content"`
	Usage                 *Usage     `json:"usage"`
	CreatedAt             int64      `json:"created_at"`
	UpdatedAt             int64      `json:"updated_at"`
	Seed                  int64      `json:"seed"`
	Resolution            string     `json:"resolution"`
	Ratio                 string     `json:"ratio"`
	Duration              *int       `json:"duration"`
	Frames                *int       `json:"frames"`
	FramesPerSecond       int        `json:"framespersecond"`
	GenerateAudio         *bool      `json:"generate_audio"`
	Draft                 *bool      `json:"draft"`
	DraftTaskID           string     `json:"draft_task_id"`
	ServiceTier           string     `json:"service_tier"`
	ExecutionExpiresAfter int        `json:"execution_expires_after"`
	SafetyIdentifier      string     `json:"safety_identifier"`
}

// TaskError is a failed task's reason.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Content holds a succeeded task's result URLs.
type Content struct {
	VideoURL     string `json:"video_url"`
	LastFrameURL string `json:"last_frame_url"`
}

// Usage is what a succeeded task was billed.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

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
	if err := t.validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

func (t *Task) validate() error {
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
type errorEnvelope struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
		Type    string `json:"type"`
	} `json:"error"`
}

// decodeAPIError reads an error answer; ok is false when the body is not Ark's
// envelope (a proxy's HTML page, say).
func decodeAPIError(data []byte) (code, message, param string, ok bool) {
	var e errorEnvelope
	if json.Unmarshal(data, &e) != nil || e.Error == nil || e.Error.Code == "" {
		return "", "", "", false
	}
	return e.Error.Code, e.Error.Message, e.Error.Param, true
}
