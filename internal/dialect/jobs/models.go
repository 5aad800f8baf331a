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

// catalogDefaultDuration is the duration a request without one gets (task.fillDefaults).
const catalogDefaultDuration = 5

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
	f := m.Features
	return modelAnswer{
		ID: m.ID, Object: "model", Name: m.Name, Family: string(m.Family),
		VolcengineID: m.VolcengineID, BytePlusID: m.BytePlusID, Aliases: aliases,
		Resolutions: append([]string{}, m.Resolutions...), DefaultResolution: m.DefaultResolution,
		Ratios:       ratios,
		DefaultRatio: defaultRatios{Text: m.TextRatio.Default, Image: m.ImageRatio.Default, Reference: m.ReferenceRatio.Default},
		Durations: modelDurations{Min: m.Durations.Min, Max: m.Durations.Max, Default: catalogDefaultDuration,
			Auto: m.Durations.Auto, Frames: m.Durations.Frames},
		Modes: modes,
		Inputs: modelInputs{Text: m.Inputs.Text, FirstFrame: m.Inputs.FirstFrame, LastFrame: m.Inputs.FirstLast,
			DraftTask: m.Inputs.DraftTask, MaxReferenceImages: m.Inputs.MaxReferenceImages,
			MaxReferenceVideos: m.Inputs.MaxReferenceVideos, MaxReferenceAudio: m.Inputs.MaxReferenceAudio},
		Features: modelFeatures{Audio: f.Audio, Draft: f.Draft, Flex: f.Flex, CameraFixed: f.CameraFixed,
			ReturnLastFrame: f.ReturnLastFrame, Priority: f.Priority, WebSearch: f.WebSearch, Watermark: true},
		MaxPromptChars: m.PromptLimit(), RPM: m.RPM, Concurrency: m.Concurrency,
	}
}

// Models is GET /v1/models: the model catalog, in catalog order.
func (h *Handler) Models(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Object string        `json:"object"`
		Data   []modelAnswer `json:"data"`
	}{Object: "list"}
	for _, m := range task.Models() {
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
