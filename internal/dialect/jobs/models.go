package jobs

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// modelAnswer describes one catalog model: what the console's playground and
// clients need to offer only valid choices.
type modelAnswer struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Name              string         `json:"name"`
	Family            string         `json:"family"`
	VolcengineID      string         `json:"volcengine_id"`
	BytePlusID        string         `json:"byteplus_id"`
	Aliases           []string       `json:"aliases"`
	Resolutions       []string       `json:"resolutions"`
	DefaultResolution string         `json:"default_resolution"`
	Ratios            []string       `json:"ratios"`
	DefaultRatio      defaultRatios  `json:"default_ratio"`
	Durations         modelDurations `json:"durations"`
	Modes             []string       `json:"modes"`
	Inputs            modelInputs    `json:"inputs"`
	Features          modelFeatures  `json:"features"`
	MaxPromptChars    int            `json:"max_prompt_chars"` // longest prompt, in characters
	RPM               int            `json:"rpm"`
	Concurrency       int            `json:"concurrency"`
	// OutputFormats are the containers output_format takes, the default first.
	OutputFormats []string `json:"output_formats"`
	// AdaptiveRequired are the modes that take ratio adaptive only.
	AdaptiveRequired []string     `json:"adaptive_required"`
	Billing          modelBilling `json:"billing"`
	// Source is where the model's values come from: embedded, or the
	// operator's catalog file (SEEDGATE_CATALOG_FILE).
	Source string `json:"source"`
}

type modelBilling struct {
	DraftPercent      int  `json:"draft_percent"`
	InputVideo        bool `json:"input_video"`
	InputVideoSeconds int  `json:"input_video_seconds"`
}

type defaultRatios struct {
	Text      string `json:"text"`
	Image     string `json:"image"`
	Reference string `json:"reference"`
}

type modelDurations struct {
	Min     int  `json:"min"`
	Max     int  `json:"max"`
	Default int  `json:"default"`
	Auto    bool `json:"auto"`   // -1: the model chooses
	Frames  bool `json:"frames"` // `frames` may replace duration
}

type modelInputs struct {
	Text               bool `json:"text"`
	FirstFrame         bool `json:"first_frame"`
	LastFrame          bool `json:"last_frame"` // first + last frame
	DraftTask          bool `json:"draft_task"`
	MaxReferenceImages int  `json:"max_reference_images"`
	MaxReferenceVideos int  `json:"max_reference_videos"`
	MaxReferenceAudio  int  `json:"max_reference_audio"`
	MaxReferenceTotal  int  `json:"max_reference_total"` // 0: no cap beyond each kind's
	AudioNeedsVisual   bool `json:"audio_needs_visual"`
	Edit               bool `json:"edit"`
	Extend             bool `json:"extend"`
}

type modelFeatures struct {
	Audio           bool `json:"audio"`
	Draft           bool `json:"draft"`
	Flex            bool `json:"flex"`
	CameraFixed     bool `json:"camera_fixed"`
	ReturnLastFrame bool `json:"return_last_frame"`
	Priority        bool `json:"priority"`
	WebSearch       bool `json:"web_search"`
	Watermark       bool `json:"watermark"` // every model takes it
}

func renderModel(m *task.Model) modelAnswer {
	ratios := []string{}
	if m.TextRatio.Adaptive || m.ImageRatio.Adaptive || m.ReferenceRatio.Adaptive {
		ratios = append(ratios, task.RatioAdaptive)
	}
	ratios = append(ratios, task.FixedRatios...)
	modes := []string{}
	for _, md := range m.Modes() {
		modes = append(modes, string(md))
	}
	aliases := append([]string{}, m.Aliases...)
	required := []string{}
	for _, md := range m.AdaptiveRequired {
		required = append(required, string(md))
	}
	f := m.Features
	return modelAnswer{
		ID: m.ID, Object: "model", Name: m.Name, Family: string(m.Family),
		VolcengineID: m.VolcengineID, BytePlusID: m.BytePlusID, Aliases: aliases,
		Resolutions: append([]string{}, m.Resolutions...), DefaultResolution: m.DefaultResolution,
		Ratios:       ratios,
		DefaultRatio: defaultRatios{Text: m.TextRatio.Default, Image: m.ImageRatio.Default, Reference: m.ReferenceRatio.Default},
		Durations: modelDurations{Min: m.Durations.Min, Max: m.Durations.Max, Default: m.Durations.Default,
			Auto: m.Durations.Auto, Frames: m.Durations.Frames},
		Modes: modes,
		Inputs: modelInputs{Text: m.Inputs.Text, FirstFrame: m.Inputs.FirstFrame, LastFrame: m.Inputs.FirstLast,
			DraftTask: m.Inputs.DraftTask, MaxReferenceImages: m.Inputs.MaxReferenceImages,
			MaxReferenceVideos: m.Inputs.MaxReferenceVideos, MaxReferenceAudio: m.Inputs.MaxReferenceAudio,
			MaxReferenceTotal: m.Inputs.MaxReferenceTotal, AudioNeedsVisual: m.Inputs.AudioNeedsVisual,
			Edit: m.Inputs.Edit, Extend: m.Inputs.Extend},
		Features: modelFeatures{Audio: f.Audio, Draft: f.Draft, Flex: f.Flex, CameraFixed: f.CameraFixed,
			ReturnLastFrame: f.ReturnLastFrame, Priority: f.Priority, WebSearch: f.WebSearch, Watermark: true},
		MaxPromptChars: m.PromptLimit(), RPM: m.RPM, Concurrency: m.Concurrency,
		OutputFormats: append([]string{}, m.OutputFormats...), AdaptiveRequired: required,
		Billing: modelBilling{DraftPercent: m.Billing.DraftPercent, InputVideo: m.Billing.InputVideo,
			InputVideoSeconds: m.Billing.InputVideoSeconds},
		Source: m.Source,
	}
}

// modelList is GET /v1/models's answer.
type modelList struct {
	Object string `json:"object"`
	// CatalogVersion and CatalogSource say which catalog is loaded: its file
	// format version, and "embedded" or "embedded + <file>".
	CatalogVersion int           `json:"catalog_version"`
	CatalogSource  string        `json:"catalog_source"`
	Data           []modelAnswer `json:"data"`
}

// Models is GET /v1/models: the model catalog in force, in catalog order.
func (h *Handler) Models(w http.ResponseWriter, r *http.Request) {
	cat := task.Current()
	out := modelList{Object: "list", CatalogVersion: cat.Version, CatalogSource: cat.Source}
	for _, m := range cat.Models() {
		out.Data = append(out.Data, renderModel(m))
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// Model is GET /v1/models/{id}: one model by any accepted name.
func (h *Handler) Model(w http.ResponseWriter, r *http.Request) {
	m, _, ok := task.LookupModel(r.PathValue("id"))
	if !ok {
		WriteError(w, r, task.Errorf(task.CodeNotFound, "model", "unknown model %q", r.PathValue("id")))
		return
	}
	wire.WriteJSON(w, http.StatusOK, renderModel(m))
}
