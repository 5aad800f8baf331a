package task

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expectations below are written from docs/upstream-ark.md and docs/dialects.md
// independently of the catalog table, so a typo in either shows up.

func TestLookupModelSpecNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		want string
	}{
		// Canonical ids.
		{"seedance-1-0-lite-t2v", "seedance-1-0-lite-t2v"},
		{"seedance-1-0-lite-i2v", "seedance-1-0-lite-i2v"},
		{"seedance-1-0-pro", "seedance-1-0-pro"},
		{"seedance-1-0-pro-fast", "seedance-1-0-pro-fast"},
		{"seedance-1-5-pro", "seedance-1-5-pro"},
		{"seedance-2-0", "seedance-2-0"},
		{"seedance-2-0-fast", "seedance-2-0-fast"},
		// Volcengine ids (docs/upstream-ark.md#models).
		{"doubao-seedance-1-0-lite-t2v-250428", "seedance-1-0-lite-t2v"},
		{"doubao-seedance-1-0-lite-i2v-250428", "seedance-1-0-lite-i2v"},
		{"doubao-seedance-1-0-pro-250528", "seedance-1-0-pro"},
		{"doubao-seedance-1-0-pro-fast-251015", "seedance-1-0-pro-fast"},
		{"doubao-seedance-1-5-pro-251215", "seedance-1-5-pro"},
		{"doubao-seedance-2-0-260128", "seedance-2-0"},
		{"doubao-seedance-2-0-fast-260128", "seedance-2-0-fast"},
		// BytePlus ids (docs/upstream-ark.md#models).
		{"seedance-1-0-lite-t2v-250428", "seedance-1-0-lite-t2v"},
		{"seedance-1-0-lite-i2v-250428", "seedance-1-0-lite-i2v"},
		{"seedance-1-0-pro-250528", "seedance-1-0-pro"},
		{"seedance-1-0-pro-fast-251015", "seedance-1-0-pro-fast"},
		{"seedance-1-5-pro-251215", "seedance-1-5-pro"},
		{"dreamina-seedance-2-0-260128", "seedance-2-0"},
		{"dreamina-seedance-2-0-fast-260128", "seedance-2-0-fast"},
		// The alias table of docs/dialects.md#model-aliases.
		{"doubao-seedance-1-5-pro-responses", "seedance-1-5-pro"},
		{"doubao-seedance-1-5-pro", "seedance-1-5-pro"},
		{"seedance-1.5-pro", "seedance-1-5-pro"},
		// Case and surrounding space do not matter.
		{"Doubao-Seedance-1-0-Pro-250528", "seedance-1-0-pro"},
		{"  SEEDANCE-2-0-FAST ", "seedance-2-0-fast"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, res, ok := LookupModel(c.name)
			require.True(t, ok, "name %q should resolve", c.name)
			require.Equal(t, c.want, m.ID)
			require.Empty(t, res)
		})
	}
}

func TestLookupModelResolutionSuffix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want, res string
	}{
		{"seedance-1.5-pro-1080p", "seedance-1-5-pro", "1080p"}, // the jobs reference example
		{"SEEDANCE-1.5-PRO-1080P", "seedance-1-5-pro", "1080p"},
		{"seedance-1.5-pro-480p", "seedance-1-5-pro", "480p"},
		{"doubao-seedance-1-0-pro-250528-720p", "seedance-1-0-pro", "720p"},
		{"seedance-2-0-4k", "seedance-2-0", "4k"},
		{"dreamina-seedance-2-0-260128-4K", "seedance-2-0", "4k"},
	}
	for _, c := range cases {
		m, res, ok := LookupModel(c.name)
		require.True(t, ok, c.name)
		require.Equal(t, c.want, m.ID, c.name)
		require.Equal(t, c.res, res, c.name)
	}
}

func TestLookupModelUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"", "seedance-get", "gpt-4o", "seedance", "-1080p", "seedance-1.5-pro-2160p",
		"seedance-1.5-pro-1080p-1080p", "seedance-1-0-pro-250529", "xseedance-1-0-pro",
	} {
		m, res, ok := LookupModel(name)
		require.False(t, ok, "%q must not resolve", name)
		require.Nil(t, m)
		require.Empty(t, res)
	}
}

func TestModelNames(t *testing.T) {
	t.Parallel()
	names := ModelNames()
	seen := map[string]bool{}
	for _, n := range names {
		require.False(t, seen[n], "duplicate name %q", n)
		seen[n] = true
		m, _, ok := LookupModel(n)
		require.True(t, ok, n)
		require.NotNil(t, m)
	}
	for _, m := range Models() {
		require.Contains(t, names, m.ID)
		require.Contains(t, names, m.VolcengineID)
		require.Contains(t, names, m.BytePlusID)
		for _, a := range m.Aliases {
			require.Contains(t, names, a)
			require.Equal(t, strings.ToLower(a), a, "aliases are stored in lower case")
		}
	}
	require.NotContains(t, names, "seedance-get")
}

func TestModelsStableOrder(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, m := range Models() {
		ids = append(ids, m.ID)
	}
	require.Equal(t, []string{
		"seedance-1-0-lite-t2v", "seedance-1-0-lite-i2v", "seedance-1-0-pro", "seedance-1-0-pro-fast",
		"seedance-1-5-pro", "seedance-2-0", "seedance-2-0-fast", "seedance-2-0-mini", "seedance-2-5",
	}, ids)
	// Models returns a fresh slice: changing it leaves the catalog alone.
	ms := Models()
	ms[0] = nil
	require.NotNil(t, Models()[0])
}

// limits is what docs/upstream-ark.md#models says about one model.
type limits struct {
	id, name     string
	family       Family
	durMin       int
	durMax       int
	autoDuration bool
	frames       bool
	resolutions  []string
	defaultRes   string
	// default ratio and whether adaptive is allowed, per mode
	textRatio, imageRatio, refRatio string
	textAdaptive, imageAdaptive     bool
	refAdaptive                     bool
	text, first, firstLast          bool
	refImages, refVideos, refAudio  int
	audioAlone                      bool // reference audio may be the only reference
	autoDefault                     bool // duration defaults to -1 (the model chooses)
	audio, draft, flex, cameraFixed bool
	priority, webSearch             bool
	rpm, concurrency                int
}

var all4 = []string{"480p", "720p", "1080p", "4k"}

var specLimits = []limits{
	{
		id: "seedance-1-0-lite-t2v", name: "Seedance 1.0 Lite T2V", family: "1.0",
		durMin: 2, durMax: 12, frames: true, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "720p",
		textRatio: "16:9", text: true, flex: true, rpm: 300, concurrency: 5,
	},
	{
		id: "seedance-1-0-lite-i2v", name: "Seedance 1.0 Lite I2V", family: "1.0",
		durMin: 2, durMax: 12, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "720p",
		imageRatio: "adaptive", imageAdaptive: true, refRatio: "16:9",
		first: true, firstLast: true, refImages: 4, flex: true, rpm: 300, concurrency: 5,
	},
	{
		id: "seedance-1-0-pro", name: "Seedance 1.0 Pro", family: "1.0",
		durMin: 2, durMax: 12, frames: true, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "1080p",
		textRatio: "16:9", imageRatio: "adaptive", imageAdaptive: true,
		text: true, first: true, firstLast: true, flex: true, cameraFixed: true, rpm: 600, concurrency: 10,
	},
	{
		id: "seedance-1-0-pro-fast", name: "Seedance 1.0 Pro Fast", family: "1.0",
		durMin: 2, durMax: 12, frames: true, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "1080p",
		textRatio: "16:9", imageRatio: "adaptive", imageAdaptive: true,
		text: true, first: true, flex: true, cameraFixed: true, rpm: 600, concurrency: 10,
	},
	{
		id: "seedance-1-5-pro", name: "Seedance 1.5 Pro", family: "1.5",
		durMin: 4, durMax: 12, autoDuration: true, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "720p",
		textRatio: "adaptive", textAdaptive: true, imageRatio: "adaptive", imageAdaptive: true,
		text: true, first: true, firstLast: true, audio: true, draft: true, flex: true, cameraFixed: true,
		rpm: 600, concurrency: 10,
	},
	{
		id: "seedance-2-0", name: "Seedance 2.0", family: "2.0",
		durMin: 4, durMax: 15, autoDuration: true, resolutions: all4, defaultRes: "720p",
		textRatio: "adaptive", textAdaptive: true, imageRatio: "adaptive", imageAdaptive: true,
		refRatio: "adaptive", refAdaptive: true,
		text: true, first: true, firstLast: true, refImages: 9, refVideos: 3, refAudio: 3,
		audio: true, priority: true, webSearch: true, rpm: 600, concurrency: 10,
	},
	{
		id: "seedance-2-0-fast", name: "Seedance 2.0 Fast", family: "2.0",
		durMin: 4, durMax: 15, autoDuration: true, resolutions: []string{"480p", "720p"}, defaultRes: "720p",
		textRatio: "adaptive", textAdaptive: true, imageRatio: "adaptive", imageAdaptive: true,
		refRatio: "adaptive", refAdaptive: true,
		text: true, first: true, firstLast: true, refImages: 9, refVideos: 3, refAudio: 3,
		audio: true, priority: true, webSearch: true, rpm: 600, concurrency: 10,
	},
	// docs/upstream-ark.md#added-through-2026
	{
		id: "seedance-2-0-mini", name: "Seedance 2.0 Mini", family: "2.0",
		durMin: 4, durMax: 15, autoDuration: true, resolutions: []string{"480p", "720p"}, defaultRes: "720p",
		textRatio: "adaptive", textAdaptive: true, imageRatio: "adaptive", imageAdaptive: true,
		refRatio: "adaptive", refAdaptive: true,
		text: true, first: true, firstLast: true, refImages: 9, refVideos: 3, refAudio: 3,
		audio: true, priority: true, webSearch: true, rpm: 600, concurrency: 10,
	},
	{
		id: "seedance-2-5", name: "Seedance 2.5", family: "2.0",
		durMin: 4, durMax: 30, autoDuration: true, resolutions: []string{"480p", "720p", "1080p"}, defaultRes: "720p",
		textRatio: "adaptive", textAdaptive: true, imageRatio: "adaptive", imageAdaptive: true,
		refRatio: "adaptive", refAdaptive: true,
		text: true, first: true, firstLast: true, refImages: 30, refVideos: 10, refAudio: 10, audioAlone: true, autoDefault: true,
		audio: true, draft: true, priority: true, webSearch: true, rpm: 600, concurrency: 10,
	},
}

func (l limits) defaultDuration() int {
	if l.autoDefault {
		return -1
	}
	return 5
}

// baseRequest is a minimal valid request for the model's simplest mode.
func baseRequest(l limits) Request {
	if l.text {
		return Request{Prompt: "a cat"}
	}
	return Request{Prompt: "a cat", FirstFrame: "https://example.com/a.png"}
}

func urls(n int, kind string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://example.com/%s%d", kind, i)
	}
	return out
}

type limitCase struct {
	name  string
	edit  func(r *Request)
	field string // "" = accepted
}

// limitCases turns one model's spec limits into accept/reject cases at each boundary.
func limitCases(l limits) []limitCase {
	var cs []limitCase
	accept := func(name string, edit func(*Request)) { cs = append(cs, limitCase{name, edit, ""}) }
	reject := func(name, field string, edit func(*Request)) { cs = append(cs, limitCase{name, edit, field}) }
	either := func(ok bool, name, field string, edit func(*Request)) {
		if ok {
			accept(name, edit)
		} else {
			reject(name, field, edit)
		}
	}

	// duration
	accept("duration min", func(r *Request) { r.Duration = Int(l.durMin) })
	accept("duration max", func(r *Request) { r.Duration = Int(l.durMax) })
	reject("duration below min", "duration", func(r *Request) { r.Duration = Int(l.durMin - 1) })
	reject("duration above max", "duration", func(r *Request) { r.Duration = Int(l.durMax + 1) })
	reject("duration 0", "duration", func(r *Request) { r.Duration = Int(0) })
	reject("duration -2", "duration", func(r *Request) { r.Duration = Int(-2) })
	either(l.autoDuration, "duration -1", "duration", func(r *Request) { r.Duration = Int(-1) })

	// frames
	for _, f := range []int{29, 121, 289} {
		either(l.frames, fmt.Sprintf("frames %d", f), "frames", func(r *Request) { r.Frames = Int(f) })
	}
	for _, f := range []int{25, 30, 31, 293, 0, -1} {
		reject(fmt.Sprintf("frames %d", f), "frames", func(r *Request) { r.Frames = Int(f) })
	}

	// resolution
	for _, res := range all4 {
		either(slices.Contains(l.resolutions, res), "resolution "+res, "resolution", func(r *Request) { r.Resolution = res })
	}
	reject("resolution 2k", "resolution", func(r *Request) { r.Resolution = "2k" })
	reject("resolution 1080", "resolution", func(r *Request) { r.Resolution = "1080" })

	// ratio in the base mode
	baseAdaptive := l.imageAdaptive
	if l.text {
		baseAdaptive = l.textAdaptive
	}
	for _, ratio := range []string{"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"} {
		accept("ratio "+ratio, func(r *Request) { r.Ratio = ratio })
	}
	either(baseAdaptive, "ratio adaptive", "ratio", func(r *Request) { r.Ratio = "adaptive" })
	reject("ratio 2:1", "ratio", func(r *Request) { r.Ratio = "2:1" })
	reject("ratio 16x9", "ratio", func(r *Request) { r.Ratio = "16x9" })

	// input modes
	if l.text {
		reject("text without prompt", "prompt", func(r *Request) { r.Prompt = " " })
	} else {
		reject("text only", "first_frame", func(r *Request) { r.FirstFrame = "" })
	}
	either(l.first, "first frame", "first_frame", func(r *Request) { r.FirstFrame = "https://example.com/f.png" })
	either(l.first, "first frame without prompt", "first_frame", func(r *Request) {
		r.FirstFrame, r.Prompt = "https://example.com/f.png", ""
	})
	either(l.firstLast, "first and last frame", "last_frame", func(r *Request) {
		r.FirstFrame, r.LastFrame = "https://example.com/f.png", "https://example.com/l.png"
	})
	reject("last frame alone", "last_frame", func(r *Request) { r.FirstFrame, r.LastFrame = "", "https://example.com/l.png" })

	refs := func(images, videos, audio int) func(*Request) {
		return func(r *Request) {
			r.FirstFrame = ""
			r.ReferenceImages, r.ReferenceVideos, r.ReferenceAudio = urls(images, "i"), urls(videos, "v"), urls(audio, "a")
		}
	}
	if l.refImages > 0 {
		accept("1 reference image", refs(1, 0, 0))
		accept("max reference images", refs(l.refImages, 0, 0))
		reject("too many reference images", "reference_images", refs(l.refImages+1, 0, 0))
		reject("first frame and reference images", "reference_images", func(r *Request) {
			r.FirstFrame, r.ReferenceImages = "https://example.com/f.png", urls(1, "i")
		})
		reject("empty reference image url", "reference_images", func(r *Request) {
			r.FirstFrame, r.ReferenceImages = "", []string{"https://example.com/a", ""}
		})
	} else {
		reject("reference image", "reference_images", refs(1, 0, 0))
	}
	if l.refVideos > 0 {
		accept("max reference videos", refs(0, l.refVideos, 0))
		reject("too many reference videos", "reference_videos", refs(0, l.refVideos+1, 0))
	} else {
		reject("reference video", "reference_videos", refs(0, 1, 0))
	}
	if l.refAudio > 0 {
		accept("max reference audio with an image", refs(1, 0, l.refAudio))
		accept("reference audio with a video", refs(0, 1, 1))
		either(l.audioAlone, "reference audio alone", "reference_audio", refs(0, 0, 1))
		reject("too many reference audio", "reference_audio", refs(1, 0, l.refAudio+1))
	} else {
		reject("reference audio", "reference_audio", refs(0, 0, 1))
	}
	either(l.draft, "draft_task_id", "draft_task_id", func(r *Request) {
		r.FirstFrame, r.Prompt, r.DraftTaskID = "", "", "cgt-20250101000000-abcde"
	})

	// seed
	accept("seed -1", func(r *Request) { r.Seed = Int64(-1) })
	accept("seed 0", func(r *Request) { r.Seed = Int64(0) })
	accept("seed max", func(r *Request) { r.Seed = Int64(4294967295) })
	reject("seed -2", "seed", func(r *Request) { r.Seed = Int64(-2) })
	reject("seed max+1", "seed", func(r *Request) { r.Seed = Int64(4294967296) })

	// switches
	either(l.audio, "generate_audio true", "generate_audio", func(r *Request) { r.GenerateAudio = Bool(true) })
	accept("generate_audio false", func(r *Request) { r.GenerateAudio = Bool(false) })
	either(l.cameraFixed, "camera_fixed true", "camera_fixed", func(r *Request) { r.CameraFixed = Bool(true) })
	accept("camera_fixed false", func(r *Request) { r.CameraFixed = Bool(false) })
	either(l.draft, "draft true", "draft", func(r *Request) { r.Draft = Bool(true) })
	accept("draft false", func(r *Request) { r.Draft = Bool(false) })
	accept("return_last_frame", func(r *Request) { r.ReturnLastFrame = Bool(true) })
	accept("watermark", func(r *Request) { r.Watermark = Bool(true) })
	either(l.webSearch, "web search", "tools", func(r *Request) { r.WebSearch = true })

	// service tier
	accept("service_tier default", func(r *Request) { r.ServiceTier = "default" })
	either(l.flex, "service_tier flex", "service_tier", func(r *Request) { r.ServiceTier = "flex" })
	reject("service_tier auto", "service_tier", func(r *Request) { r.ServiceTier = "auto" })

	// execution_expires_after
	accept("expires min", func(r *Request) { r.ExecutionExpiresAfter = Int(3600) })
	accept("expires max", func(r *Request) { r.ExecutionExpiresAfter = Int(259200) })
	reject("expires below", "execution_expires_after", func(r *Request) { r.ExecutionExpiresAfter = Int(3599) })
	reject("expires above", "execution_expires_after", func(r *Request) { r.ExecutionExpiresAfter = Int(259201) })

	// priority
	either(l.priority, "priority 0", "priority", func(r *Request) { r.Priority = Int(0) })
	either(l.priority, "priority 9", "priority", func(r *Request) { r.Priority = Int(9) })
	reject("priority 10", "priority", func(r *Request) { r.Priority = Int(10) })
	reject("priority -1", "priority", func(r *Request) { r.Priority = Int(-1) })

	// safety identifier
	accept("safety_identifier 64", func(r *Request) { r.SafetyIdentifier = strings.Repeat("x", 64) })
	accept("safety_identifier 64 runes", func(r *Request) { r.SafetyIdentifier = strings.Repeat("界", 64) })
	reject("safety_identifier 65", "safety_identifier", func(r *Request) { r.SafetyIdentifier = strings.Repeat("x", 65) })
	return cs
}

func TestNormalizeModelLimits(t *testing.T) {
	t.Parallel()
	require.Len(t, specLimits, len(Models()), "every model has spec limits")
	for _, l := range specLimits {
		m, _, ok := LookupModel(l.id)
		require.True(t, ok, l.id)
		for _, c := range limitCases(l) {
			t.Run(l.id+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				r := baseRequest(l)
				c.edit(&r)
				err := m.Normalize(&r)
				if c.field == "" {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				e := AsError(err)
				require.Contains(t, []Code{CodeInvalidParameter, CodeMissingParameter}, e.Code)
				require.Equal(t, c.field, e.Field, e.Message)
				require.NotEmpty(t, e.Message)
			})
		}
	}
}

func TestModelTableMatchesSpec(t *testing.T) {
	t.Parallel()
	for _, l := range specLimits {
		m, _, _ := LookupModel(l.id)
		require.Equal(t, l.name, m.Name)
		require.Equal(t, l.family, m.Family)
		require.Equal(t, l.rpm, m.RPM, l.id)
		require.Equal(t, l.concurrency, m.Concurrency, l.id)
		require.Equal(t, l.resolutions, m.Resolutions, l.id)
	}
}

func TestNormalizeDefaults(t *testing.T) {
	t.Parallel()
	for _, l := range specLimits {
		m, _, _ := LookupModel(l.id)
		modes := []struct {
			name  string
			edit  func(*Request)
			ratio string
			ok    bool
		}{
			{"text", func(r *Request) {}, l.textRatio, l.text},
			{"first frame", func(r *Request) { r.FirstFrame = "https://example.com/f" }, l.imageRatio, l.first},
			{"reference", func(r *Request) { r.ReferenceImages = urls(1, "i") }, l.refRatio, l.refImages > 0},
		}
		for _, md := range modes {
			if !md.ok {
				continue
			}
			t.Run(l.id+"/"+md.name, func(t *testing.T) {
				t.Parallel()
				r := Request{Prompt: "p"}
				md.edit(&r)
				require.NoError(t, m.Normalize(&r))
				wantRes := l.defaultRes
				if md.name == "reference" && l.id == "seedance-1-0-lite-i2v" {
					wantRes = "720p"
				}
				require.Equal(t, wantRes, r.Resolution)
				require.Equal(t, md.ratio, r.Ratio)
				require.Equal(t, l.defaultDuration(), *r.Duration)
				require.Nil(t, r.Frames)
				require.Equal(t, int64(-1), *r.Seed)
				require.False(t, *r.Watermark)
				require.False(t, *r.ReturnLastFrame)
				require.Equal(t, "default", r.ServiceTier)
				require.Equal(t, 172800, *r.ExecutionExpiresAfter)
				if l.audio {
					require.True(t, *r.GenerateAudio)
				} else {
					require.Nil(t, r.GenerateAudio)
				}
				if l.cameraFixed {
					require.False(t, *r.CameraFixed)
				} else {
					require.Nil(t, r.CameraFixed)
				}
				if l.draft {
					require.False(t, *r.Draft)
				} else {
					require.Nil(t, r.Draft)
				}
				require.Nil(t, r.Priority)

				// Normalize is idempotent.
				again := r
				require.NoError(t, m.Normalize(&again))
				require.Equal(t, r, again)
			})
		}
	}
}

func TestNormalizeClearsUnsupportedFalseSwitches(t *testing.T) {
	t.Parallel()
	m, _, _ := LookupModel("seedance-2-0")
	r := Request{Prompt: "p", CameraFixed: Bool(false), Draft: Bool(false), GenerateAudio: Bool(false)}
	require.NoError(t, m.Normalize(&r))
	require.Nil(t, r.CameraFixed)
	require.Nil(t, r.Draft)
	require.False(t, *r.GenerateAudio, "an explicit false on an audio model is kept")
}

func TestNormalizeLiteI2VReferenceRules(t *testing.T) {
	t.Parallel()
	m, _, _ := LookupModel("seedance-1-0-lite-i2v")
	ref := func(edit func(*Request)) error {
		r := Request{Prompt: "p", ReferenceImages: urls(2, "i")}
		edit(&r)
		return m.Normalize(&r)
	}
	err := ref(func(r *Request) { r.Resolution = "1080p" })
	require.Equal(t, "resolution", AsError(err).Field)
	require.Equal(t, `resolution "1080p" is not allowed for Seedance 1.0 Lite I2V with reference images: allowed 480p, 720p`, AsError(err).Message)
	require.NoError(t, ref(func(r *Request) { r.Resolution = "720p" }))
	err = ref(func(r *Request) { r.Ratio = "adaptive" })
	require.Equal(t, "ratio", AsError(err).Field)
	require.Contains(t, AsError(err).Message, "with reference inputs")

	// 1080p is fine from a first frame.
	r := Request{FirstFrame: "https://example.com/f", Resolution: "1080p"}
	require.NoError(t, m.Normalize(&r))
}

func TestNormalizeFramesWinOverDuration(t *testing.T) {
	t.Parallel()
	m, _, _ := LookupModel("seedance-1-0-pro")
	r := Request{Prompt: "p", Frames: Int(121), Duration: Int(3)}
	require.NoError(t, m.Normalize(&r))
	require.Equal(t, 121, *r.Frames)
	require.Nil(t, r.Duration)

	// An invalid duration is still an error even though frames would win.
	r = Request{Prompt: "p", Frames: Int(121), Duration: Int(30)}
	require.Equal(t, "duration", AsError(m.Normalize(&r)).Field)
}

func TestNormalizeDraft(t *testing.T) {
	t.Parallel()
	m, _, _ := LookupModel("seedance-1-5-pro")
	cases := []struct {
		name  string
		edit  func(*Request)
		field string
	}{
		{"defaults to 480p", func(r *Request) {}, ""},
		{"480p given", func(r *Request) { r.Resolution = "480P" }, ""},
		{"720p given", func(r *Request) { r.Resolution = "720p" }, "resolution"},
		{"with return_last_frame", func(r *Request) { r.ReturnLastFrame = Bool(true) }, "return_last_frame"},
		{"with flex", func(r *Request) { r.ServiceTier = "flex" }, "service_tier"},
		{"with draft task", func(r *Request) { r.DraftTaskID = "cgt-1" }, "draft"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Request{Prompt: "p", Draft: Bool(true)}
			c.edit(&r)
			err := m.Normalize(&r)
			if c.field != "" {
				require.Equal(t, c.field, AsError(err).Field, "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "480p", r.Resolution)
			require.True(t, *r.Draft)
		})
	}
}

func TestNormalizeMisc(t *testing.T) {
	t.Parallel()
	pro15, _, _ := LookupModel("seedance-1-5-pro")
	v2, _, _ := LookupModel("seedance-2-0")

	r := Request{Prompt: "p", Resolution: "1080P", Ratio: "ADAPTIVE", ServiceTier: "Flex"}
	require.NoError(t, pro15.Normalize(&r))
	require.Equal(t, "1080p", r.Resolution)
	require.Equal(t, "adaptive", r.Ratio)
	require.Equal(t, "flex", r.ServiceTier)

	r = Request{Prompt: "p", Priority: Int(5), ServiceTier: "flex"}
	require.Equal(t, "service_tier", AsError(v2.Normalize(&r)).Field, "flex is refused on 2.0 before priority")

	r = Request{Prompt: "p", ReferenceVideos: urls(1, "v"), ReferenceAudio: urls(3, "a"), Resolution: "4k", Priority: Int(9)}
	require.NoError(t, v2.Normalize(&r))

	// Draft task mode needs no prompt and is 1.5 pro only.
	r = Request{DraftTaskID: "cgt-1"}
	require.NoError(t, pro15.Normalize(&r))
	r = Request{DraftTaskID: "cgt-1", FirstFrame: "https://example.com/f"}
	require.Equal(t, "draft_task_id", AsError(pro15.Normalize(&r)).Field)
}

func TestNormalizeErrorMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		model string
		req   Request
		code  Code
		field string
		msg   string
	}{
		{"seedance-1-5-pro", Request{Prompt: "p", Duration: Int(15)}, CodeInvalidParameter, "duration",
			"duration 15 is not allowed for Seedance 1.5 Pro: allowed 4–12 or -1"},
		{"seedance-1-0-pro", Request{Prompt: "p", Duration: Int(-1)}, CodeInvalidParameter, "duration",
			"duration -1 is not allowed for Seedance 1.0 Pro: allowed 2–12"},
		{"seedance-1-0-pro", Request{Prompt: "p", Frames: Int(30)}, CodeInvalidParameter, "frames",
			"frames 30 is not allowed for Seedance 1.0 Pro: allowed 29–289 of the form 25+4n"},
		{"seedance-1-5-pro", Request{Prompt: "p", Frames: Int(121)}, CodeInvalidParameter, "frames",
			"frames 121 is not supported by Seedance 1.5 Pro: use duration (allowed 4–12 or -1)"},
		{"seedance-2-0-fast", Request{Prompt: "p", Resolution: "1080p"}, CodeInvalidParameter, "resolution",
			`resolution "1080p" is not allowed for Seedance 2.0 Fast: allowed 480p, 720p`},
		{"seedance-1-0-pro", Request{Prompt: "p", Ratio: "adaptive"}, CodeInvalidParameter, "ratio",
			`ratio "adaptive" is not allowed for Seedance 1.0 Pro with a text-only prompt: allowed 16:9, 4:3, 1:1, 3:4, 9:16, 21:9`},
		{"seedance-1-0-pro", Request{Prompt: "p", Seed: Int64(-5)}, CodeInvalidParameter, "seed",
			"seed -5 is not allowed: allowed -1 (random) to 4294967295"},
		{"seedance-1-0-pro", Request{Prompt: "p", GenerateAudio: Bool(true)}, CodeInvalidParameter, "generate_audio",
			"generate_audio is not supported by Seedance 1.0 Pro: only Seedance 1.5 Pro, Seedance 2.0, Seedance 2.0 Fast, Seedance 2.0 Mini, Seedance 2.5"},
		{"seedance-2-0", Request{Prompt: "p", ServiceTier: "flex"}, CodeInvalidParameter, "service_tier",
			`service_tier "flex" is not supported by Seedance 2.0: allowed default`},
		{"seedance-1-0-pro", Request{Prompt: "p", ServiceTier: "auto"}, CodeInvalidParameter, "service_tier",
			`service_tier "auto" is not allowed for Seedance 1.0 Pro: allowed default, flex`},
		{"seedance-1-0-pro", Request{Prompt: ""}, CodeMissingParameter, "prompt",
			"prompt is required when no image, video or draft task is given"},
		{"seedance-1-0-lite-i2v", Request{Prompt: "p"}, CodeMissingParameter, "first_frame",
			"Seedance 1.0 Lite I2V needs an image input: allowed first_frame, first_frame+last_frame, up to 4 reference_images"},
		{"seedance-1-0-lite-t2v", Request{Prompt: "p", FirstFrame: "u"}, CodeInvalidParameter, "first_frame",
			"first_frame is not supported by Seedance 1.0 Lite T2V: allowed text"},
		{"seedance-1-0-pro-fast", Request{FirstFrame: "u", LastFrame: "v"}, CodeInvalidParameter, "last_frame",
			"last_frame is not supported by Seedance 1.0 Pro Fast: allowed text, first_frame"},
		{"seedance-2-0", Request{Prompt: "p", ReferenceImages: urls(10, "i")}, CodeInvalidParameter, "reference_images",
			"10 reference_images given, Seedance 2.0 takes at most 9"},
		{"seedance-2-0", Request{Prompt: "p", ReferenceAudio: urls(1, "a")}, CodeInvalidParameter, "reference_audio",
			"reference_audio needs a reference image or video beside it on Seedance 2.0"},
		{"seedance-1-0-pro", Request{Prompt: "p", LastFrame: "u"}, CodeInvalidParameter, "last_frame",
			"last_frame needs a first_frame"},
		{"seedance-1-0-pro", Request{Prompt: "p", ExecutionExpiresAfter: Int(600)}, CodeInvalidParameter, "execution_expires_after",
			"execution_expires_after 600 is not allowed: allowed 3600–259200 seconds"},
		{"seedance-1-0-pro", Request{Prompt: "p", Draft: Bool(true)}, CodeInvalidParameter, "draft",
			"draft is not supported by Seedance 1.0 Pro: only Seedance 1.5 Pro, Seedance 2.5"},
	}
	for _, c := range cases {
		t.Run(c.field+"/"+c.msg, func(t *testing.T) {
			t.Parallel()
			m, _, _ := LookupModel(c.model)
			r := c.req
			err := m.Normalize(&r)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, c.code, e.Code)
			require.Equal(t, c.field, e.Field)
			require.Equal(t, c.msg, e.Message)
		})
	}
}

// The seeds' own request examples, as their dialects would decode them, must pass.
func TestNormalizeSeedExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		model string
		req   Request
		check func(t *testing.T, r Request)
	}{
		{"000 first+last", "doubao-seedance-1-5-pro-responses", Request{
			Prompt: "girl says cheese", FirstFrame: "https://x/first.jpeg", LastFrame: "https://x/last.jpeg",
			ReturnLastFrame: Bool(false), GenerateAudio: Bool(true), Resolution: "1080p", Ratio: "16:9",
			Duration: Int(5), Seed: Int64(-1), CameraFixed: Bool(false), Watermark: Bool(false),
		}, func(t *testing.T, r Request) { require.Equal(t, "1080p", r.Resolution) }},
		{"001 first frame adaptive", "seedance-1-0-pro-250528", Request{
			Prompt: "the lady drives out", FirstFrame: "https://x/a.png", Ratio: "adaptive", Duration: Int(6), Watermark: Bool(false),
		}, func(t *testing.T, r Request) {
			require.Equal(t, "adaptive", r.Ratio)
			require.Equal(t, "1080p", r.Resolution)
		}},
		{"002 text with audio", "doubao-seedance-1-5-pro", Request{
			Prompt: "a kitten", Duration: Int(5), Ratio: "16:9", Resolution: "720p", GenerateAudio: Bool(true),
		}, nil},
		{"002 first+last", "doubao-seedance-1-5-pro", Request{
			Prompt: "day to night", FirstFrame: "https://x/day.png", LastFrame: "https://x/night.png", Duration: Int(5),
		}, nil},
		{"003 audio", "doubao-seedance-1-5-pro-251215", Request{
			Prompt: "a girl holds a fox", GenerateAudio: Bool(true), Ratio: "16:9", Duration: Int(5),
		}, nil},
		{"003 first+last", "doubao-seedance-1-0-pro-250528", Request{
			Prompt: "360", FirstFrame: "https://x/f.jpeg", LastFrame: "https://x/l.jpeg",
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _, ok := LookupModel(c.model)
			require.True(t, ok)
			r := c.req
			require.NoError(t, m.Normalize(&r))
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func TestRelaxSeed004(t *testing.T) {
	t.Parallel()
	m, res, ok := LookupModel("seedance-1.5-pro-1080p")
	require.True(t, ok)
	require.Equal(t, "1080p", res)
	// Seed 004's example body, as the jobs dialect decodes it; explicit resolution wins.
	r := Request{
		Prompt: "cinematic street", FirstFrame: "https://example.com/first.png", LastFrame: "https://example.com/last.png",
		ReferenceImages: []string{"https://example.com/ref.png"}, ReferenceVideos: []string{"https://example.com/ref.mp4"},
		Resolution: "720p", Duration: Int(5), Ratio: "16:9", Seed: Int64(12345), CallbackURL: "https://example.com/webhook",
		Frames: Int(121), CameraFixed: Bool(false), Watermark: Bool(true), ReturnLastFrame: Bool(false),
		ServiceTier: "auto", GenerateAudio: Bool(false), ExecutionExpiresAfter: Int(600), Draft: Bool(false),
	}
	strict := r
	require.Error(t, m.Normalize(&strict))

	notes := m.Relax(&r)
	require.NotEmpty(t, notes)
	require.NoError(t, m.Normalize(&r))
	require.Equal(t, "https://example.com/last.png", r.LastFrame)
	require.Nil(t, r.ReferenceImages)
	require.Nil(t, r.ReferenceVideos)
	require.Nil(t, r.Frames)
	require.Equal(t, 5, *r.Duration)
	require.Equal(t, "default", r.ServiceTier)
	require.Equal(t, 3600, *r.ExecutionExpiresAfter)
	require.Equal(t, "720p", r.Resolution)
	require.True(t, *r.Watermark)
}

func TestRelax(t *testing.T) {
	t.Parallel()
	cases := []struct {
		model string
		req   Request
		want  Request
	}{
		{"seedance-1-0-pro-fast", Request{Prompt: "p", FirstFrame: "f", LastFrame: "l", GenerateAudio: Bool(true), Duration: Int(-1)},
			Request{Prompt: "p", FirstFrame: "f", Duration: Int(5)}},
		{"seedance-1-5-pro", Request{Prompt: "p", Frames: Int(289), Duration: nil, Priority: Int(3), WebSearch: true, Resolution: "4k"},
			Request{Prompt: "p", Duration: Int(12)}},
		{"seedance-2-0", Request{Prompt: "p", ReferenceImages: urls(12, "i"), ReferenceAudio: urls(1, "a"), ServiceTier: "flex", Duration: Int(20)},
			Request{Prompt: "p", ReferenceImages: urls(9, "i"), ReferenceAudio: urls(1, "a"), Duration: Int(15)}},
		{"seedance-2-0", Request{Prompt: "p", ReferenceAudio: urls(1, "a"), Draft: Bool(true), CameraFixed: Bool(true)},
			Request{Prompt: "p"}},
		{"seedance-1-0-pro", Request{Prompt: "p", Ratio: "adaptive", Seed: Int64(-9), ExecutionExpiresAfter: Int(1 << 30)},
			Request{Prompt: "p", ExecutionExpiresAfter: Int(259200)}},
		{"seedance-1-5-pro", Request{Prompt: "p", Draft: Bool(true), ReturnLastFrame: Bool(true)},
			Request{Prompt: "p", ReturnLastFrame: Bool(true)}},
	}
	for _, c := range cases {
		m, _, _ := LookupModel(c.model)
		r := c.req
		notes := m.Relax(&r)
		require.NotEmpty(t, notes)
		require.Equal(t, c.want, r, "%s: %v", c.model, notes)
		require.NoError(t, m.Normalize(&r), "%v", notes)
	}
	// A valid request is left alone.
	m, _, _ := LookupModel("seedance-1-0-pro")
	r := Request{Prompt: "p", Frames: Int(121), Resolution: "720p", ServiceTier: "flex"}
	want := r
	require.Empty(t, m.Relax(&r))
	require.Equal(t, want, r)
}

func TestInputModeAndRules(t *testing.T) {
	t.Parallel()
	require.Equal(t, ModeText, InputModeOf(&Request{Prompt: "p"}))
	require.Equal(t, ModeFirstFrame, InputModeOf(&Request{FirstFrame: "f"}))
	require.Equal(t, ModeFirstLast, InputModeOf(&Request{FirstFrame: "f", LastFrame: "l"}))
	require.Equal(t, ModeReference, InputModeOf(&Request{ReferenceVideos: []string{"v"}}))
	require.Equal(t, ModeDraftTask, InputModeOf(&Request{DraftTaskID: "cgt"}))

	lite, _, _ := LookupModel("seedance-1-0-lite-i2v")
	require.Equal(t, []InputMode{ModeFirstFrame, ModeFirstLast, ModeReference}, lite.Modes())
	require.True(t, lite.AllowsMode(ModeReference))
	require.False(t, lite.AllowsMode(ModeText))
	require.Equal(t, []string{"480p", "720p"}, lite.ResolutionsFor(ModeReference))
	require.Equal(t, []string{"480p", "720p", "1080p"}, lite.ResolutionsFor(ModeFirstFrame))
}

// A prompt is bounded in characters, not bytes, on every model and in every
// input mode; a longer one is an error naming prompt, its length and the limit.
func TestPromptLimit(t *testing.T) {
	t.Parallel()
	for _, m := range Models() {
		limit := m.PromptLimit()
		require.Equal(t, DefaultMaxPromptChars, limit, m.ID)
		base := Request{}
		if !m.Inputs.Text {
			base.FirstFrame = "https://example.com/f.png"
		}

		// At the limit, in a 3-byte script: accepted.
		r := base
		r.Prompt = strings.Repeat("猫", limit)
		require.NoError(t, m.Normalize(&r), m.ID)

		for _, prompt := range []string{strings.Repeat("猫", limit+1), strings.Repeat("a", limit+1)} {
			r := base
			r.Prompt = prompt
			e := AsError(m.Normalize(&r))
			require.NotNil(t, e, m.ID)
			require.Equal(t, CodeInvalidParameter, e.Code, m.ID)
			require.Equal(t, "prompt", e.Field, m.ID)
			require.Equal(t, fmt.Sprintf("prompt is %d characters long; %s takes at most %d", limit+1, m.Name, limit), e.Message)
		}
	}

	// The limit is the model's own when the catalog names one.
	m := *Models()[0]
	m.MaxPromptChars = 10
	r := Request{Prompt: strings.Repeat("x", 11)}
	require.Equal(t, "prompt", AsError(m.Normalize(&r)).Field)

	// A huge prompt is refused at once, whatever else is wrong with the request.
	r = Request{Prompt: strings.Repeat("x", 30<<20), Duration: Int(999)}
	require.Equal(t, "prompt", AsError(m.Normalize(&r)).Field)
}
