package ark

// CreateBody is the create call's body as a client sends it. Pointers and
// omitempty leave out what the task did not set, so the upstream applies its
// own defaults exactly as it documents them. The server side decodes the same
// JSON with DecodeCreate, which names the field at fault in every error.
type CreateBody struct {
	Model                 string        `json:"model"`
	Content               []ContentItem `json:"content"`
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
	Tools                 []Tool        `json:"tools,omitempty"`
	SafetyIdentifier      string        `json:"safety_identifier,omitempty"`
	Priority              *int          `json:"priority,omitempty"`
	// OutputFormat (mp4, mov) and OmniReferenceTaskType (auto, reference,
	// edit, extend): 2.5's fields, sent only when set.
	OutputFormat          string `json:"output_format,omitempty"`
	OmniReferenceTaskType string `json:"omni_reference_task_type,omitempty"`
}

// ContentItem is one item of the create body's content[]: text, image_url,
// video_url, audio_url or draft_task.
type ContentItem struct {
	Type      string        `json:"type"`
	Text      string        `json:"text,omitempty"`
	ImageURL  *URLRef       `json:"image_url,omitempty"`
	VideoURL  *URLRef       `json:"video_url,omitempty"`
	AudioURL  *URLRef       `json:"audio_url,omitempty"`
	DraftTask *DraftTaskRef `json:"draft_task,omitempty"`
	Role      string        `json:"role,omitempty"`
}

// URLRef is {"url": "…"}.
type URLRef struct {
	URL string `json:"url"`
}

// DraftTaskRef is {"id": "cgt-…"}.
type DraftTaskRef struct {
	ID string `json:"id"`
}

// Tool is one of the create body's tools ({"type":"web_search"}).
type Tool struct {
	Type string `json:"type"`
}

// Image and media roles.
const (
	RoleFirstFrame     = "first_frame"
	RoleLastFrame      = "last_frame"
	RoleReferenceImage = "reference_image"
	RoleReferenceVideo = "reference_video"
	RoleReferenceAudio = "reference_audio"
)
