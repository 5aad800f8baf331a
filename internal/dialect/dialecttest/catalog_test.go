package dialecttest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	arkp "github.com/seedgate/seedgate/internal/protocol/ark"
	jobsp "github.com/seedgate/seedgate/internal/protocol/jobs"
	openaip "github.com/seedgate/seedgate/internal/protocol/openai"
	responsesp "github.com/seedgate/seedgate/internal/protocol/responses"
	seedancep "github.com/seedgate/seedgate/internal/protocol/seedance"
	videosp "github.com/seedgate/seedgate/internal/protocol/videos"
	"github.com/seedgate/seedgate/internal/task"
)

// The catalog table: for every model the loaded catalog holds (the embedded
// file, plus SEEDGATE_CATALOG_FILE's), every dialect that can express a
// request accepts a valid one and refuses, naming the field its own way,
// what the model's catalog entry does not allow. Nothing here is written per
// model: the cases come from the entry's limits.

// creation is a create call in no dialect's shape yet.
type creation struct {
	prompt                 string
	duration               *int
	resolution, ratio      string
	firstFrame, lastFrame  string
	images, videos, audio  []string
	outputFormat, taskType string
}

// catalogDialect writes a creation in one dialect; ok is false when the
// dialect cannot express it.
type catalogDialect struct {
	name, path string
	body       func(model string, c creation) (body string, ok bool)
	// param is the name the dialect's error gives a task field, and errParam
	// reads it from an error answer.
	param    func(field string) string
	errParam func(b []byte) string
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func errorKey(key string) func(b []byte) string {
	return func(b []byte) string {
		var v struct {
			Error map[string]any `json:"error"`
		}
		_ = json.Unmarshal(b, &v)
		s, _ := v.Error[key].(string)
		return s
	}
}

// arkContent is content[] as Ark, seedance and responses write it.
func arkContent(c creation) string {
	items := []string{`{"type":"text","text":` + quote(c.prompt) + `}`}
	if c.firstFrame != "" {
		items = append(items, `{"type":"image_url","image_url":{"url":`+quote(c.firstFrame)+`},"role":"first_frame"}`)
	}
	if c.lastFrame != "" {
		items = append(items, `{"type":"image_url","image_url":{"url":`+quote(c.lastFrame)+`},"role":"last_frame"}`)
	}
	for _, u := range c.images {
		items = append(items, `{"type":"image_url","image_url":{"url":`+quote(u)+`},"role":"reference_image"}`)
	}
	for _, u := range c.videos {
		items = append(items, `{"type":"video_url","video_url":{"url":`+quote(u)+`},"role":"reference_video"}`)
	}
	for _, u := range c.audio {
		items = append(items, `{"type":"audio_url","audio_url":{"url":`+quote(u)+`},"role":"reference_audio"}`)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// arkParams are the top-level fields Ark, seedance and responses share.
func arkParams(c creation) string {
	var p []string
	if c.duration != nil {
		p = append(p, `"duration":`+strconv.Itoa(*c.duration))
	}
	for _, kv := range [][2]string{{"resolution", c.resolution}, {"ratio", c.ratio}, {"output_format", c.outputFormat},
		{"omni_reference_task_type", c.taskType}} {
		if kv[1] != "" {
			p = append(p, quote(kv[0])+":"+quote(kv[1]))
		}
	}
	if len(p) == 0 {
		return ""
	}
	return "," + strings.Join(p, ",")
}

func catalogDialects() []catalogDialect {
	ark := func(name, path string) catalogDialect {
		return catalogDialect{name: name, path: path,
			body: func(model string, c creation) (string, bool) {
				return `{"model":` + quote(model) + `,"content":` + arkContent(c) + arkParams(c) + `}`, true
			},
			param: arkp.Param, errParam: errorKey("param")}
	}
	return []catalogDialect{
		{name: "jobs", path: "/v1/jobs",
			body: func(model string, c creation) (string, bool) {
				in := map[string]any{"prompt": c.prompt}
				for k, v := range map[string]string{"first_frame_url": c.firstFrame, "last_frame_url": c.lastFrame,
					"resolution": c.resolution, "aspect_ratio": c.ratio, "output_format": c.outputFormat,
					"omni_reference_task_type": c.taskType} {
					if v != "" {
						in[k] = v
					}
				}
				for k, v := range map[string][]string{"reference_image_urls": c.images, "reference_video_urls": c.videos,
					"reference_audio_urls": c.audio} {
					if len(v) > 0 {
						in[k] = v
					}
				}
				if c.duration != nil {
					in["duration"] = *c.duration
				}
				b, _ := json.Marshal(map[string]any{"model": model, "strict": true, "input": in})
				return string(b), true
			},
			param: jobsp.Field, errParam: errorKey("field")},
		ark("ark", "/api/v3/contents/generations/tasks"),
		ark("byteplus", "/byteplus/v3/contents/generations/tasks"),
		{name: "seedance", path: "/v1/seedance/videos",
			body: func(model string, c creation) (string, bool) {
				// With a callback the call answers at once instead of waiting for the video.
				return `{"model":` + quote(model) + `,"content":` + arkContent(c) + arkParams(c) +
					`,"callback_url":"https://example.com/hook"}`, true
			},
			param: seedancep.Param, errParam: errorKey("field")},
		{name: "responses", path: "/v1/responses",
			body: func(model string, c creation) (string, bool) {
				return `{"model":` + quote(model) + `,"input":` + arkContent(c) + arkParams(c) + `}`, true
			},
			param: responsesp.Param, errParam: errorKey("param")},
		{name: "videos", path: "/v1/videos/generations",
			body: func(model string, c creation) (string, bool) {
				if len(c.images)+len(c.videos)+len(c.audio) > 0 || c.taskType != "" {
					return "", false // no reference inputs in this dialect
				}
				b := map[string]any{"model": model, "prompt": c.prompt}
				var imgs []string
				for _, u := range []string{c.firstFrame, c.lastFrame} {
					if u != "" {
						imgs = append(imgs, u)
					}
				}
				if len(imgs) > 0 {
					b["image_urls"] = imgs
				}
				for k, v := range map[string]string{"resolution": c.resolution, "aspect_ratio": c.ratio, "output_format": c.outputFormat} {
					if v != "" {
						b[k] = v
					}
				}
				if c.duration != nil {
					b["duration"] = *c.duration
				}
				out, _ := json.Marshal(b)
				return string(out), true
			},
			param: videosp.Param, errParam: errorKey("param")},
		{name: "openai", path: "/v1/videos",
			body: func(model string, c creation) (string, bool) {
				// The Videos API has prompt, seconds, size and one image: no
				// resolution or ratio of its own, references or formats.
				if len(c.images)+len(c.videos)+len(c.audio) > 0 || c.taskType != "" || c.outputFormat != "" ||
					c.resolution != "" || c.ratio != "" || c.lastFrame != "" {
					return "", false
				}
				b := map[string]any{"model": model, "prompt": c.prompt}
				if c.duration != nil {
					b["seconds"] = strconv.Itoa(*c.duration)
				}
				if c.firstFrame != "" {
					b["input_reference"] = map[string]string{"image_url": c.firstFrame}
				}
				out, _ := json.Marshal(b)
				return string(out), true
			},
			param: openaip.Param, errParam: errorKey("param")},
	}
}

// catalogCase is one request and the field it must be refused for ("" = accepted).
type catalogCase struct {
	name  string
	c     creation
	field string
}

func urlList(n int, kind string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://example.com/%s%d", kind, i)
	}
	return out
}

// catalogCases derives a model's cases from its catalog entry. image is a
// first frame every dialect can read.
func catalogCases(m *task.Model, image string) []catalogCase {
	in := m.Inputs
	base := func() creation {
		c := creation{prompt: "a lighthouse at dusk, waves below"}
		if !in.Text {
			c.firstFrame = image
		}
		return c
	}
	var cs []catalogCase
	add := func(name, field string, edit func(*creation)) {
		c := base()
		edit(&c)
		cs = append(cs, catalogCase{name, c, field})
	}

	add("valid at the longest duration, highest resolution and last format", "", func(c *creation) {
		c.duration = task.Int(m.Durations.Max)
		c.resolution = m.Resolutions[len(m.Resolutions)-1]
		if f := m.OutputFormats[len(m.OutputFormats)-1]; f != "mp4" {
			c.outputFormat = f
		}
	})
	add("over the longest duration", "duration", func(c *creation) { c.duration = task.Int(m.Durations.Max + 1) })
	bad := "2k"
	for _, r := range []string{task.Res4K, task.Res1080p, task.Res720p, task.Res480p} {
		if !slices.Contains(m.Resolutions, r) {
			bad = r
			break
		}
	}
	add("resolution "+bad, "resolution", func(c *creation) { c.resolution = bad })
	if !slices.Contains(m.OutputFormats, "mov") {
		add("output_format mov", "output_format", func(c *creation) { c.outputFormat = "mov" })
	}

	// Ratios in the frame modes: adaptive only where the catalog says so.
	if in.FirstFrame {
		field := ""
		if m.AdaptiveOnly(task.ModeFirstFrame) {
			field = "ratio"
		}
		add("first frame at 16:9", field, func(c *creation) { c.firstFrame, c.ratio = image, "16:9" })
		add("first frame, ratio left out", "", func(c *creation) { c.firstFrame = image })
	}
	if in.FirstLast && m.AdaptiveOnly(task.ModeFirstLast) {
		add("first and last frame at 1:1", "ratio", func(c *creation) { c.firstFrame, c.lastFrame, c.ratio = image, image, "1:1" })
	}

	// References: the most of each kind, one more, and the total.
	clear := func(c *creation) { c.firstFrame = "" }
	if in.MaxReferenceImages > 0 {
		add("most reference images", "", func(c *creation) { clear(c); c.images = urlList(in.MaxReferenceImages, "i") })
	}
	add("one reference image too many", "reference_images", func(c *creation) { clear(c); c.images = urlList(in.MaxReferenceImages+1, "i") })
	if in.MaxReferenceVideos > 0 {
		add("one reference video too many", "reference_videos", func(c *creation) {
			clear(c)
			c.images, c.videos = urlList(1, "i"), urlList(in.MaxReferenceVideos+1, "v")
		})
	}
	if in.MaxReferenceAudio > 0 {
		field := ""
		if in.AudioNeedsVisual {
			field = "reference_audio"
		}
		add("reference audio alone", field, func(c *creation) { clear(c); c.audio = urlList(1, "a") })
	}
	if total := in.MaxReferenceTotal; total > 0 {
		// One more than the total, each kind within its own limit; the error
		// names the last kind given.
		images := min(in.MaxReferenceImages, total+1)
		videos := min(in.MaxReferenceVideos, total+1-images)
		audio := total + 1 - images - videos
		field := map[bool]string{true: "reference_audio", false: "reference_videos"}[audio > 0]
		add("over the total of references", field, func(c *creation) {
			clear(c)
			c.images, c.videos, c.audio = urlList(images, "i"), urlList(videos, "v"), urlList(audio, "a")
		})
	}

	// Edit and extend: exactly one reference video.
	for _, tt := range []struct {
		mode     task.InputMode
		spelling string
		ok       bool
	}{{task.ModeEdit, "editing", in.Edit}, {task.ModeExtend, "extend", in.Extend}} {
		if !tt.ok {
			add(string(tt.mode)+" on a model without it", "omni_reference_task_type", func(c *creation) {
				clear(c)
				c.videos, c.taskType = urlList(1, "v"), string(tt.mode)
			})
			continue
		}
		add(tt.spelling+" of one video", "", func(c *creation) { clear(c); c.videos, c.taskType = urlList(1, "v"), tt.spelling })
		add(string(tt.mode)+" of two videos", "reference_videos", func(c *creation) {
			clear(c)
			c.videos, c.taskType = urlList(2, "v"), string(tt.mode)
		})
		if m.AdaptiveOnly(tt.mode) {
			add(string(tt.mode)+" at 16:9", "ratio", func(c *creation) {
				clear(c)
				c.videos, c.taskType, c.ratio = urlList(1, "v"), string(tt.mode), "16:9"
			})
		}
	}
	return cs
}

// runCatalogTable sends every model's cases in every dialect.
func runCatalogTable(t *testing.T, g *dialecttest.Gateway, models []*task.Model) {
	image := g.UploadPNG(640, 480)
	for _, m := range models {
		for _, d := range catalogDialects() {
			for _, cc := range catalogCases(m, image) {
				body, ok := d.body(m.VolcengineID, cc.c)
				if !ok {
					continue
				}
				t.Run(m.ID+"/"+d.name+"/"+cc.name, func(t *testing.T) {
					code, _, b := g.JSON("POST", d.path, body)
					if cc.field == "" {
						require.Less(t, code, 300, "%s refused a valid request %s: %s", d.name, body, b)
						return
					}
					require.Equal(t, http.StatusBadRequest, code, "%s: %s", body, b)
					require.Equal(t, d.param(cc.field), d.errParam(b), "%s names the field its way: %s", d.name, b)
				})
			}
		}
	}
}

func TestCatalogModelsInEveryDialect(t *testing.T) {
	t.Parallel()
	// Tasks stay queued: the table checks intake, not renders.
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h")
	runCatalogTable(t, g, task.Models())
}

// A model that only a catalog file names is accepted in every dialect,
// rendered by the sandbox and billed, input video included, with no code
// change. Not parallel: the file's catalog is in force while the gateway runs.
func TestCatalogFileAddsAModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`version: 1
models:
  - id: seedance-9-test
    name: Seedance 9 Test
    family: "2.0"
    ids: {volcengine: doubao-seedance-9-test-991231, aliases: [seedance-9]}
    modes: [text, first_frame, reference]
    durations: {min: 2, max: 6, default: 2}
    resolutions: {allowed: [480p], default: 480p}
    ratios:
      text: {default: "1:1"}
      image: {default: adaptive, adaptive: true}
      reference: {default: "9:16"}
      fallback: "1:1"
      adaptive_required: [first_frame]
    references: {images: 2, videos: 2, audio: 1, total: 3}
    features: {audio: false}
    output_formats: [mp4, mov]
    billing: {input_video: true, input_video_seconds: 3}
    rpm: 60
    concurrency: 2
`), 0o600))
	g := dialecttest.Start(t, "SEEDGATE_CATALOG_FILE="+path)

	m, _, ok := task.LookupModel("seedance-9")
	require.True(t, ok, "the file's catalog is in force")

	// GET /v1/models shows it, and where it came from.
	code, list, b := g.JSON("GET", "/v1/models", "")
	require.Equal(t, http.StatusOK, code, "%s", b)
	require.Equal(t, "embedded + "+path, list["catalog_source"])
	var found map[string]any
	for _, d := range list["data"].([]any) {
		if d.(map[string]any)["id"] == "seedance-9-test" {
			found = d.(map[string]any)
		}
	}
	require.NotNil(t, found, "%s", b)
	require.Equal(t, path, found["source"])
	require.Equal(t, []any{"mp4", "mov"}, found["output_formats"])

	// Rendered and billed: 480p 1:1 is 640×640; 2 s is 49 frames.
	code, job, b := g.JSON("POST", "/v1/jobs", `{"model":"seedance-9","strict":true,"input":{"prompt":"a paper boat"}}`)
	require.Equal(t, http.StatusOK, code, "%s", b)
	done := g.Wait(job["id"].(string))
	require.Equal(t, "succeeded", done.Status, "%+v", done)
	require.Len(t, done.Output.Videos, 1)
	require.Equal(t, 640, done.Output.Videos[0].Width)
	require.Equal(t, 640, done.Output.Videos[0].Height)
	require.InDelta(t, 2.0, done.Output.Videos[0].Duration, 0.05)
	require.EqualValues(t, task.Tokens(640, 640, 49), usageTokens(t, g, done.ID))

	// Input video is billed: the previous result by its recorded length (49
	// frames), an uploaded clip the gateway has not measured as the catalog's
	// 3 s. 480p 9:16 is 496×864; the output's 49 frames, plus 49 + 3 × 24.
	previous := done.Output.Videos[0].URL
	video := g.Upload("video", "clip.mp4", testVideo(t))
	code, job, b = g.JSON("POST", "/v1/jobs", `{"model":"seedance-9-test","strict":true,"input":{"prompt":"the same boat",`+
		`"reference_video_urls":[`+quote(previous)+`,`+quote(video)+`]}}`)
	require.Equal(t, http.StatusOK, code, "%s", b)
	done = g.Wait(job["id"].(string))
	require.Equal(t, "succeeded", done.Status, "%+v", done)
	require.EqualValues(t, task.Tokens(496, 864, 49+49+3*24), usageTokens(t, g, done.ID))

	// Last, as its accepted tasks queue behind the renders above (the model's
	// concurrency is 2).
	runCatalogTable(t, g, []*task.Model{m})
}

func usageTokens(t *testing.T, g *dialecttest.Gateway, id string) int64 {
	t.Helper()
	code, j, b := g.JSON("GET", "/v1/jobs/"+id, "")
	require.Equal(t, http.StatusOK, code, "%s", b)
	u, ok := j["usage"].(map[string]any)
	require.True(t, ok, "no usage: %s", b)
	return int64(u["total_tokens"].(float64))
}

// testVideo is a one-second MP4 made with ffmpeg.
func testVideo(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=24:duration=1",
		"-pix_fmt", "yuv420p", "-y", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// The sandbox renders the newest models' ordinary requests: 2.5 from text
// (its default duration, -1, renders the 5 s the estimate assumes) and 2.0
// mini from a first frame, whose adaptive ratio follows the image.
func TestNewModelsRender(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	image := g.UploadPNG(640, 480)
	code, v25, b := g.JSON("POST", "/api/v3/contents/generations/tasks",
		`{"model":"doubao-seedance-2-5-260628","content":[{"type":"text","text":"a red kite"}],"resolution":"480p","ratio":"16:9"}`)
	require.Equal(t, http.StatusOK, code, "%s", b)
	code, mini, b := g.JSON("POST", "/v1/jobs", `{"model":"seedance-2-0-mini","strict":true,"input":{"prompt":"the kite lands",`+
		`"first_frame_url":`+quote(image)+`,"resolution":"480p","duration":4}}`)
	require.Equal(t, http.StatusOK, code, "%s", b)

	done := g.Wait(v25["id"].(string))
	require.Equal(t, "succeeded", done.Status, "%+v", done)
	require.Equal(t, 864, done.Output.Videos[0].Width)
	require.Equal(t, 496, done.Output.Videos[0].Height)
	require.InDelta(t, 5.0, done.Output.Videos[0].Duration, 0.05)
	require.EqualValues(t, task.Tokens(864, 496, 121), usageTokens(t, g, done.ID))

	done = g.Wait(mini["id"].(string))
	require.Equal(t, "succeeded", done.Status, "%+v", done)
	require.Equal(t, 752, done.Output.Videos[0].Width, "4:3 at 480p")
	require.Equal(t, 560, done.Output.Videos[0].Height)
	require.InDelta(t, 4.0, done.Output.Videos[0].Duration, 0.05)
}
