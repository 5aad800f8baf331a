package sandbox

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// makeMedia runs ffmpeg to make a test input and returns it as a data URL.
func makeMedia(t testing.TB, name, mime string, args ...string) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-nostdin", "-loglevel", "error", "-y"}, args...), path)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data), path
}

// sourceVideo is a 2 s 640×360 test pattern at 30 fps with a tone.
func testVideo(t testing.TB) (url, path string) {
	return makeMedia(t, "source.mp4", "video/mp4",
		"-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=2", "-f", "lavfi", "-i", "sine=f=440:d=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
}

// testVideoSilent is a 3 s 400×400 test pattern without sound.
func testVideoSilent(t testing.TB) string {
	url, _ := makeMedia(t, "silent.mov", "video/quicktime",
		"-f", "lavfi", "-i", "testsrc=s=400x400:r=25:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mov")
	return url
}

// testAudio is a 1.5 s WAV tone.
func testAudio(t testing.TB) string {
	url, _ := makeMedia(t, "tone.wav", "audio/wav", "-f", "lavfi", "-i", "sine=f=300:d=1.5", "-f", "wav")
	return url
}

// frameAt decodes one frame (by index) of a video, scaled to w×h, as RGB bytes.
func frameAt(t testing.TB, path string, index, w, h int) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", path,
		"-vf", fmt.Sprintf("fps=24,select=eq(n\\,%d),scale=%d:%d:flags=area,format=rgb24", index, w, h),
		"-frames:v", "1", "-f", "rawvideo", "pipe:1").Output()
	require.NoError(t, err)
	require.Len(t, out, w*h*3, "frame %d of %s", index, path)
	return out
}

// meanDiff is the mean absolute difference of two equally long byte slices.
func meanDiff(a, b []byte) float64 {
	sum := 0.0
	for i := range a {
		sum += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return sum / float64(len(a))
}

func probe(t testing.TB, path string) mediatest.VideoInfo {
	t.Helper()
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	return info
}

// An edit is the reference video, as long as it is, visibly changed.
func TestEdit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src, srcPath := testVideo(t)
	u := b.finish(t, newTask("task_edit", "seedance-2-5", task.Request{
		Prompt: "make it look like a neon night", ReferenceVideos: []string{src}, ReferenceTaskType: "edit",
		Resolution: "480p", Ratio: "adaptive", Seed: task.Int64(5),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
	require.Equal(t, "video.mp4", u.Video.Name)
	require.Equal(t, "video/mp4", u.Video.ContentType)
	path, _ := b.fetch(t, "results/task_edit/video.mp4")
	info := probe(t, path)
	require.Equal(t, 864, info.Width, "adaptive: 16:9 like the source")
	require.Equal(t, 496, info.Height)
	require.Equal(t, 48, info.Frames, "2 s, as long as the source")
	require.InDelta(t, 2.0, info.Duration, 1.0/24)
	require.True(t, info.HasAudio, "the source's sound is kept")
	require.True(t, u.Result.HasAudio)
	require.Equal(t, 2.0, u.Result.Duration)
	require.Equal(t, "16:9", u.Result.Ratio)
	tokens := task.Tokens(864, 496, 48+48) // 2.x bills the input video's seconds too
	require.Equal(t, &task.Usage{CompletionTokens: tokens, TotalTokens: tokens}, u.Usage)

	// Changed: the same moment of the source and of the edit differ clearly
	// (a grade), while the edit's frames still move like the source's.
	require.Greater(t, meanDiff(frameAt(t, srcPath, 12, 32, 18), frameAt(t, path, 12, 32, 18)), 20.0, "graded")
	require.Greater(t, meanDiff(frameAt(t, path, 0, 32, 18), frameAt(t, path, 40, 32, 18)), 1.0, "still moving")
}

// An extend is the reference video, then its last frame moving on for the
// requested seconds; a reference audio clip is the sound track; mov output
// is a QuickTime file.
func TestExtendMovWithSoundtrack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src, srcPath := testVideo(t)
	u := b.finish(t, newTask("task_extend", "seedance-2-5", task.Request{
		Prompt: "keep going", ReferenceVideos: []string{src}, ReferenceAudio: []string{testAudio(t)},
		ReferenceTaskType: "extension", Resolution: "480p", Ratio: "adaptive", Duration: task.Int(4),
		OutputFormat: "mov", GenerateAudio: task.Bool(false), ReturnLastFrame: task.Bool(true),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
	require.Equal(t, "video.mov", u.Video.Name)
	require.Equal(t, "video/quicktime", u.Video.ContentType)
	require.Equal(t, "results/task_extend/video.mov", u.Video.BlobKey)
	path, _ := b.fetch(t, "results/task_extend/video.mov")
	info := probe(t, path)
	require.Contains(t, info.FormatName, "mov")
	require.Equal(t, "qt", info.MajorBrand, "a QuickTime file, not an MP4")
	require.Equal(t, 864, info.Width)
	require.Equal(t, 496, info.Height)
	require.InDelta(t, 2.0+4.0, info.Duration, 1.0/24, "source + requested")
	require.Equal(t, 144, info.Frames)
	require.True(t, info.HasAudio, "the reference audio, though generate_audio is false")
	require.Equal(t, 1, info.AudioChannels)
	require.True(t, u.Result.HasAudio)
	require.Equal(t, 6.0, u.Result.Duration)
	require.NotNil(t, u.LastFrame)

	// The head is the source; the continuation moves on from its last frame.
	require.Less(t, meanDiff(frameAt(t, srcPath, 24, 32, 18), frameAt(t, path, 24, 32, 18)), 12.0, "the source first")
	lastOfSource := frameAt(t, path, 47, 32, 18)
	require.Less(t, meanDiff(lastOfSource, frameAt(t, path, 49, 32, 18)), 12.0, "continues from the last frame")
	require.Greater(t, meanDiff(frameAt(t, path, 49, 32, 18), frameAt(t, path, 143, 32, 18)), 1.0, "and moves on")

	// The manifest finds the mov again after a restart.
	b.clock.Set(t0.Add(time.Hour))
	again, err := b.p.Check(context.Background(), newTask("task_extend", "seedance-2-5", task.Request{}))
	require.NoError(t, err)
	require.Equal(t, u, again)
}

// An extend of a silent source with duration -1 continues for 5 s; the model's
// sound (generate_audio) is a chord then.
func TestExtendSilentSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := b.finish(t, newTask("task_extend_silent", "seedance-2-5", task.Request{
		ReferenceVideos: []string{testVideoSilent(t)}, ReferenceTaskType: "extend",
		Resolution: "480p", Ratio: "adaptive", Duration: task.Int(-1),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
	path, _ := b.fetch(t, "results/task_extend_silent/video.mp4")
	info := probe(t, path)
	require.Equal(t, 640, info.Width, "adaptive: 1:1 like the source")
	require.Equal(t, 640, info.Height)
	require.InDelta(t, 3.0+5.0, info.Duration, 1.0/24)
	require.True(t, info.HasAudio)
}

// Reference audio is the sound track of any scene, cut to the video's length.
func TestReferenceAudioSoundtrack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := b.finish(t, newTask("task_refaudio", "seedance-2-5", task.Request{
		Prompt: "sing along", ReferenceAudio: []string{testAudio(t)}, ReferenceImages: []string{solid(t, 400, 300, red)},
		Resolution: "480p", Ratio: "4:3", Duration: task.Int(4), GenerateAudio: task.Bool(false),
	}))
	require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
	path, _ := b.fetch(t, "results/task_refaudio/video.mp4")
	info := probe(t, path)
	require.True(t, info.HasAudio)
	require.InDelta(t, 97.0/24, info.Duration, 1.0/24)
}

func TestBadReferenceMedia(t *testing.T) {
	t.Parallel()
	text := "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("hello world, not a video"))
	tests := []struct {
		name  string
		req   task.Request
		field string
		want  string
	}{
		{"not a video", task.Request{ReferenceVideos: []string{text}, ReferenceTaskType: "edit"},
			"reference_videos[0]", "not an MP4 or MOV video"},
		{"corrupt video", task.Request{ReferenceVideos: []string{"data:video/mp4;base64," +
			base64.StdEncoding.EncodeToString([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00garbage"))}, ReferenceTaskType: "extend"},
			"reference_videos[0]", "not a readable video"},
		{"private address", task.Request{ReferenceVideos: []string{"http://127.0.0.1/v.mp4"}, ReferenceTaskType: "edit"},
			"reference_videos[0]", "loopback"},
		{"not audio", task.Request{Prompt: "x", ReferenceAudio: []string{text}},
			"reference_audio[0]", "not WAV, MP3 or AAC audio"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tt.req.Resolution, tt.req.Duration = "480p", task.Int(4)
			u := b.finish(t, newTask(fmt.Sprintf("task_badref%d", i), "seedance-2-5", tt.req))
			require.Equal(t, task.StatusFailed, u.Status)
			require.Equal(t, "InvalidParameter", u.Error.UpstreamCode)
			require.Equal(t, tt.field, u.Error.Field)
			require.Contains(t, u.Error.Message, tt.want)
		})
	}
}

// taskTable is a store of finished tasks for draft lookups.
type taskTable map[string]*task.Task

func (tt taskTable) get(_ context.Context, id string) (*task.Task, error) {
	if t, ok := tt[id]; ok {
		return t, nil
	}
	return nil, store.ErrNotFound
}

// A final re-renders its draft's scene at the final's resolution with the
// draft's seed: the picture is the draft's, larger.
func TestDraftThenFinal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tasks := taskTable{}
	b.p.cfg.Tasks = tasks.get
	draftReq := func(seed int64) task.Request {
		return task.Request{Prompt: "a lighthouse in a storm", Draft: task.Bool(true), Resolution: "480p", Ratio: "16:9",
			Duration: task.Int(4), Seed: task.Int64(seed), GenerateAudio: task.Bool(true)}
	}
	for _, id := range []string{"task_draft_a", "task_draft_b"} {
		seed := map[string]int64{"task_draft_a": 4242, "task_draft_b": 777}[id]
		d := newTask(id, "seedance-1-5-pro", draftReq(seed))
		u := b.finish(t, d)
		require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
		require.Equal(t, 864, u.Result.Width, "a draft is 480p")
		d.Status, d.Result = task.StatusSucceeded, u.Result
		tasks[id] = d
	}

	finals := map[string]string{}
	for _, draft := range []string{"task_draft_a", "task_draft_b"} {
		id := "final_of_" + draft
		u := b.finish(t, newTask(id, "seedance-1-5-pro", task.Request{DraftTaskID: draft, Resolution: "720p",
			Seed: task.Int64(-1), Duration: task.Int(5), Ratio: "adaptive", GenerateAudio: task.Bool(true)}))
		require.Equal(t, task.StatusSucceeded, u.Status, "error: %v", u.Error)
		require.Equal(t, tasks[draft].Result.Seed, u.Result.Seed, "the draft's seed")
		require.Equal(t, "720p", u.Result.Resolution)
		require.Equal(t, "16:9", u.Result.Ratio)
		path, _ := b.fetch(t, "results/"+id+"/video.mp4")
		info := probe(t, path)
		require.Equal(t, 1280, info.Width)
		require.Equal(t, 720, info.Height)
		require.Equal(t, 97, info.Frames, "the draft's 4 s, not the final's default")
		require.True(t, info.HasAudio)
		finals[draft] = path
	}
	draftA, _ := b.fetch(t, "results/task_draft_a/video.mp4")
	draftB, _ := b.fetch(t, "results/task_draft_b/video.mp4")
	same := meanDiff(frameAt(t, draftA, 30, 32, 18), frameAt(t, finals["task_draft_a"], 30, 32, 18))
	other := meanDiff(frameAt(t, draftB, 30, 32, 18), frameAt(t, finals["task_draft_a"], 30, 32, 18))
	require.Less(t, same, 12.0, "the final shows its draft's scene")
	require.Greater(t, other, 2*same, "and not another draft's")

	// A draft gone since the final was accepted fails the final, naming the field.
	u := b.finish(t, newTask("final_of_nothing", "seedance-1-5-pro", task.Request{DraftTaskID: "task_gone", Resolution: "720p"}))
	require.Equal(t, task.StatusFailed, u.Status)
	require.Equal(t, "draft_task_id", u.Error.Field)
}

// A render reads its draft through Tasks; a store error is worth a retry.
func TestDraftLookupError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.p.cfg.Tasks = func(context.Context, string) (*task.Task, error) { return nil, errors.New("database away") }
	b.clock.Set(t0.Add(4 * time.Second))
	_, err := b.p.Check(context.Background(), newTask("final_retry", "seedance-1-5-pro", task.Request{DraftTaskID: "d", Resolution: "720p"}))
	var tr *provider.TransientError
	require.ErrorAs(t, err, &tr)
}

// childCPU is the CPU time (user + system) of the process's finished children.
func childCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchVideoTask renders one kind of video task b.N times at 720p from a 5 s
// 720p source, reporting ffmpeg's CPU time per render beside the wall time.
func benchVideoTask(b *testing.B, kind string) {
	bb := setup(b)
	src, _ := makeMedia(b, "source.mp4", "video/mp4",
		"-f", "lavfi", "-i", "testsrc2=s=1280x720:r=24:d=5", "-f", "lavfi", "-i", "sine=f=440:d=5",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
	req := task.Request{Prompt: "a benchmark", ReferenceVideos: []string{src}, ReferenceTaskType: kind,
		Resolution: "720p", Ratio: "adaptive", Duration: task.Int(5), Seed: task.Int64(1)}
	bb.clock.Set(t0.Add(time.Hour))
	cpu := childCPU()
	i := 0
	for b.Loop() {
		i++
		u, err := bb.p.Check(context.Background(), newTask(fmt.Sprintf("task_bench_%s_%d", kind, i), "seedance-2-5", req))
		if err != nil || u.Status != task.StatusSucceeded {
			b.Fatalf("render: %v %v", err, u.Error)
		}
	}
	b.ReportMetric((childCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkEdit720p edits a 5 s 720p video (5 s out).
func BenchmarkEdit720p(b *testing.B) { benchVideoTask(b, "edit") }

// BenchmarkExtend720p extends a 5 s 720p video by 5 s (10 s out).
func BenchmarkExtend720p(b *testing.B) { benchVideoTask(b, "extend") }
