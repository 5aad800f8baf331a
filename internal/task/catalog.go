package task

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Family selects a model's pixel-size table (docs/upstream-ark.md#usage-and-pixel-sizes): the 1.0 models share
// one table, 1.5 pro and the 2.x models the other (2.0 adds 4k).
type Family string

const (
	Family10 Family = "1.0"
	Family15 Family = "1.5"
	Family20 Family = "2.0"
)

// Resolutions, fixed ratios and service tiers as the Ark body spells them.
const (
	Res480p  = "480p"
	Res720p  = "720p"
	Res1080p = "1080p"
	Res4K    = "4k"

	RatioAdaptive = "adaptive"

	TierDefault = "default"
	TierFlex    = "flex"
)

// FixedRatios are the six concrete aspect ratios, in the order of the pixel table.
var FixedRatios = []string{"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"}

// InputMode is what a request gives the model besides the prompt.
// The modes are mutually exclusive (docs/upstream-ark.md#content-items).
type InputMode string

const (
	ModeText       InputMode = "text"             // prompt only
	ModeFirstFrame InputMode = "first_frame"      // one image, the first frame
	ModeFirstLast  InputMode = "first_last_frame" // first and last frame
	ModeReference  InputMode = "reference"        // reference images / videos / audio
	ModeEdit       InputMode = "edit"             // change one reference video as the prompt says
	ModeExtend     InputMode = "extend"           // continue one reference video
	ModeDraftTask  InputMode = "draft_task"       // re-render of a draft
)

// allModes lists every input mode, in the order Model.Modes reports them.
var allModes = []InputMode{ModeText, ModeFirstFrame, ModeFirstLast, ModeReference, ModeEdit, ModeExtend, ModeDraftTask}

// Values of omni_reference_task_type (Request.ReferenceTaskType), after
// ReferenceTaskTypeOf's normalisation.
const (
	TaskTypeAuto      = "auto"
	TaskTypeReference = "reference"
	TaskTypeEdit      = "edit"
	TaskTypeExtend    = "extend"
)

// ReferenceTaskTypeOf is r's omni_reference_task_type in its normal
// spelling: lower case, "editing" as edit and "extension" as extend (some
// resellers' spellings). An unknown value comes back as given.
func ReferenceTaskTypeOf(r *Request) string {
	t := strings.ToLower(strings.TrimSpace(r.ReferenceTaskType))
	switch t {
	case "editing":
		return TaskTypeEdit
	case "extension":
		return TaskTypeExtend
	}
	return t
}

// DurationLimits are the accepted `duration` values and whether `frames` may replace it.
type DurationLimits struct {
	Min, Max int
	Default  int  // what a request without duration gets; -1 = the model chooses
	Auto     bool // -1 = "model chooses" is accepted
	Frames   bool // the `frames` field (25+4n in [29,289]) is accepted
}

// RatioRule is the ratio default of one input mode and whether adaptive is allowed there.
type RatioRule struct {
	Default  string
	Adaptive bool
}

// InputLimits says which input modes a model takes and how many reference items.
// A zero max means "not supported".
type InputLimits struct {
	Text       bool // prompt only (text-to-video)
	FirstFrame bool
	FirstLast  bool
	Reference  bool // reference images / videos / audio
	Edit       bool // omni_reference_task_type edit
	Extend     bool // omni_reference_task_type extend
	DraftTask  bool // content item draft_task

	MaxReferenceImages int
	MaxReferenceVideos int
	MaxReferenceAudio  int
	// MaxReferenceTotal caps images+videos+audio together; 0: no cap beyond each kind's.
	MaxReferenceTotal int
	// AudioNeedsVisual: reference audio must come with a reference image or video.
	AudioNeedsVisual bool
}

// Features are the optional body switches a model accepts.
type Features struct {
	Audio           bool // generate_audio (default true where supported)
	Draft           bool // draft: 480p preview at 0.6× tokens
	Flex            bool // service_tier "flex"
	CameraFixed     bool // camera_fixed
	ReturnLastFrame bool // return_last_frame
	Priority        bool // priority [0,9]
	WebSearch       bool // tools: [{"type":"web_search"}]
	HEICInput       bool // heic/heif input images
}

// Model is one Seedance model and everything the gateway validates against.
// Values in the catalog are shared: treat them as read-only.
type Model struct {
	ID           string // canonical seedgate id, e.g. seedance-1-5-pro
	Name         string // for people, e.g. "Seedance 1.5 Pro"
	Family       Family
	VolcengineID string
	BytePlusID   string
	Aliases      []string // every other accepted name (lower case)

	Durations DurationLimits

	Resolutions       []string
	DefaultResolution string
	// ReferenceResolutions, when non-nil, replaces Resolutions in reference mode
	// (1.0 lite i2v renders no 1080p from reference images).
	ReferenceResolutions []string

	// Ratio defaults per input mode. The fixed ratios are always allowed.
	TextRatio      RatioRule // prompt only
	ImageRatio     RatioRule // first frame, first+last frame
	ReferenceRatio RatioRule // reference inputs
	// FallbackRatio is what adaptive renders when the first frame's size is unknown.
	FallbackRatio string
	// AdaptiveRequired are the modes that take ratio adaptive only.
	AdaptiveRequired []InputMode
	// OutputFormats are the result containers accepted in output_format; the
	// first is the default.
	OutputFormats []string
	Billing       Billing

	Inputs   InputLimits
	Features Features
	// MaxPromptChars is the longest prompt accepted, in characters (Unicode
	// code points, after inline parameters are removed); 0 means
	// DefaultMaxPromptChars.
	MaxPromptChars int

	RPM         int // creates per minute per account
	Concurrency int // running tasks per account

	// Source is where the model's values come from: "embedded" or the
	// operator's catalog file.
	Source string
}

// Billing is how a model's usage tokens are counted beyond the pixel formula.
type Billing struct {
	// DraftPercent is a draft's usage in percent of the same video's.
	DraftPercent int
	// InputVideo: input video seconds count too (2.x).
	InputVideo bool
	// InputVideoSeconds is assumed per reference video whose length the
	// gateway could not measure.
	InputVideoSeconds int
}

// The execution window of a task, in seconds from its creation: the default
// and the range the upstream accepts (docs/upstream-ark.md#create-body).
const (
	DefaultExecutionExpiresAfter = 172800
	MinExecutionExpiresAfter     = 3600
	MaxExecutionExpiresAfter     = 259200
)

// DefaultMaxPromptChars is the prompt limit of a model that names none. The
// upstream recommends at most about 500 Chinese characters or 1000 English
// words; this is generous beyond that, and keeps a tenant from occupying a
// renderer with a megabyte of text.
const DefaultMaxPromptChars = 4000

const (
	defaultDuration      = 5 // the duration the 1.x and 2.0 models default to
	defaultSeed          = -1
	minFrames, maxFrames = 29, 289
	maxSeed              = 4294967295 // 2^32-1, the wider of the two documented ranges
	maxPriority          = 9
	maxSafetyIdentifier  = 64
	outputFPS            = 24
	// autoDurationSeconds is what Output assumes for duration -1 (the model chooses):
	// the default duration, so estimates are stable.
	autoDurationSeconds = defaultDuration
)

// resolutionSuffixes are the model-name suffixes that imply a resolution
// ("seedance-1.5-pro-1080p", docs/dialects.md#jobs).
var resolutionSuffixes = []string{Res480p, Res720p, Res1080p, Res4K}

// names lists the model's accepted names: canonical, Volcengine, BytePlus, aliases.
func (m *Model) names() []string {
	out := []string{m.ID}
	for _, n := range []string{m.VolcengineID, m.BytePlusID} {
		if n != "" {
			out = append(out, n)
		}
	}
	return append(out, m.Aliases...)
}

// Models returns every model of the catalog in force, in catalog order.
func Models() []*Model { return Current().Models() }

// LookupModel resolves any accepted model name in the catalog in force (Catalog.Lookup).
func LookupModel(name string) (m *Model, impliedResolution string, ok bool) {
	return Current().Lookup(name)
}

// ModelNames lists the accepted names of the catalog in force (Catalog.Names).
func ModelNames() []string { return Current().Names() }

// Lookup resolves any accepted model name, case-insensitively. A known name
// followed by "-480p", "-720p", "-1080p" or "-4k" resolves to that model and
// returns the suffix as the implied resolution (the caller decides whether an
// explicit resolution wins; the model may still reject it in Normalize).
func (c *Catalog) Lookup(name string) (m *Model, impliedResolution string, ok bool) {
	key := strings.ToLower(strings.TrimSpace(name))
	if m, ok := c.index[key]; ok {
		return m, "", true
	}
	for _, res := range resolutionSuffixes {
		base, found := strings.CutSuffix(key, "-"+res)
		if !found {
			continue
		}
		if m, ok := c.index[base]; ok {
			return m, res, true
		}
	}
	return nil, "", false
}

// Names lists every accepted base name (canonical ids, Volcengine and BytePlus
// ids, aliases) in catalog order, for "unknown model" messages. Each also accepts a
// resolution suffix such as "-1080p".
func (c *Catalog) Names() []string {
	var out []string
	seen := make(map[string]bool)
	for _, m := range c.models {
		for _, n := range m.names() {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// InputModeOf classifies a request's inputs. It does not validate: a request with
// both a first frame and references reports ModeFirstFrame/ModeFirstLast, and
// Normalize rejects the mix.
func InputModeOf(r *Request) InputMode {
	switch {
	case r.FirstFrame != "" && r.LastFrame != "":
		return ModeFirstLast
	case r.FirstFrame != "" || r.LastFrame != "":
		return ModeFirstFrame
	case ReferenceTaskTypeOf(r) == TaskTypeEdit:
		return ModeEdit
	case ReferenceTaskTypeOf(r) == TaskTypeExtend:
		return ModeExtend
	case len(r.ReferenceImages)+len(r.ReferenceVideos)+len(r.ReferenceAudio) > 0:
		return ModeReference
	case r.DraftTaskID != "":
		return ModeDraftTask
	}
	return ModeText
}

// RatioRule returns the ratio rule for an input mode.
func (m *Model) RatioRule(mode InputMode) RatioRule {
	switch mode {
	case ModeFirstFrame, ModeFirstLast:
		return m.ImageRatio
	case ModeReference, ModeEdit, ModeExtend:
		return m.ReferenceRatio
	}
	return m.TextRatio
}

// AdaptiveOnly reports whether the mode takes ratio adaptive only.
func (m *Model) AdaptiveOnly(mode InputMode) bool { return slices.Contains(m.AdaptiveRequired, mode) }

// ResolutionsFor returns the resolutions allowed in an input mode.
func (m *Model) ResolutionsFor(mode InputMode) []string {
	if isReferenceMode(mode) && m.ReferenceResolutions != nil {
		return m.ReferenceResolutions
	}
	return m.Resolutions
}

// Modes lists the input modes the model accepts, in a fixed order.
func (m *Model) Modes() []InputMode {
	var out []InputMode
	in := m.Inputs
	for _, c := range []struct {
		ok   bool
		mode InputMode
	}{
		{in.Text, ModeText},
		{in.FirstFrame, ModeFirstFrame},
		{in.FirstLast, ModeFirstLast},
		{in.Reference, ModeReference},
		{in.Edit, ModeEdit},
		{in.Extend, ModeExtend},
		{in.DraftTask, ModeDraftTask},
	} {
		if c.ok {
			out = append(out, c.mode)
		}
	}
	return out
}

// isReferenceMode: the mode's inputs are reference images, videos and audio.
func isReferenceMode(mode InputMode) bool {
	return mode == ModeReference || mode == ModeEdit || mode == ModeExtend
}

// AllowsMode reports whether the model accepts the input mode.
func (m *Model) AllowsMode(mode InputMode) bool {
	return slices.Contains(m.Modes(), mode)
}

// Normalize validates r strictly against the model and fills every default, in
// place. Every rejection is an *Error with CodeInvalidParameter (CodeMissingParameter
// for a missing prompt or image) whose Field is the request's JSON name, which is
// also the Ark body name ("duration", "resolution", "first_frame", "tools" …), and
// whose message names the value and what this model allows.
//
// Rules beyond the spec's tables (decisions):
//   - A prompt is required only when nothing else is given (text mode); image,
//     reference and draft-task modes may omit it, as upstream allows.
//   - Switches a model does not support are rejected when true and cleared (nil)
//     when false, so providers can send every non-nil field: camera_fixed,
//     generate_audio, draft, priority. Readers use Or(p, false).
//   - frames, when given, wins: duration is validated if given, then cleared.
//   - resolution, ratio and service_tier are matched case-insensitively and
//     stored in lower case.
func (m *Model) Normalize(r *Request) error {
	if err := m.checkPrompt(r); err != nil {
		return err
	}
	mode, err := m.checkInputs(r)
	if err != nil {
		return err
	}
	for _, check := range fieldChecks {
		if err := check(m, r, mode); err != nil {
			return err
		}
	}
	m.fillDefaults(r, mode)
	return nil
}

// fieldChecks validate one body field each, given valid inputs; nil values pass.
// ApplyInline reuses them to weakly validate inline values.
var fieldChecks = []func(*Model, *Request, InputMode) *Error{
	(*Model).checkDraft,
	(*Model).checkResolution,
	(*Model).checkRatio,
	(*Model).checkFrames,
	(*Model).checkDuration,
	(*Model).checkSeed,
	(*Model).checkSwitches,
	(*Model).checkServiceTier,
	(*Model).checkExecutionExpiresAfter,
	(*Model).checkPriority,
	(*Model).checkSafetyIdentifier,
	(*Model).checkOutputFormat,
}

func invalid(field, format string, args ...any) *Error {
	return Errorf(CodeInvalidParameter, field, format, args...)
}

// PromptLimit is the longest prompt m accepts, in characters.
func (m *Model) PromptLimit() int {
	if m.MaxPromptChars > 0 {
		return m.MaxPromptChars
	}
	return DefaultMaxPromptChars
}

// checkPrompt bounds the prompt's length, first: every later step (and the
// renderer) then works on a bounded text.
func (m *Model) checkPrompt(r *Request) *Error {
	limit := m.PromptLimit()
	if len(r.Prompt) <= limit { // fewer bytes than the limit: fewer characters too
		return nil
	}
	if n := utf8.RuneCountInString(r.Prompt); n > limit {
		return invalid("prompt", "prompt is %d characters long; %s takes at most %d", n, m.Name, limit)
	}
	return nil
}

// checkInputs validates the combination of prompt, images, videos, audio and
// draft task, and returns the input mode.
func (m *Model) checkInputs(r *Request) (InputMode, error) {
	for _, list := range []struct {
		field string
		urls  []string
	}{
		{"reference_images", r.ReferenceImages},
		{"reference_videos", r.ReferenceVideos},
		{"reference_audio", r.ReferenceAudio},
	} {
		for i, u := range list.urls {
			if strings.TrimSpace(u) == "" {
				return "", invalid(list.field, "%s[%d] is empty: give a URL", list.field, i)
			}
		}
	}
	refs := len(r.ReferenceImages) + len(r.ReferenceVideos) + len(r.ReferenceAudio)
	switch {
	case r.LastFrame != "" && r.FirstFrame == "":
		return "", invalid("last_frame", "last_frame needs a first_frame")
	case r.FirstFrame != "" && refs > 0:
		return "", invalid(referenceField(r),
			"first/last frames and reference inputs are mutually exclusive: use either first_frame (and last_frame) or references")
	case r.DraftTaskID != "" && (r.FirstFrame != "" || refs > 0):
		return "", invalid("draft_task_id", "draft_task_id re-renders a draft and takes no images, videos or audio")
	}
	if err := m.checkReferenceTaskType(r, refs); err != nil {
		return "", err
	}

	mode := InputModeOf(r)
	in := m.Inputs
	switch mode {
	case ModeText:
		if !in.Text {
			return "", Errorf(CodeMissingParameter, "first_frame",
				"%s needs an image input: allowed %s", m.Name, m.describeInputs())
		}
		if strings.TrimSpace(r.Prompt) == "" {
			return "", Errorf(CodeMissingParameter, "prompt", "prompt is required when no image, video or draft task is given")
		}
	case ModeFirstFrame:
		if !in.FirstFrame {
			return "", invalid("first_frame", "first_frame is not supported by %s: allowed %s", m.Name, m.describeInputs())
		}
	case ModeFirstLast:
		if !in.FirstLast {
			return "", invalid("last_frame", "last_frame is not supported by %s: allowed %s", m.Name, m.describeInputs())
		}
	case ModeReference, ModeEdit, ModeExtend:
		if err := m.checkVideoTask(r, mode); err != nil {
			return "", err
		}
		for _, c := range []struct {
			field    string
			got, max int
		}{
			{"reference_images", len(r.ReferenceImages), in.MaxReferenceImages},
			{"reference_videos", len(r.ReferenceVideos), in.MaxReferenceVideos},
			{"reference_audio", len(r.ReferenceAudio), in.MaxReferenceAudio},
		} {
			switch {
			case c.got > 0 && c.max == 0:
				return "", invalid(c.field, "%s are not supported by %s: allowed %s", c.field, m.Name, m.describeInputs())
			case c.got > c.max:
				return "", invalid(c.field, "%d %s given, %s takes at most %d", c.got, c.field, m.Name, c.max)
			}
		}
		if in.MaxReferenceTotal > 0 && refs > in.MaxReferenceTotal {
			return "", invalid(lastReferenceField(r), "%d reference inputs given (images, videos and audio together), %s takes at most %d",
				refs, m.Name, in.MaxReferenceTotal)
		}
		if in.AudioNeedsVisual && len(r.ReferenceAudio) > 0 && len(r.ReferenceImages)+len(r.ReferenceVideos) == 0 {
			return "", invalid("reference_audio", "reference_audio needs a reference image or video beside it on %s", m.Name)
		}
		if mode == ModeReference && !in.Reference {
			return "", invalid(referenceField(r), "reference inputs are not supported by %s: allowed %s", m.Name, m.describeInputs())
		}
	case ModeDraftTask:
		if !in.DraftTask {
			return "", invalid("draft_task_id", "draft_task_id is not supported by %s: only %s", m.Name, modelsWith(func(m *Model) bool { return m.Inputs.DraftTask }))
		}
	}
	return mode, nil
}

// checkReferenceTaskType validates omni_reference_task_type: a known value,
// on a model that takes it, with the inputs it works on.
func (m *Model) checkReferenceTaskType(r *Request, refs int) *Error {
	const field = "omni_reference_task_type"
	t := ReferenceTaskTypeOf(r)
	switch t {
	case "", TaskTypeAuto:
		return nil
	case TaskTypeReference, TaskTypeEdit, TaskTypeExtend:
	default:
		return invalid(field, "omni_reference_task_type %q is not allowed: allowed auto, reference, edit, extend", r.ReferenceTaskType)
	}
	switch {
	case !m.takesReferenceTaskType():
		return invalid(field, "omni_reference_task_type is not supported by %s: only %s", m.Name, modelsWith((*Model).takesReferenceTaskType))
	case r.FirstFrame != "":
		return invalid(field, "omni_reference_task_type %s works on reference inputs and cannot be combined with first_frame", t)
	case r.DraftTaskID != "":
		return invalid(field, "omni_reference_task_type %s works on reference inputs and cannot be combined with draft_task_id", t)
	case t == TaskTypeReference && refs == 0:
		return Errorf(CodeMissingParameter, "reference_images", "omni_reference_task_type reference needs reference images, videos or audio")
	}
	return nil
}

// takesReferenceTaskType: the model accepts omni_reference_task_type (it edits or extends videos).
func (m *Model) takesReferenceTaskType() bool { return m.Inputs.Edit || m.Inputs.Extend }

// checkVideoTask checks what an edit or extend needs: the model's support
// and exactly one reference video, the one to change or continue.
func (m *Model) checkVideoTask(r *Request, mode InputMode) *Error {
	var supported bool
	var what string
	switch mode {
	case ModeEdit:
		supported, what = m.Inputs.Edit, "the video to change"
	case ModeExtend:
		supported, what = m.Inputs.Extend, "the video to continue"
	default:
		return nil
	}
	if !supported {
		return invalid("omni_reference_task_type", "omni_reference_task_type %s is not supported by %s: only %s", mode, m.Name,
			modelsWith(func(o *Model) bool { return o.AllowsMode(mode) }))
	}
	switch n := len(r.ReferenceVideos); {
	case n == 0:
		return Errorf(CodeMissingParameter, "reference_videos", "omni_reference_task_type %s needs exactly one reference video (%s): none given", mode, what)
	case n > 1:
		return invalid("reference_videos", "omni_reference_task_type %s needs exactly one reference video (%s): %d given", mode, what, n)
	}
	return nil
}

// lastReferenceField names the last reference list that is set: the one that
// went over a total.
func lastReferenceField(r *Request) string {
	switch {
	case len(r.ReferenceAudio) > 0:
		return "reference_audio"
	case len(r.ReferenceVideos) > 0:
		return "reference_videos"
	}
	return "reference_images"
}

// referenceField names the first reference list that is set, for error fields.
func referenceField(r *Request) string {
	switch {
	case len(r.ReferenceImages) > 0:
		return "reference_images"
	case len(r.ReferenceVideos) > 0:
		return "reference_videos"
	}
	return "reference_audio"
}

// describeInputs says which inputs the model takes, for messages.
func (m *Model) describeInputs() string {
	in := m.Inputs
	var parts []string
	if in.Text {
		parts = append(parts, "text")
	}
	if in.FirstFrame {
		parts = append(parts, "first_frame")
	}
	if in.FirstLast {
		parts = append(parts, "first_frame+last_frame")
	}
	for _, c := range []struct {
		name string
		max  int
	}{{"reference_images", in.MaxReferenceImages}, {"reference_videos", in.MaxReferenceVideos}, {"reference_audio", in.MaxReferenceAudio}} {
		if c.max > 0 {
			parts = append(parts, fmt.Sprintf("up to %d %s", c.max, c.name))
		}
	}
	if in.MaxReferenceTotal > 0 {
		parts = append(parts, fmt.Sprintf("at most %d references in total", in.MaxReferenceTotal))
	}
	if in.Edit {
		parts = append(parts, "edit (omni_reference_task_type)")
	}
	if in.Extend {
		parts = append(parts, "extend (omni_reference_task_type)")
	}
	if in.DraftTask {
		parts = append(parts, "draft_task_id")
	}
	return strings.Join(parts, ", ")
}

// modelsWith names the models that satisfy ok, for "only …" messages.
func modelsWith(ok func(*Model) bool) string {
	var names []string
	for _, m := range Models() {
		if ok(m) {
			names = append(names, m.Name)
		}
	}
	return strings.Join(names, ", ")
}

func (m *Model) checkDraft(r *Request, mode InputMode) *Error {
	if !Or(r.Draft, false) {
		return nil
	}
	switch {
	case !m.Features.Draft:
		return invalid("draft", "draft is not supported by %s: only %s", m.Name, modelsWith(func(m *Model) bool { return m.Features.Draft }))
	case mode == ModeDraftTask:
		return invalid("draft", "draft cannot be combined with draft_task_id")
	case Or(r.ReturnLastFrame, false):
		return invalid("return_last_frame", "return_last_frame is not available with draft")
	case strings.EqualFold(r.ServiceTier, TierFlex):
		return invalid("service_tier", "service_tier flex is not available with draft")
	}
	return nil
}

func (m *Model) checkResolution(r *Request, mode InputMode) *Error {
	if r.Resolution == "" {
		return nil
	}
	res := strings.ToLower(r.Resolution)
	if Or(r.Draft, false) && res != Res480p {
		return invalid("resolution", "resolution %q is not allowed with draft: drafts render at 480p", r.Resolution)
	}
	allowed := m.ResolutionsFor(mode)
	if slices.Contains(allowed, res) {
		return nil
	}
	if mode == ModeReference && slices.Contains(m.Resolutions, res) {
		return invalid("resolution", "resolution %q is not allowed for %s with reference images: allowed %s",
			r.Resolution, m.Name, strings.Join(allowed, ", "))
	}
	return invalid("resolution", "resolution %q is not allowed for %s: allowed %s", r.Resolution, m.Name, strings.Join(allowed, ", "))
}

func (m *Model) checkRatio(r *Request, mode InputMode) *Error {
	if r.Ratio == "" {
		return nil
	}
	ratio := strings.ToLower(r.Ratio)
	rule := m.RatioRule(mode)
	if m.AdaptiveOnly(mode) && ratio != RatioAdaptive {
		return invalid("ratio", "ratio %q is not allowed for %s with %s: only %s (the ratio follows the input)",
			r.Ratio, m.Name, describeMode(mode), RatioAdaptive)
	}
	if slices.Contains(FixedRatios, ratio) || (ratio == RatioAdaptive && rule.Adaptive) {
		return nil
	}
	allowed := strings.Join(FixedRatios, ", ")
	if rule.Adaptive {
		allowed += ", " + RatioAdaptive
	}
	return invalid("ratio", "ratio %q is not allowed for %s with %s: allowed %s", r.Ratio, m.Name, describeMode(mode), allowed)
}

func describeMode(mode InputMode) string {
	switch mode {
	case ModeFirstFrame:
		return "a first frame"
	case ModeFirstLast:
		return "first and last frames"
	case ModeReference:
		return "reference inputs"
	case ModeEdit:
		return "an edit of a reference video"
	case ModeExtend:
		return "an extension of a reference video"
	case ModeDraftTask:
		return "a draft task"
	}
	return "a text-only prompt"
}

func (m *Model) checkFrames(r *Request, _ InputMode) *Error {
	if r.Frames == nil {
		return nil
	}
	f := *r.Frames
	if !m.Durations.Frames {
		return invalid("frames", "frames %d is not supported by %s: use duration (allowed %s)", f, m.Name, m.describeDurations())
	}
	if !validFrames(f) {
		return invalid("frames", "frames %d is not allowed for %s: allowed %d–%d of the form 25+4n", f, m.Name, minFrames, maxFrames)
	}
	return nil
}

func validFrames(f int) bool { return f >= minFrames && f <= maxFrames && (f-25)%4 == 0 }

func (m *Model) checkDuration(r *Request, _ InputMode) *Error {
	if r.Duration == nil {
		return nil
	}
	d := *r.Duration
	if (d == -1 && m.Durations.Auto) || (d >= m.Durations.Min && d <= m.Durations.Max) {
		return nil
	}
	return invalid("duration", "duration %d is not allowed for %s: allowed %s", d, m.Name, m.describeDurations())
}

func (m *Model) describeDurations() string {
	s := fmt.Sprintf("%d–%d", m.Durations.Min, m.Durations.Max)
	if m.Durations.Auto {
		s += " or -1"
	}
	return s
}

func (m *Model) checkSeed(r *Request, _ InputMode) *Error {
	if r.Seed == nil || (*r.Seed >= -1 && *r.Seed <= maxSeed) {
		return nil
	}
	return invalid("seed", "seed %d is not allowed: allowed -1 (random) to %d", *r.Seed, int64(maxSeed))
}

// checkSwitches rejects true for boolean features the model lacks.
func (m *Model) checkSwitches(r *Request, _ InputMode) *Error {
	f := m.Features
	for _, s := range []struct {
		field     string
		on        bool
		supported bool
		has       func(*Model) bool
	}{
		{"camera_fixed", Or(r.CameraFixed, false), f.CameraFixed, func(m *Model) bool { return m.Features.CameraFixed }},
		{"generate_audio", Or(r.GenerateAudio, false), f.Audio, func(m *Model) bool { return m.Features.Audio }},
		{"return_last_frame", Or(r.ReturnLastFrame, false), f.ReturnLastFrame, func(m *Model) bool { return m.Features.ReturnLastFrame }},
		{"tools", r.WebSearch, f.WebSearch, func(m *Model) bool { return m.Features.WebSearch }},
	} {
		if s.on && !s.supported {
			return invalid(s.field, "%s is not supported by %s: only %s", s.field, m.Name, modelsWith(s.has))
		}
	}
	return nil
}

func (m *Model) checkServiceTier(r *Request, _ InputMode) *Error {
	switch strings.ToLower(r.ServiceTier) {
	case "", TierDefault:
		return nil
	case TierFlex:
		if m.Features.Flex {
			return nil
		}
		return invalid("service_tier", "service_tier %q is not supported by %s: allowed %s", r.ServiceTier, m.Name, TierDefault)
	}
	allowed := TierDefault
	if m.Features.Flex {
		allowed += ", " + TierFlex
	}
	return invalid("service_tier", "service_tier %q is not allowed for %s: allowed %s", r.ServiceTier, m.Name, allowed)
}

func (m *Model) checkExecutionExpiresAfter(r *Request, _ InputMode) *Error {
	if r.ExecutionExpiresAfter == nil {
		return nil
	}
	v := *r.ExecutionExpiresAfter
	if v >= MinExecutionExpiresAfter && v <= MaxExecutionExpiresAfter {
		return nil
	}
	return invalid("execution_expires_after", "execution_expires_after %d is not allowed: allowed %d–%d seconds",
		v, MinExecutionExpiresAfter, MaxExecutionExpiresAfter)
}

func (m *Model) checkPriority(r *Request, _ InputMode) *Error {
	if r.Priority == nil {
		return nil
	}
	p := *r.Priority
	switch {
	case !m.Features.Priority:
		return invalid("priority", "priority is not supported by %s: only %s", m.Name, modelsWith(func(m *Model) bool { return m.Features.Priority }))
	case p < 0 || p > maxPriority:
		return invalid("priority", "priority %d is not allowed: allowed 0–%d", p, maxPriority)
	case strings.EqualFold(r.ServiceTier, TierFlex):
		return invalid("priority", "priority cannot be combined with service_tier flex")
	}
	return nil
}

func (m *Model) checkSafetyIdentifier(r *Request, _ InputMode) *Error {
	if n := utf8.RuneCountInString(r.SafetyIdentifier); n > maxSafetyIdentifier {
		return invalid("safety_identifier", "safety_identifier has %d characters: allowed at most %d", n, maxSafetyIdentifier)
	}
	return nil
}

func (m *Model) checkOutputFormat(r *Request, _ InputMode) *Error {
	if r.OutputFormat == "" || slices.Contains(m.OutputFormats, strings.ToLower(r.OutputFormat)) {
		return nil
	}
	return invalid("output_format", "output_format %q is not supported by %s: allowed %s", r.OutputFormat, m.Name, strings.Join(m.OutputFormats, ", "))
}

// fillDefaults completes a validated request.
func (m *Model) fillDefaults(r *Request, mode InputMode) {
	draft := Or(r.Draft, false)
	r.Resolution = strings.ToLower(r.Resolution)
	switch {
	case r.Resolution != "":
	case draft:
		r.Resolution = Res480p
	default:
		r.Resolution = m.DefaultResolution
	}
	r.Ratio = strings.ToLower(r.Ratio)
	switch {
	case r.Ratio != "":
	case m.AdaptiveOnly(mode):
		r.Ratio = RatioAdaptive
	default:
		r.Ratio = m.RatioRule(mode).Default
	}
	if r.Frames != nil {
		r.Duration = nil
	} else if r.Duration == nil {
		r.Duration = Int(m.Durations.Default)
	}
	r.OutputFormat = strings.ToLower(r.OutputFormat)
	if len(m.OutputFormats) == 1 {
		r.OutputFormat = "" // nothing to choose: never sent to a model without the field
	}
	r.ReferenceTaskType = ReferenceTaskTypeOf(r)
	if r.ReferenceTaskType == TaskTypeAuto && !m.takesReferenceTaskType() {
		r.ReferenceTaskType = "" // the default: never sent to a model without the field
	}
	if r.Seed == nil {
		r.Seed = Int64(defaultSeed)
	}
	if r.Watermark == nil {
		r.Watermark = Bool(false)
	}
	if r.ReturnLastFrame == nil {
		r.ReturnLastFrame = Bool(false)
	}
	r.ServiceTier = strings.ToLower(r.ServiceTier)
	if r.ServiceTier == "" {
		r.ServiceTier = TierDefault
	}
	if r.ExecutionExpiresAfter == nil {
		r.ExecutionExpiresAfter = Int(DefaultExecutionExpiresAfter)
	}
	f := m.Features
	r.CameraFixed = defaultSwitch(r.CameraFixed, f.CameraFixed, false)
	r.GenerateAudio = defaultSwitch(r.GenerateAudio, f.Audio, true)
	r.Draft = defaultSwitch(r.Draft, f.Draft, false)
}

// defaultSwitch fills def where the feature exists and clears the (false) value where it does not.
func defaultSwitch(v *bool, supported, def bool) *bool {
	switch {
	case !supported:
		return nil
	case v == nil:
		return Bool(def)
	}
	return v
}

// Relax makes r acceptable to m by dropping or clamping what m cannot take, and
// returns one note per change. It is for dialects whose own documented examples
// send more than the model accepts (the jobs dialect's reference example,
// docs/dialects.md#jobs, sends first+last frames together with references,
// frames and service_tier "auto" to 1.5 pro, and execution_expires_after 600);
// strict dialects never call it. Call it before Normalize, which still
// validates what remains (a missing prompt, say, stays an error).
func (m *Model) Relax(r *Request) []string {
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	in := m.Inputs

	// Inputs: frames modes win over references, as the more specific request.
	refs := len(r.ReferenceImages) + len(r.ReferenceVideos) + len(r.ReferenceAudio)
	if r.FirstFrame != "" && refs > 0 {
		r.ReferenceImages, r.ReferenceVideos, r.ReferenceAudio = nil, nil, nil
		note("dropped reference inputs: they cannot be combined with first/last frames")
	}
	if r.FirstFrame != "" && r.LastFrame != "" && !in.FirstLast {
		r.LastFrame = ""
		note("dropped last_frame: %s does not take one", m.Name)
	}
	for _, c := range []struct {
		field string
		list  *[]string
		max   int
	}{
		{"reference_images", &r.ReferenceImages, in.MaxReferenceImages},
		{"reference_videos", &r.ReferenceVideos, in.MaxReferenceVideos},
		{"reference_audio", &r.ReferenceAudio, in.MaxReferenceAudio},
	} {
		if len(*c.list) > c.max {
			*c.list = (*c.list)[:c.max:c.max]
			if c.max == 0 {
				*c.list = nil
			}
			note("kept %d %s: the most %s takes", c.max, c.field, m.Name)
		}
	}
	if in.AudioNeedsVisual && len(r.ReferenceAudio) > 0 && len(r.ReferenceImages)+len(r.ReferenceVideos) == 0 {
		r.ReferenceAudio = nil
		note("dropped reference_audio: %s needs an image or video beside it", m.Name)
	}
	if r.DraftTaskID != "" && !in.DraftTask {
		r.DraftTaskID = ""
		note("dropped draft_task_id: %s does not take one", m.Name)
	}
	if in.MaxReferenceTotal > 0 {
		for _, list := range []*[]string{&r.ReferenceImages, &r.ReferenceAudio, &r.ReferenceVideos} {
			if over := len(r.ReferenceImages) + len(r.ReferenceVideos) + len(r.ReferenceAudio) - in.MaxReferenceTotal; over > 0 {
				keep := max(len(*list)-over, 0)
				*list = (*list)[:keep:keep]
				note("kept %d references in total: the most %s takes", in.MaxReferenceTotal, m.Name)
			}
		}
	}
	if r.ReferenceTaskType != "" && m.checkReferenceTaskType(r, len(r.ReferenceImages)+len(r.ReferenceVideos)+len(r.ReferenceAudio)) != nil {
		note("dropped omni_reference_task_type %q: not possible here with %s", r.ReferenceTaskType, m.Name)
		r.ReferenceTaskType = ""
	}
	if r.OutputFormat != "" && m.checkOutputFormat(r, "") != nil {
		note("output_format %q replaced by %s", r.OutputFormat, m.OutputFormats[0])
		r.OutputFormat = ""
	}
	mode := InputModeOf(r)

	// Fields: anything the strict check rejects falls back to the default, with
	// clamping where the value has an obvious nearest neighbour.
	if r.Frames != nil && (!m.Durations.Frames || !validFrames(*r.Frames)) {
		if r.Duration == nil {
			r.Duration = Int((*r.Frames - 1 + outputFPS/2) / outputFPS) // nearest whole second
		}
		note("dropped frames %d: %s takes duration", *r.Frames, m.Name)
		r.Frames = nil
	}
	if r.Duration != nil && m.checkDuration(r, mode) != nil {
		d := min(max(*r.Duration, m.Durations.Min), m.Durations.Max)
		if *r.Duration == -1 {
			d = m.Durations.Default // "model chooses" where the model cannot: the default
		}
		note("duration %d clamped to %d", *r.Duration, d)
		r.Duration = Int(d)
	}
	if r.ExecutionExpiresAfter != nil && m.checkExecutionExpiresAfter(r, mode) != nil {
		v := min(max(*r.ExecutionExpiresAfter, MinExecutionExpiresAfter), MaxExecutionExpiresAfter)
		note("execution_expires_after %d clamped to %d", *r.ExecutionExpiresAfter, v)
		r.ExecutionExpiresAfter = Int(v)
	}
	if r.ServiceTier != "" && m.checkServiceTier(r, mode) != nil {
		note("service_tier %q replaced by %s", r.ServiceTier, TierDefault)
		r.ServiceTier = ""
	}
	if r.Priority != nil && m.checkPriority(r, mode) != nil {
		r.Priority = nil
		note("dropped priority")
	}
	if r.Seed != nil && m.checkSeed(r, mode) != nil {
		r.Seed = nil
		note("dropped seed out of range")
	}
	f := m.Features
	for _, s := range []struct {
		field string
		v     **bool
		ok    bool
	}{
		{"camera_fixed", &r.CameraFixed, f.CameraFixed},
		{"generate_audio", &r.GenerateAudio, f.Audio},
		{"draft", &r.Draft, f.Draft},
	} {
		if *s.v != nil && !s.ok {
			*s.v = nil
			note("dropped %s: not supported by %s", s.field, m.Name)
		}
	}
	if r.WebSearch && !f.WebSearch {
		r.WebSearch = false
		note("dropped tools: not supported by %s", m.Name)
	}
	if m.checkDraft(r, mode) != nil {
		r.Draft = nil
		note("dropped draft: it cannot be combined with the other fields")
	}
	if r.Resolution != "" && m.checkResolution(r, mode) != nil {
		note("resolution %q replaced by the default", r.Resolution)
		r.Resolution = ""
	}
	if r.Ratio != "" && m.checkRatio(r, mode) != nil {
		note("ratio %q replaced by the default", r.Ratio)
		r.Ratio = ""
	}
	return notes
}
