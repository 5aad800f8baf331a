package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a settable clock shared by a provider and its test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type bundle struct {
	p     *Provider
	blobs blob.Store
	clock *fakeClock
}

// setup returns a provider with the default timings (1 s queued, 3 s running)
// on a fake clock standing at t0, storing into a fresh disk blob store.
func setup(t testing.TB) bundle {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	blobs, err := disk.New(t.TempDir())
	require.NoError(t, err)
	clock := &fakeClock{now: t0}
	p := New(Config{Clock: clock.Now, WorkDir: t.TempDir()}, blobs, nil, nil)
	return bundle{p: p, blobs: blobs, clock: clock}
}

func newTask(id, model string, r task.Request) *task.Task {
	dispatched := t0
	return &task.Task{ID: id, Model: model, Status: task.StatusQueued, Request: r, CreatedAt: t0, DispatchedAt: &dispatched}
}

// finish moves the clock past the run and checks the task, which renders it.
func (b bundle) finish(t testing.TB, tk *task.Task) provider.Update {
	t.Helper()
	b.clock.Set(t0.Add(4 * time.Second))
	u, err := b.p.Check(context.Background(), tk)
	require.NoError(t, err)
	return u
}

// fetch copies a stored blob to a local file, for ffprobe.
func (b bundle) fetch(t testing.TB, key string) (string, []byte) {
	t.Helper()
	obj, err := b.blobs.Open(context.Background(), key)
	require.NoError(t, err)
	defer obj.Close()
	data, err := io.ReadAll(obj)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), filepath.Base(key))
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path, data
}

// solid returns an image of one colour with a small marker square, as a PNG data URL.
func solid(t testing.TB, w, h int, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

var (
	red  = color.RGBA{220, 30, 30, 255}
	blue = color.RGBA{30, 40, 220, 255}
)

// averageColor decodes a PNG and averages its pixels.
func averageColor(t testing.TB, data []byte) (r, g, b float64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	bounds := img.Bounds()
	n := float64(bounds.Dx() * bounds.Dy())
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, b = r+float64(cr>>8)/n, g+float64(cg>>8)/n, b+float64(cb>>8)/n
		}
	}
	return r, g, b
}

func TestRenderModes(t *testing.T) {
	t.Parallel()
	type want struct {
		w, h, frames int
		ratio        string
		audio        bool
		lastFrame    bool
		// lastColor, when set, is the dominant channel of the last frame: 'r' or 'b'.
		lastColor byte
	}
	tests := []struct {
		name  string
		model string
		req   task.Request
		want  want
	}{
		{
			name:  "text, watermark, no audio model",
			model: "seedance-1-0-lite-t2v",
			req: task.Request{Prompt: "A paper boat sails across a puddle", Resolution: "480p", Ratio: "16:9",
				Duration: task.Int(2), Watermark: task.Bool(true), GenerateAudio: task.Bool(true)},
			want: want{w: 864, h: 480, frames: 49, ratio: "16:9"},
		},
		{
			name:  "text with audio and last frame",
			model: "seedance-1-5-pro",
			req: task.Request{Prompt: "一只猫在屋顶上散步", Resolution: "480p", Ratio: "1:1",
				Duration: task.Int(4), GenerateAudio: task.Bool(true), ReturnLastFrame: task.Bool(true)},
			want: want{w: 640, h: 640, frames: 97, ratio: "1:1", audio: true, lastFrame: true},
		},
		{
			name:  "first frame zoom, adaptive ratio",
			model: "seedance-1-0-lite-i2v",
			req: task.Request{Prompt: "slow push in", FirstFrame: solid(t, 400, 300, red), Resolution: "480p",
				Ratio: "adaptive", Duration: task.Int(2), ReturnLastFrame: task.Bool(true), Watermark: task.Bool(true)},
			want: want{w: 736, h: 544, frames: 49, ratio: "4:3", lastFrame: true, lastColor: 'r'},
		},
		{
			name:  "first frame camera fixed, frames",
			model: "seedance-1-0-pro",
			req: task.Request{FirstFrame: solid(t, 300, 500, blue), Resolution: "480p", Ratio: "9:16",
				Frames: task.Int(29), CameraFixed: task.Bool(true), ReturnLastFrame: task.Bool(true)},
			want: want{w: 480, h: 864, frames: 29, ratio: "9:16", lastFrame: true, lastColor: 'b'},
		},
		{
			name:  "first and last frame, audio off",
			model: "seedance-1-5-pro",
			req: task.Request{Prompt: "red turns blue", FirstFrame: solid(t, 640, 360, red), LastFrame: solid(t, 500, 500, blue),
				Resolution: "480p", Ratio: "adaptive", Duration: task.Int(4), GenerateAudio: task.Bool(false),
				ReturnLastFrame: task.Bool(true), Watermark: task.Bool(true)},
			want: want{w: 864, h: 496, frames: 97, ratio: "16:9", lastFrame: true, lastColor: 'b'},
		},
		{
			name:  "draft: 480p, no last frame",
			model: "seedance-1-5-pro",
			req: task.Request{Prompt: "draft", Resolution: "1080p", Ratio: "16:9", Duration: task.Int(4),
				Draft: task.Bool(true), GenerateAudio: task.Bool(true), ReturnLastFrame: task.Bool(true)},
			want: want{w: 864, h: 496, frames: 97, ratio: "16:9", audio: true},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := fmt.Sprintf("task_mode%d", i)
			u := b.finish(t, newTask(id, tt.model, tt.req))
			require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
			require.Equal(t, 100, u.Progress)

			// The video file, as stored.
			require.NotNil(t, u.Video)
			path, data := b.fetch(t, "results/"+id+"/video.mp4")
			sum := sha256.Sum256(data)
			require.Equal(t, task.File{
				ID: "file_" + id + "_video", Kind: "video", Purpose: "output", Name: "video.mp4",
				ContentType: "video/mp4", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
				Width: tt.want.w, Height: tt.want.h, Duration: float64(tt.want.frames) / 24,
				BlobKey: "results/" + id + "/video.mp4", TaskID: id, CreatedAt: t0.Add(4 * time.Second),
			}, *u.Video)

			info, err := mediatest.ProbeVideo(context.Background(), path)
			require.NoError(t, err)
			require.Equal(t, tt.want.w, info.Width)
			require.Equal(t, tt.want.h, info.Height)
			require.Equal(t, 24.0, info.FPS)
			require.Equal(t, tt.want.frames, info.Frames)
			require.InDelta(t, float64(tt.want.frames)/24, info.Duration, 1.0/24)
			require.Equal(t, "h264", info.Codec)
			require.Equal(t, "yuv420p", info.PixelFormat)
			require.Equal(t, tt.want.audio, info.HasAudio)
			if tt.want.audio {
				require.Equal(t, "aac", info.AudioCodec)
				require.Equal(t, 1, info.AudioChannels)
			}

			// The result and usage.
			res := u.Result
			require.NotNil(t, res)
			require.Equal(t, tt.want.w, res.Width)
			require.Equal(t, tt.want.h, res.Height)
			require.Equal(t, 24, res.FPS)
			require.Equal(t, tt.want.audio, res.HasAudio)
			require.Equal(t, tt.want.ratio, res.Ratio)
			require.Equal(t, "480p", res.Resolution)
			require.Equal(t, resolveSeed(nil, id), res.Seed, "no seed given: derived from the task id")
			require.Equal(t, u.Video.ID, res.VideoFileID)
			tokens := task.Tokens(tt.want.w, tt.want.h, tt.want.frames)
			if task.Or(tt.req.Draft, false) {
				tokens = tokens * 6 / 10
			}
			require.Equal(t, &task.Usage{CompletionTokens: tokens, TotalTokens: tokens}, u.Usage)

			// The thumbnail: a JPEG still of the video at its size, made by the render.
			require.NotNil(t, u.Thumbnail)
			require.Equal(t, "file_"+id+"_thumbnail", u.Thumbnail.ID)
			require.Equal(t, u.Thumbnail.ID, res.ThumbnailFileID)
			require.Equal(t, "image/jpeg", u.Thumbnail.ContentType)
			_, thumb := b.fetch(t, "results/"+id+"/thumbnail.jpg")
			require.Equal(t, int64(len(thumb)), u.Thumbnail.Size)
			thumbCfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
			require.NoError(t, err)
			require.Equal(t, tt.want.w, thumbCfg.Width)
			require.Equal(t, tt.want.h, thumbCfg.Height)

			// The last frame.
			if !tt.want.lastFrame {
				require.Nil(t, u.LastFrame)
				require.Empty(t, res.LastFrameFileID)
				_, err := b.blobs.Open(context.Background(), "results/"+id+"/last_frame.png")
				require.ErrorIs(t, err, blob.ErrNotFound)
				return
			}
			require.NotNil(t, u.LastFrame)
			require.Equal(t, u.LastFrame.ID, res.LastFrameFileID)
			require.Equal(t, "file_"+id+"_last_frame", u.LastFrame.ID)
			_, frame := b.fetch(t, "results/"+id+"/last_frame.png")
			require.Equal(t, int64(len(frame)), u.LastFrame.Size)
			cfg, err := png.DecodeConfig(bytes.NewReader(frame))
			require.NoError(t, err)
			require.Equal(t, tt.want.w, cfg.Width)
			require.Equal(t, tt.want.h, cfg.Height)
			r, _, bl := averageColor(t, frame)
			switch tt.want.lastColor {
			case 'r':
				require.Greater(t, r, 2*bl, "the last frame shows the red first frame")
			case 'b':
				require.Greater(t, bl, 2*r, "the last frame shows the blue image")
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	requests := map[string]task.Request{
		"text": {Prompt: "Lanterns drift over a lake at night", Resolution: "480p", Ratio: "16:9", Duration: task.Int(4),
			Seed: task.Int64(1234), GenerateAudio: task.Bool(true), Watermark: task.Bool(true), ReturnLastFrame: task.Bool(true)},
		"first_last": {FirstFrame: solid(t, 400, 300, red), LastFrame: solid(t, 400, 300, blue), Resolution: "480p",
			Ratio: "4:3", Duration: task.Int(4), Seed: task.Int64(99), GenerateAudio: task.Bool(true)},
		"first_frame": {FirstFrame: solid(t, 400, 300, blue), Resolution: "480p", Ratio: "4:3", Duration: task.Int(4),
			Seed: task.Int64(7), GenerateAudio: task.Bool(false)},
	}
	for name, req := range requests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Two independent providers and stores, and two task ids: only the
			// request and the seed may decide the bytes.
			var sums []string
			for i := range 2 {
				b := setup(t)
				u := b.finish(t, newTask(fmt.Sprintf("task_det_%s_%d", name, i), "seedance-1-5-pro", req))
				require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
				sums = append(sums, u.Video.SHA256)
				if u.LastFrame != nil {
					sums = append(sums, u.LastFrame.SHA256)
				}
			}
			half := len(sums) / 2
			require.Equal(t, sums[:half], sums[half:], "same request and seed, same bytes")
		})
	}

	t.Run("another seed", func(t *testing.T) {
		t.Parallel()
		req := requests["text"]
		req.ReturnLastFrame = nil
		b := setup(t)
		u1 := b.finish(t, newTask("task_seed_a", "seedance-1-5-pro", req))
		req.Seed = task.Int64(1235)
		u2 := b.finish(t, newTask("task_seed_b", "seedance-1-5-pro", req))
		require.NotEqual(t, u1.Video.SHA256, u2.Video.SHA256)
		require.Equal(t, int64(1234), u1.Result.Seed)
		require.Equal(t, int64(1235), u2.Result.Seed)
	})
}

func TestNastyPrompt(t *testing.T) {
	t.Parallel()
	prompt := "It's a \"test\": 100% done; [brackets], {braces} \\ back\\slash \\n literal\n" +
		"second line\twith tab %{pts} %{localtime} $HOME `cmd` 'single' 🎉🚀 emoji\r\n" +
		"日本語とカタカナ、中文字符。 \u202eRTL override\u202c \x00nul \xff\xfe invalid utf8 " +
		strings.Repeat("averyveryverylongwordwithoutanyspaces", 10) + " " + strings.Repeat("many words ", 200)
	b := setup(t)
	u := b.finish(t, newTask("task_nasty", "seedance-1-0-lite-t2v", task.Request{
		Prompt: prompt, Resolution: "480p", Ratio: "9:16", Duration: task.Int(2), Watermark: task.Bool(true),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
	require.Equal(t, 480, u.Result.Width)
}

func TestWrapPrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prompt string
		w, h   int
		want   string
	}{
		{"short", "a cat", 864, 480, "a cat"},
		{"controls stripped, tabs become spaces", "a\tb\x00c\x1bd\r\ne", 864, 480, "a bcd\ne"},
		{"invalid utf-8 replaced", "a\xffb", 864, 480, "a\uFFFDb"},
		{"blank lines at the ends dropped", "\n\n a \n\n b \n\n", 864, 480, "a\n\nb"},
		// 100 px wide: font size 14, 100×0.86/(14×0.56) = 10 columns.
		{"wraps at spaces", "aaaa bbbb cccc dddd", 100, 480, "aaaa bbbb\ncccc dddd"},
		{"breaks long words", "abcdefghijklmnopqrstuvw xy", 100, 480, "abcdefghij\nklmnopqrst\nuvw xy"},
		{"breaks CJK anywhere", "一二三四五六七八九十", 100, 480, "一二三四五\n六七八九十"},
		{"mixed", "ab 一二三四五", 100, 480, "ab 一二三\n四五"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, wrapPrompt(tt.prompt, tt.w, tt.h), tt.name)
	}
	// Too many lines: cut, with an ellipsis.
	long := wrapPrompt(strings.Repeat("word ", 2000), 864, 480)
	lines := strings.Split(long, "\n")
	require.Len(t, lines, 8) // font size 30: 480×0.7/(30×1.3) lines of 864×0.86/(30×0.56) = 44 columns
	require.True(t, strings.HasSuffix(long, "…"))
	for _, l := range lines {
		require.LessOrEqual(t, textCols(l), 44, l)
	}
}

// A word of megabytes wraps in linear time: the old layout recounted the rest
// of the word for every line (minutes for this one); this takes milliseconds.
func TestWrapHugeWord(t *testing.T) {
	t.Parallel()
	const cols = 10
	word := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 2<<20/36)
	done := make(chan []string, 1)
	go func() { done <- wrapLine(word, cols) }()
	var lines []string
	select {
	case lines = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("wrapping a 2 MB word took more than 10 s")
	}
	require.Len(t, lines, (len(word)+cols-1)/cols)
	for i, l := range lines[:len(lines)-1] {
		require.Len(t, l, cols, "line %d", i)
	}
	require.Equal(t, word, strings.Join(lines, ""))

	// The whole prompt: cut to the lines that fit, as for any long text.
	wrapped := wrapPrompt("intro "+word+" outro", 864, 480)
	got := strings.Split(wrapped, "\n")
	require.Len(t, got, 8)
	require.Equal(t, "intro", got[0])
	require.Equal(t, word[:44], got[1])
	require.True(t, strings.HasSuffix(wrapped, "…"))
}

// wrapLine lays text out exactly as the first, quadratic, version did, so
// the same request still renders the same bytes.
func TestWrapLineUnchanged(t *testing.T) {
	t.Parallel()
	rng := newSplitMix(42)
	pieces := []string{"a", "bb", "word", "longerword", "averyveryverylongwordindeed", " ", " ", "  ", "一", "二三", "🙂", "\u00a0", "é"}
	for i := range 2000 {
		var b strings.Builder
		for range rng.intn(40) {
			b.WriteString(pieces[rng.intn(len(pieces))])
		}
		cols := 8 + rng.intn(30)
		require.Equal(t, quadraticWrapLine(b.String(), cols), wrapLine(b.String(), cols), "case %d: %q at %d columns", i, b.String(), cols)
	}
}

// quadraticWrapLine is the first wrapLine, kept as the reference layout.
func quadraticWrapLine(s string, cols int) []string {
	if s == "" {
		return []string{""}
	}
	var lines []string
	var cur strings.Builder
	curCols := 0
	flush := func() {
		lines = append(lines, strings.TrimRight(cur.String(), " "))
		cur.Reset()
		curCols = 0
	}
	for _, word := range splitWords(s) {
		wc := textCols(word)
		if curCols > 0 && curCols+wc > cols && strings.TrimSpace(word) != "" {
			flush()
		}
		if curCols == 0 && strings.TrimSpace(word) == "" {
			continue
		}
		for wc > cols {
			head := truncateCols(word, cols-curCols)
			if head == "" {
				flush()
				continue
			}
			cur.WriteString(head)
			flush()
			word = word[len(head):]
			wc = textCols(word)
		}
		cur.WriteString(word)
		curCols += wc
	}
	if cur.Len() > 0 {
		flush()
	}
	return lines
}

func BenchmarkWrapLongWord(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20, 4 << 20} {
		word := strings.Repeat("x", size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				wrapLine(word, 44)
			}
		})
	}
}

func TestEscapeValue(t *testing.T) {
	t.Parallel()
	require.Equal(t, `a\\\\b`, escapeValue(`a\b`))
	require.Equal(t, `c\\:`, escapeValue(`c:`))
	require.Equal(t, `it\\\'s`, escapeValue(`it's`))
	require.Equal(t, `\[x\]\,y\;`, escapeValue(`[x],y;`))
	require.Equal(t, "AI生成", escapeValue("AI生成"))
}

// TestFontPathWithSpecialCharacters renders with a font whose path needs escaping
// at both filtergraph levels.
func TestFontPathWithSpecialCharacters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if b.p.fonts.prompt == "" {
		t.Skip("no font file installed")
	}
	odd := filepath.Join(t.TempDir(), "we'ird:[font], ;dir")
	require.NoError(t, os.MkdirAll(odd, 0o755))
	link := filepath.Join(odd, "font "+filepath.Base(b.p.fonts.prompt))
	require.NoError(t, os.Symlink(b.p.fonts.prompt, link))
	p := New(Config{Clock: b.clock.Now, WorkDir: t.TempDir(), FontFile: link, CJKFontFile: link}, b.blobs, nil, nil)
	require.Equal(t, link, p.fonts.prompt)
	b.p = p
	u := b.finish(t, newTask("task_font", "seedance-1-0-lite-t2v", task.Request{
		Prompt: "font test", Resolution: "480p", Ratio: "16:9", Duration: task.Int(2), Watermark: task.Bool(true),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk := newTask("task_timeline", "seedance-1-0-lite-t2v", task.Request{
		Prompt: "timeline", Resolution: "480p", Ratio: "16:9", Duration: task.Int(2),
	})
	ctx := context.Background()

	id, err := b.p.Submit(ctx, tk)
	require.NoError(t, err)
	require.Equal(t, "sandbox-task_timeline", id)
	again, err := b.p.Submit(ctx, tk)
	require.NoError(t, err)
	require.Equal(t, id, again, "Submit is idempotent")

	steps := []struct {
		at        time.Duration
		status    task.Status
		progress  int
		nextCheck time.Duration
	}{
		{0, task.StatusQueued, 0, time.Second},
		{900 * time.Millisecond, task.StatusQueued, 0, 100 * time.Millisecond},
		{time.Second, task.StatusRunning, 1, time.Second},
		{2500 * time.Millisecond, task.StatusRunning, 50, time.Second},
		{3900 * time.Millisecond, task.StatusRunning, 96, 100 * time.Millisecond},
	}
	for _, s := range steps {
		b.clock.Set(t0.Add(s.at))
		u, err := b.p.Check(ctx, tk)
		require.NoError(t, err)
		require.Equal(t, provider.Update{Status: s.status, Progress: s.progress, NextCheck: s.nextCheck}, u, "at %v", s.at)
	}
	_, err = b.blobs.Open(ctx, "results/task_timeline/video.mp4")
	require.ErrorIs(t, err, blob.ErrNotFound, "nothing is rendered before the run ends")

	done := b.finish(t, tk)
	require.Equal(t, task.StatusSucceeded, done.Status)

	// Later checks (a retry, a restarted gateway) return the same result without rendering again.
	b.clock.Set(t0.Add(time.Hour))
	later, err := b.p.Check(ctx, tk)
	require.NoError(t, err)
	require.Equal(t, done, later)

	// A task without DispatchedAt counts from CreatedAt.
	tk2 := newTask("task_nodispatch", "seedance-1-0-lite-t2v", tk.Request)
	tk2.DispatchedAt, tk2.CreatedAt = nil, t0.Add(time.Hour)
	u, err := b.p.Check(ctx, tk2)
	require.NoError(t, err)
	require.Equal(t, task.StatusQueued, u.Status)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk := newTask("task_cancel", "seedance-1-0-lite-t2v", task.Request{Prompt: "x"})
	ctx := context.Background()

	require.NoError(t, b.p.Cancel(ctx, tk), "queued tasks can be cancelled")

	b.clock.Set(t0.Add(2 * time.Second))
	err := b.p.Cancel(ctx, tk)
	require.Equal(t, task.CodeConflict, task.ErrorCode(err))
	require.ErrorContains(t, err, "running tasks cannot be cancelled")

	b.clock.Set(t0.Add(10 * time.Second))
	err = b.p.Cancel(ctx, tk)
	require.Equal(t, task.CodeConflict, task.ErrorCode(err))
	require.ErrorContains(t, err, "already finished")
}

func TestFailMarkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		prompt   string
		failAt   time.Duration // first time the task reports failed
		code     string
		wantText string
	}{
		{"at the end", "a dog [sandbox:fail=OutputVideoSensitiveContentDetected] runs", 4 * time.Second,
			"OutputVideoSensitiveContentDetected", "the output video may contain sensitive information"},
		{"unknown code", "[sandbox:fail=Some.Custom_Code9]", 4 * time.Second, "Some.Custom_Code9", "The task failed with Some.Custom_Code9."},
		{"while queued", "[sandbox:fail-at=queued] x", 0, "InternalServiceError", "unexpected internal error"},
		{"while running", "[sandbox:fail=InternalServiceError][sandbox:fail-at=running]", time.Second, "InternalServiceError", "unexpected internal error"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := fmt.Sprintf("task_fail%d", i)
			tk := newTask(id, "seedance-1-0-lite-t2v", task.Request{Prompt: tt.prompt, Resolution: "480p", Duration: task.Int(2)})
			for _, at := range []time.Duration{0, time.Second, 4 * time.Second} {
				b.clock.Set(t0.Add(at))
				u, err := b.p.Check(ctx, tk)
				require.NoError(t, err)
				if at < tt.failAt {
					require.NotEqual(t, task.StatusFailed, u.Status, "at %v", at)
					continue
				}
				require.Equal(t, task.StatusFailed, u.Status, "at %v", at)
				require.Equal(t, task.CodeUpstream, u.Error.Code)
				require.Equal(t, tt.code, u.Error.UpstreamCode)
				require.Contains(t, u.Error.Message, tt.wantText)
				require.Contains(t, u.Error.Message, "sandbox-"+id)
				require.Nil(t, u.Result)
			}
			_, err := b.blobs.Open(ctx, "results/"+id+"/video.mp4")
			require.ErrorIs(t, err, blob.ErrNotFound, "a failed task renders nothing")
		})
	}
}

func TestBadImages(t *testing.T) {
	t.Parallel()
	png := solid(t, 400, 300, red)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(png, "data:image/png;base64,"))
	require.NoError(t, err)
	truncated := "data:image/png;base64," + base64.StdEncoding.EncodeToString(raw[:len(raw)-20])

	tests := []struct {
		name     string
		req      task.Request
		code     string
		field    string
		wantText string
	}{
		{"not an image", task.Request{FirstFrame: "data:text/plain;base64,aGVsbG8gd29ybGQ="},
			"InvalidImageURL.InvalidFormat", "first_frame", "first_frame: not an image in a supported format"},
		{"corrupt last frame", task.Request{FirstFrame: png, LastFrame: truncated},
			"InvalidImageURL.InvalidFormat", "last_frame", "last_frame: image is corrupt"},
		{"private address", task.Request{FirstFrame: "http://127.0.0.1/a.png"},
			"InvalidParameter", "first_frame", "refused: 127.0.0.1 is a loopback address"},
		{"bad data URL", task.Request{FirstFrame: "data:image/png;base64,@@@"},
			"InvalidParameter", "first_frame", "invalid data URL"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tt.req.Resolution, tt.req.Duration = "480p", task.Int(4)
			u := b.finish(t, newTask(fmt.Sprintf("task_bad%d", i), "seedance-1-5-pro", tt.req))
			require.Equal(t, task.StatusFailed, u.Status)
			require.Equal(t, task.CodeUpstream, u.Error.Code)
			require.Equal(t, tt.code, u.Error.UpstreamCode)
			require.Equal(t, tt.field, u.Error.Field)
			require.Contains(t, u.Error.Message, tt.wantText)
		})
	}
}

func TestUnknownModel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk := newTask("task_nomodel", "no-such-model", task.Request{Prompt: "x"})
	_, err := b.p.Submit(context.Background(), tk)
	require.Equal(t, task.CodeUpstream, task.ErrorCode(err))
	u := b.finish(t, tk)
	require.Equal(t, task.StatusFailed, u.Status)
	require.Equal(t, "InvalidEndpointOrModel.NotFound", u.Error.UpstreamCode)
}

func TestResolveSeed(t *testing.T) {
	t.Parallel()
	require.Equal(t, int64(42), resolveSeed(task.Int64(42), "a"))
	require.Equal(t, int64(4294967295), resolveSeed(task.Int64(4294967295), "a"))
	a, b := resolveSeed(task.Int64(-1), "task_a"), resolveSeed(nil, "task_b")
	require.Equal(t, a, resolveSeed(nil, "task_a"), "stable for a task")
	require.NotEqual(t, a, b)
	require.GreaterOrEqual(t, a, int64(0))
	require.LessOrEqual(t, a, int64(2147483647))
}

func TestNameAndDefaults(t *testing.T) {
	t.Parallel()
	p := New(Config{}, nil, nil, nil)
	require.Equal(t, "sandbox", p.Name())
	require.Equal(t, time.Second, p.cfg.QueueDelay)
	require.Equal(t, 3*time.Second, p.cfg.RunTime)
	p = New(Config{QueueDelay: -1, RunTime: 50 * time.Millisecond}, nil, nil, nil)
	require.Zero(t, p.cfg.QueueDelay)
	require.Equal(t, 50*time.Millisecond, p.cfg.RunTime)
}

// BenchmarkRender480p5s renders a 5 s 480p text scene with audio.
func BenchmarkRender480p5s(b *testing.B) {
	bb := setup(b)
	req := task.Request{Prompt: "A benchmark of lanterns over a lake", Resolution: "480p", Ratio: "16:9",
		Duration: task.Int(5), Seed: task.Int64(1), GenerateAudio: task.Bool(true), Watermark: task.Bool(true)}
	bb.clock.Set(t0.Add(time.Hour))
	i := 0
	for b.Loop() {
		i++
		u, err := bb.p.Check(context.Background(), newTask(fmt.Sprintf("task_bench_%d", i), "seedance-1-5-pro", req))
		if err != nil || u.Status != task.StatusSucceeded {
			b.Fatalf("render: %v %v", err, u.Error)
		}
	}
}
