package openrouter_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/openrouter"
	"github.com/seedgate/seedgate/internal/protocol/prototest"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

const testdata = "../../dialect/openrouter/testdata/"

func TestAnswersRoundTrip(t *testing.T) {
	v := prototest.RoundTrip[openrouter.Video](t, testdata+"golden/completed.json")
	require.Equal(t, openrouter.StatusCompleted, v.Status)
	require.Len(t, v.UnsignedURLs, 1)
	prototest.RoundTrip[openrouter.Video](t, testdata+"golden/create.json")
	e := prototest.RoundTrip[openrouter.ErrorEnvelope](t, testdata+"golden/error_aspect_ratio.json")
	require.Equal(t, 400, e.Error.Code)
	require.Equal(t, "aspect_ratio", e.Error.Metadata["param"])
}

// The bodies the official SDK builds (its outbound schema's output) decode
// field for field, and encode back to the same JSON.
func TestSDKBodies(t *testing.T) {
	b := prototest.RoundTrip[openrouter.CreateRequest](t, testdata+"create_sdk_text.json")
	model, r, err := b.Decode()
	require.NoError(t, err)
	require.Equal(t, "bytedance/seedance-2.0", model)
	require.Equal(t, task.Request{Prompt: "a kite over the sea at dawn", Duration: task.Int(5), Resolution: "720p", Ratio: "16:9",
		Seed: task.Int64(42), GenerateAudio: task.Bool(true)}, r)

	b = prototest.RoundTrip[openrouter.CreateRequest](t, testdata+"create_sdk_frames.json")
	_, r, err = b.Decode()
	require.NoError(t, err)
	require.Equal(t, "https://example.com/first.png", r.FirstFrame)
	require.Equal(t, "https://example.com/last.png", r.LastFrame)
	require.Equal(t, "720p", r.Resolution, "size 1280x720 is 720p 16:9 for 1.5 pro")
	require.Equal(t, "16:9", r.Ratio)

	b = prototest.RoundTrip[openrouter.CreateRequest](t, testdata+"create_sdk_references.json")
	_, r, err = b.Decode()
	require.NoError(t, err)
	require.Equal(t, []string{"https://example.com/dancer.png"}, r.ReferenceImages)
	require.Equal(t, []string{"https://example.com/moves.mp4"}, r.ReferenceVideos)
	require.Equal(t, []string{"https://example.com/music.mp3"}, r.ReferenceAudio)
	require.Equal(t, "https://example.com/hooks/video", r.CallbackURL)
}

// Encode is Decode's inverse for everything OpenRouter carries.
func TestEncodeDecode(t *testing.T) {
	in := task.Request{Prompt: "p", FirstFrame: "https://x/a.png", LastFrame: "https://x/b.png", Duration: task.Int(6),
		Resolution: "4k", Ratio: "9:16", Seed: task.Int64(3), GenerateAudio: task.Bool(false)}
	b, err := openrouter.Encode(context.Background(), "bytedance/seedance-2.0", &in, nil)
	require.NoError(t, err)
	require.Equal(t, "4K", b.Resolution)
	_, out, err := b.Decode()
	require.NoError(t, err)
	require.Equal(t, in, out)

	refs := task.Request{Prompt: "p", ReferenceImages: []string{"i"}, ReferenceVideos: []string{"v"}, ReferenceAudio: []string{"a"},
		Ratio: task.RatioAdaptive, Duration: task.Int(-1), Seed: task.Int64(-1)}
	b, err = openrouter.Encode(context.Background(), "m", &refs, func(_ context.Context, u string) (string, error) { return "https://in/" + u, nil })
	require.NoError(t, err)
	require.Empty(t, b.AspectRatio, "adaptive is OpenRouter's default: not sent")
	require.Nil(t, b.Duration)
	require.Nil(t, b.Seed)
	_, out, err = b.Decode()
	require.NoError(t, err)
	require.Equal(t, []string{"https://in/i"}, out.ReferenceImages)
	require.Equal(t, []string{"https://in/v"}, out.ReferenceVideos)
	require.Equal(t, []string{"https://in/a"}, out.ReferenceAudio)
}

func TestDecodeNamesTheField(t *testing.T) {
	for body, field := range map[string]string{
		`{"prompt":"p"}`:                     "model",
		`{"model":"bytedance/seedance-2.0"}`: "prompt",
		`{"model":"bytedance/seedance-2.0","prompt":"p","frame_images":[{"type":"image_url","image_url":{"url":"u"},"frame_type":"middle"}]}`:  "frame_images[0].frame_type",
		`{"model":"bytedance/seedance-2.0","prompt":"p","frame_images":[{"type":"image","image_url":{"url":"u"},"frame_type":"first_frame"}]}`: "frame_images[0].type",
		`{"model":"bytedance/seedance-2.0","prompt":"p","input_references":[{"type":"video_url","image_url":{"url":"u"}}]}`:                    "input_references[0].video_url.url",
		`{"model":"bytedance/seedance-2.0","prompt":"p","input_references":[{"type":"text"}]}`:                                                 "input_references[0].type",
		`{"model":"bytedance/seedance-2.0","prompt":"p","size":"big"}`:                                                                         "size",
		`{"model":"bytedance/seedance-2.0","prompt":"p","size":"1280x720","resolution":"1080p"}`:                                               "size",
		`{"model":"bytedance/seedance-2.0","prompt":"p","upscale_factor":2}`:                                                                   "upscale_factor",
		`{"model":"bytedance/seedance-2.0","prompt":"p","duration":"5"}`:                                                                       "duration",
	} {
		var b openrouter.CreateRequest
		err := wire.Unmarshal([]byte(body), &b, false)
		if err == nil {
			_, _, err = b.Decode()
		}
		require.Error(t, err, body)
		require.Equal(t, field, task.AsError(err).Field, body)
	}
}

// FuzzDecodeOpenRouter: any body decodes to a request or a *task.Error
// naming what is wrong; never a panic; what decodes encodes and decodes
// back to the same request.
func FuzzDecodeOpenRouter(f *testing.F) {
	files, _ := filepath.Glob(testdata + "create_*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"model":"bytedance/seedance-2.0","prompt":"p","size":"99999x1","frame_images":[{"type":"image_url","image_url":{"url":"u"},"frame_type":"last_frame"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var b openrouter.CreateRequest
		if err := wire.Unmarshal(body, &b, false); err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		model, r, err := b.Decode()
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if model == "" {
			t.Fatalf("decoded without a model: %+v", r)
		}
		again, err := openrouter.Encode(context.Background(), model, &r, nil)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		_, r2, err := again.Decode()
		if err != nil && b.PreviousJobID == "" {
			t.Fatalf("re-decoding %+v: %v", again, err)
		}
		_ = r2
	})
}
