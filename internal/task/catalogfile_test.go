package task

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestEmbeddedCatalog(t *testing.T) {
	t.Parallel()
	cat := Current()
	require.Equal(t, CatalogVersion, cat.Version)
	require.Equal(t, EmbeddedSource, cat.Source)
	for _, m := range cat.Models() {
		require.Equal(t, EmbeddedSource, m.Source, m.ID)
		require.NotEmpty(t, m.OutputFormats, m.ID)
		require.Equal(t, 60, m.Billing.DraftPercent, m.ID)
	}
	// Every field of the file is one the decoder knows (strict decoding of
	// the whole file, not only what checkFields walks).
	var f struct {
		Version int         `yaml:"version"`
		Models  []modelSpec `yaml:"models"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(embeddedCatalog)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&f))
	require.Len(t, f.Models, len(cat.Models()))
}

// The new models as docs/upstream-ark.md#added-through-2026 describes them.
func TestNewModels(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"doubao-seedance-2-5-260628":      "seedance-2-5",
		"dreamina-seedance-2-5-260628":    "seedance-2-5",
		"seedance-2-5":                    "seedance-2-5",
		"doubao-seedance-2-0-mini-260615": "seedance-2-0-mini",
		"seedance-2-0-mini":               "seedance-2-0-mini",
		"bytedance/seedance-2.0":          "seedance-2-0",
		"bytedance/seedance-2.0-fast":     "seedance-2-0-fast",
		"bytedance/seedance-1-5-pro":      "seedance-1-5-pro",
		"ByteDance/Seedance-2.0-720p":     "seedance-2-0",
	} {
		m, _, ok := LookupModel(name)
		require.True(t, ok, name)
		require.Equal(t, want, m.ID, name)
	}
	v25, _, _ := LookupModel("seedance-2-5")
	require.Equal(t, DurationLimits{Min: 4, Max: 30, Default: -1, Auto: true}, v25.Durations)
	require.Equal(t, []string{"mp4", "mov"}, v25.OutputFormats)
	require.Equal(t, []InputMode{ModeFirstFrame, ModeFirstLast, ModeEdit, ModeExtend}, v25.AdaptiveRequired)
	require.Equal(t, 30, v25.Inputs.MaxReferenceImages)
	require.Equal(t, 10, v25.Inputs.MaxReferenceVideos)
	require.Equal(t, 10, v25.Inputs.MaxReferenceAudio)
	require.False(t, v25.Inputs.AudioNeedsVisual)
	require.True(t, v25.Billing.InputVideo)
	mini, _, _ := LookupModel("seedance-2-0-mini")
	require.Equal(t, []string{"480p", "720p"}, mini.Resolutions)
	require.Equal(t, []string{"mp4"}, mini.OutputFormats)
}

func TestNewFieldRules(t *testing.T) {
	t.Parallel()
	video := []string{"https://example.com/v.mp4"}
	cases := []struct {
		name, model string
		req         Request
		field       string // "" = accepted
		code        Code
		check       func(t *testing.T, r *Request)
	}{
		{name: "2.5 defaults to -1", model: "seedance-2-5", req: Request{Prompt: "p"},
			check: func(t *testing.T, r *Request) { require.Equal(t, -1, *r.Duration) }},
		{name: "2.5 30 s", model: "seedance-2-5", req: Request{Prompt: "p", Duration: Int(30)}},
		{name: "2.5 31 s", model: "seedance-2-5", req: Request{Prompt: "p", Duration: Int(31)}, field: "duration"},
		{name: "2.5 first frame fixed ratio", model: "seedance-2-5", req: Request{FirstFrame: "f", Ratio: "16:9"}, field: "ratio"},
		{name: "2.5 first+last fixed ratio", model: "seedance-2-5", req: Request{FirstFrame: "f", LastFrame: "l", Ratio: "1:1"}, field: "ratio"},
		{name: "2.5 first frame defaults to adaptive", model: "seedance-2-5", req: Request{FirstFrame: "f"},
			check: func(t *testing.T, r *Request) { require.Equal(t, "adaptive", r.Ratio) }},
		{name: "2.5 text fixed ratio", model: "seedance-2-5", req: Request{Prompt: "p", Ratio: "9:16"}},
		{name: "2.5 reference fixed ratio", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceImages: urls(2, "i"), Ratio: "4:3"}},
		{name: "2.5 audio only", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceAudio: urls(1, "a")}},
		{name: "2.5 30 images", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceImages: urls(30, "i")}},
		{name: "2.5 31 images", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceImages: urls(31, "i")}, field: "reference_images"},
		{name: "2.5 11 videos", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: urls(11, "v")}, field: "reference_videos"},
		{name: "2.5 mov", model: "seedance-2-5", req: Request{Prompt: "p", OutputFormat: "MOV"},
			check: func(t *testing.T, r *Request) { require.Equal(t, "mov", r.OutputFormat) }},
		{name: "2.5 webm", model: "seedance-2-5", req: Request{Prompt: "p", OutputFormat: "webm"}, field: "output_format"},
		{name: "2.0 mov", model: "seedance-2-0", req: Request{Prompt: "p", OutputFormat: "mov"}, field: "output_format"},
		{name: "2.0 mp4 is the default, cleared", model: "seedance-2-0", req: Request{Prompt: "p", OutputFormat: "mp4"},
			check: func(t *testing.T, r *Request) { require.Empty(t, r.OutputFormat) }},
		{name: "2.5 edit", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceTaskType: "edit"},
			check: func(t *testing.T, r *Request) {
				require.Equal(t, "edit", r.ReferenceTaskType)
				require.Equal(t, "adaptive", r.Ratio)
				require.Equal(t, ModeEdit, InputModeOf(r))
			}},
		{name: "2.5 editing spelling", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceTaskType: "Editing"},
			check: func(t *testing.T, r *Request) { require.Equal(t, "edit", r.ReferenceTaskType) }},
		{name: "2.5 extension spelling", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceTaskType: "extension"},
			check: func(t *testing.T, r *Request) {
				require.Equal(t, "extend", r.ReferenceTaskType)
				require.Equal(t, ModeExtend, InputModeOf(r))
			}},
		{name: "2.5 extend with audio", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceAudio: urls(1, "a"), ReferenceTaskType: "extend"}},
		{name: "2.5 edit without a video", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceImages: urls(1, "i"), ReferenceTaskType: "edit"},
			field: "reference_videos", code: CodeMissingParameter},
		{name: "2.5 extend with two videos", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: urls(2, "v"), ReferenceTaskType: "extend"},
			field: "reference_videos"},
		{name: "2.5 edit with a fixed ratio", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceTaskType: "edit", Ratio: "16:9"},
			field: "ratio"},
		{name: "2.5 edit and first frame", model: "seedance-2-5", req: Request{Prompt: "p", FirstFrame: "f", ReferenceTaskType: "edit"},
			field: "omni_reference_task_type"},
		{name: "2.5 reference without references", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceTaskType: "reference"},
			field: "reference_images", code: CodeMissingParameter},
		{name: "2.5 unknown task type", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceTaskType: "remix"}, field: "omni_reference_task_type"},
		{name: "2.5 auto", model: "seedance-2-5", req: Request{Prompt: "p", ReferenceImages: urls(1, "i"), ReferenceTaskType: "AUTO"},
			check: func(t *testing.T, r *Request) { require.Equal(t, "auto", r.ReferenceTaskType) }},
		{name: "2.0 edit", model: "seedance-2-0", req: Request{Prompt: "p", ReferenceVideos: video, ReferenceTaskType: "edit"}, field: "omni_reference_task_type"},
		{name: "2.0 mini auto is dropped", model: "seedance-2-0-mini", req: Request{Prompt: "p", ReferenceTaskType: "auto"},
			check: func(t *testing.T, r *Request) { require.Empty(t, r.ReferenceTaskType) }},
		{name: "2.0 mini audio only", model: "seedance-2-0-mini", req: Request{Prompt: "p", ReferenceAudio: urls(1, "a")}, field: "reference_audio"},
		{name: "2.0 mini 1080p", model: "seedance-2-0-mini", req: Request{Prompt: "p", Resolution: "1080p"}, field: "resolution"},
		{name: "2.0 mini 15 s", model: "seedance-2-0-mini", req: Request{Prompt: "p", Duration: Int(15)}},
		{name: "2.0 mini 16 s", model: "seedance-2-0-mini", req: Request{Prompt: "p", Duration: Int(16)}, field: "duration"},
		{name: "2.5 draft", model: "seedance-2-5", req: Request{Prompt: "p", Draft: Bool(true)},
			check: func(t *testing.T, r *Request) { require.Equal(t, "480p", r.Resolution) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, _, ok := LookupModel(c.model)
			require.True(t, ok)
			r := c.req
			err := m.Normalize(&r)
			if c.field == "" {
				require.NoError(t, err)
				if c.check != nil {
					c.check(t, &r)
				}
				return
			}
			e := AsError(err)
			require.NotNil(t, e, "want an error naming %s", c.field)
			require.Equal(t, c.field, e.Field, e.Message)
			if c.code != "" {
				require.Equal(t, c.code, e.Code)
			}
			require.NotEmpty(t, e.Message)
		})
	}
}

// Relax (the jobs dialect's default) turns what 2.5 refuses into what it takes.
func TestRelaxNewFields(t *testing.T) {
	t.Parallel()
	mini, _, _ := LookupModel("seedance-2-0-mini")
	r := Request{Prompt: "p", OutputFormat: "mov", ReferenceVideos: []string{"v"}, ReferenceTaskType: "edit"}
	require.Len(t, mini.Relax(&r), 2)
	require.NoError(t, mini.Normalize(&r))
	require.Empty(t, r.OutputFormat)
	require.Empty(t, r.ReferenceTaskType)

	v25, _, _ := LookupModel("seedance-2-5")
	r = Request{FirstFrame: "f", Ratio: "16:9"}
	require.NotEmpty(t, v25.Relax(&r))
	require.NoError(t, v25.Normalize(&r))
	require.Equal(t, "adaptive", r.Ratio)
}

func TestUsageTokens(t *testing.T) {
	t.Parallel()
	v25, _, _ := LookupModel("seedance-2-5")
	r := Request{Prompt: "p", Resolution: "720p", Ratio: "16:9", Duration: Int(5)}
	require.EqualValues(t, 108900, v25.EstimateTokens(&r, 0, 0)) // the published 720p 5 s figure
	// W × H × (input seconds + output seconds) × 24 / 1024, with the output's +1 frame.
	r.InputVideoSeconds = 4
	require.EqualValues(t, int64(1280*720*(5*24+1+4*24)/1024), v25.EstimateTokens(&r, 0, 0))
	r.Draft = Bool(true)
	require.EqualValues(t, int64(1280*720*(5*24+1+4*24)/1024)*60/100, v25.UsageTokens(&r, 1280, 720, 121))

	// Measured lengths count; unknown ones (0) are the catalog's estimate.
	require.InDelta(t, 3.5+15, v25.InputVideoSeconds([]float64{3.5, 0}), 1e-9)
	v15, _, _ := LookupModel("seedance-1-5-pro")
	require.Zero(t, v15.InputVideoSeconds([]float64{3.5}), "1.5 pro bills no input video")
	r15 := Request{Prompt: "p", Resolution: "720p", Ratio: "16:9", Duration: Int(5), InputVideoSeconds: 9}
	require.EqualValues(t, 108900, v15.EstimateTokens(&r15, 0, 0))
}

func writeCatalog(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// testModel is a complete model entry that only a catalog file adds.
const testModel = `
  - id: seedance-9-test
    name: Seedance 9 Test
    family: "2.0"
    ids: {volcengine: doubao-seedance-9-test-991231, byteplus: dreamina-seedance-9-test-991231, aliases: [s9t]}
    modes: [text, first_frame, reference]
    durations: {min: 3, max: 7, default: 4}
    resolutions: {allowed: [480p, 720p], default: 480p}
    ratios:
      text: {default: "1:1"}
      image: {default: adaptive, adaptive: true}
      reference: {default: "9:16"}
      fallback: "1:1"
    references: {images: 3, videos: 1, audio: 1, total: 4}
    features: {audio: true}
    output_formats: [mov, mp4]
    billing: {input_video: true, input_video_seconds: 6}
    rpm: 60
    concurrency: 2
`

func TestLoadCatalogFileMerges(t *testing.T) {
	t.Parallel()
	path := writeCatalog(t, `version: 1
models:
  - id: seedance-2-0
    durations: {max: 20}
    ids: {aliases: [my-seedance]}
`+testModel)
	cat, err := LoadCatalogFile(path)
	require.NoError(t, err)
	require.Equal(t, "embedded + "+path, cat.Source)
	require.Len(t, cat.Models(), len(Models())+1)

	v20, _, ok := cat.Lookup("my-seedance")
	require.True(t, ok)
	require.Equal(t, path, v20.Source)
	require.Equal(t, 20, v20.Durations.Max)
	require.Equal(t, 4, v20.Durations.Min, "values the file does not name stay")
	require.Equal(t, "dreamina-seedance-2-0-260128", v20.BytePlusID)
	_, _, ok = cat.Lookup("seedance-2.0")
	require.False(t, ok, "a list replaces the embedded list")
	require.NoError(t, v20.Normalize(&Request{Prompt: "p", Duration: Int(20)}))

	m, _, ok := cat.Lookup("S9T")
	require.True(t, ok)
	require.Equal(t, "seedance-9-test", m.ID)
	require.Equal(t, path, m.Source)
	r := Request{Prompt: "p"}
	require.NoError(t, m.Normalize(&r))
	require.Equal(t, 4, *r.Duration)
	require.Equal(t, "480p", r.Resolution)
	require.Equal(t, "1:1", r.Ratio)
	r = Request{Prompt: "p", ReferenceImages: urls(3, "i"), ReferenceVideos: urls(1, "v"), ReferenceAudio: urls(1, "a")}
	require.Equal(t, "reference_audio", AsError(m.Normalize(&r)).Field, "5 references over a total of 4")

	// The catalog in force is untouched until installed.
	_, _, ok = LookupModel("seedance-9-test")
	require.False(t, ok)
	v20now, _, _ := LookupModel("seedance-2-0")
	require.Equal(t, 15, v20now.Durations.Max)
}

func TestInstallRestores(t *testing.T) {
	// Not parallel: it changes the catalog in force.
	cat, err := LoadCatalogFile(writeCatalog(t, "models:"+testModel))
	require.NoError(t, err)
	restore := Install(cat)
	_, _, ok := LookupModel("seedance-9-test")
	require.True(t, ok)
	restore()
	_, _, ok = LookupModel("seedance-9-test")
	require.False(t, ok)
}

// A bad file's error names the file, the model and the field.
func TestLoadCatalogFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown field", "models:\n  - id: seedance-2-5\n    durations: {maximum: 40}\n",
			[]string{`model "seedance-2-5"`, "durations.maximum", "unknown field"}},
		{"unknown top field", "modelz: []\n", []string{`unknown field "modelz"`}},
		{"wrong type", "models:\n  - id: seedance-2-5\n    rpm: lots\n", []string{`model "seedance-2-5"`, "rpm", "whole number"}},
		{"max below min", "models:\n  - id: seedance-2-0\n    durations: {max: 3}\n", []string{`model "seedance-2-0"`, "durations.max", "3"}},
		{"default out of range", "models:\n  - id: seedance-2-0\n    durations: {default: 16}\n", []string{"durations.default", "16"}},
		{"bad resolution", "models:\n  - id: seedance-2-0-fast\n    resolutions: {allowed: [480p, 8k]}\n", []string{"resolutions.allowed[1]", "8k"}},
		{"4k outside 2.0", "models:\n  - id: seedance-1-5-pro\n    resolutions: {allowed: [720p, 4k]}\n", []string{"resolutions.allowed[1]", "family 1.5"}},
		{"default resolution", "models:\n  - id: seedance-2-0-fast\n    resolutions: {default: 1080p}\n", []string{"resolutions.default"}},
		{"bad ratio", "models:\n  - id: seedance-2-0\n    ratios: {text: {default: \"2:1\"}}\n", []string{"ratios.text.default", "2:1"}},
		{"adaptive not allowed", "models:\n  - id: seedance-1-0-pro\n    ratios: {text: {default: adaptive}}\n", []string{"ratios.text.default", "adaptive"}},
		{"required adaptive mode missing", "models:\n  - id: seedance-2-0\n    ratios: {adaptive_required: [edit]}\n", []string{"ratios.adaptive_required[0]", "edit"}},
		{"bad mode", "models:\n  - id: seedance-2-0\n    modes: [text, remix]\n", []string{"modes[1]", "remix"}},
		{"edit without videos", "models:\n  - id: seedance-2-0\n    modes: [text, edit]\n    references: {videos: 0}\n", []string{"references.videos"}},
		{"too many references", "models:\n  - id: seedance-2-0\n    references: {images: 101}\n", []string{"references.images", "101"}},
		{"total above sum", "models:\n  - id: seedance-2-0\n    references: {total: 16}\n", []string{"references.total", "16"}},
		{"bad format", "models:\n  - id: seedance-2-5\n    output_formats: [mp4, avi]\n", []string{"output_formats[1]", "avi"}},
		{"no formats", "models:\n  - id: seedance-2-5\n    output_formats: []\n", []string{"output_formats", "required"}},
		{"draft percent", "models:\n  - id: seedance-2-5\n    billing: {draft_percent: 0}\n", []string{"billing.draft_percent"}},
		{"rpm", "models:\n  - id: seedance-2-5\n    rpm: 0\n", []string{"rpm", "out of range"}},
		{"bad family", "models:\n  - id: seedance-2-5\n    family: \"3.0\"\n", []string{"family", "3.0"}},
		{"name clash", "models:\n  - id: seedance-2-5\n    ids: {aliases: [seedance-2.0]}\n", []string{`model "seedance-2-5"`, "ids", "seedance-2.0"}},
		{"missing id", "models:\n  - name: x\n", []string{"models[0]", "id"}},
		{"twice", "models:\n  - id: a\n  - id: a\n", []string{`model "a"`, "listed twice"}},
		{"incomplete new model", "models:\n  - id: seedance-9-test\n    name: T\n", []string{`model "seedance-9-test"`, "family"}},
		{"bad version", "version: 2\nmodels: []\n", []string{"version", "2"}},
		{"not yaml", "models: [\n", []string{"catalog file"}},
		{"empty", "", []string{"empty"}},
		{"draft_task without draft", "models:\n  - id: seedance-2-5\n    features: {draft: false}\n", []string{"features.draft"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := writeCatalog(t, c.body)
			_, err := LoadCatalogFile(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), "catalog file "+path)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := LoadCatalogFile(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "missing.yaml")
}

// FuzzCatalogFile: any file either loads into a catalog whose every model
// validates requests, or fails with an error naming the file; never a panic.
func FuzzCatalogFile(f *testing.F) {
	f.Add([]byte("models:" + testModel))
	f.Add([]byte("version: 1\nmodels:\n  - id: seedance-2-0\n    durations: {max: 20}\n"))
	f.Add([]byte(`{"models":[{"id":"seedance-2-5","rpm":5,"ratios":{"fallback":"1:1"}}]}`))
	f.Add([]byte("models:\n  - &a {id: x}\n  - *a\n"))
	f.Add([]byte("models:\n  - id: seedance-2-5\n    durations: &d {min: 1}\n    ratios: {text: *d}\n"))
	f.Add(embeddedCatalog)
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := ParseCatalog(embeddedCatalog, data, "fuzz.yaml")
		if err != nil {
			require.Contains(t, err.Error(), "catalog")
			return
		}
		for _, m := range cat.Models() {
			got, _, ok := cat.Lookup(m.ID)
			require.True(t, ok)
			require.Same(t, m, got)
			r := Request{Prompt: "p"}
			if !m.Inputs.Text {
				r.FirstFrame = "https://example.com/f.png"
			}
			_ = m.Normalize(&r) // must not panic
			_ = m.EstimateTokens(&r, 0, 0)
		}
	})
}
