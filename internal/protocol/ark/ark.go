// Package ark is the wire protocol of the Volcengine Ark / BytePlus ModelArk
// content generation task API (docs/upstream-ark.md): the task object, the
// create body and its content items, the list answer and the error envelope,
// with codecs for both directions. The ark dialect serves it, the ark provider
// calls it and the emulator imitates it, all through these types, so the three
// cannot drift apart. No HTTP handlers live here.
package ark

// Task is Ark's task object: the get answer, the list items and the callback
// body. Seed is absent until known; Draft, Duration, Frames and GenerateAudio
// are absent when the task did not set them.
type Task struct {
	ID                    string       `json:"id"`
	Model                 string       `json:"model"`
	Status                string       `json:"status"`
	Error                 *TaskError   `json:"error"`
	Content               *TaskContent `json:"content,omitempty"`
	Usage                 *Usage       `json:"usage,omitempty"`
	CreatedAt             int64        `json:"created_at"`
	UpdatedAt             int64        `json:"updated_at"`
	Seed                  *int64       `json:"seed,omitempty"`
	Resolution            string       `json:"resolution"`
	Ratio                 string       `json:"ratio"`
	Duration              *int         `json:"duration,omitempty"`
	Frames                *int         `json:"frames,omitempty"`
	FramesPerSecond       int          `json:"framespersecond"`
	GenerateAudio         *bool        `json:"generate_audio,omitempty"`
	Draft                 *bool        `json:"draft,omitempty"`
	DraftTaskID           string       `json:"draft_task_id,omitempty"`
	ServiceTier           string       `json:"service_tier"`
	ExecutionExpiresAfter int          `json:"execution_expires_after"`
	SafetyIdentifier      string       `json:"safety_identifier,omitempty"`
}

// TaskError is a failed task's reason, with Ark's code.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TaskContent holds a succeeded task's result URLs (the task object's
// "content", not to be confused with the create body's Content).
type TaskContent struct {
	VideoURL     string `json:"video_url"`
	LastFrameURL string `json:"last_frame_url,omitempty"`
}

// Usage is what a succeeded task is billed.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// CreateAnswer is the create call's answer: {"id":"cgt-…"}.
type CreateAnswer struct {
	ID string `json:"id"`
}

// ListAnswer is the list call's answer: {"items":[…],"total":n}.
type ListAnswer struct {
	Items []Task `json:"items"`
	Total int    `json:"total"`
}

// OutputFPS: every Seedance output is 24 fps (the task object's framespersecond).
const OutputFPS = 24
