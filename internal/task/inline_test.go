package task

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Seed 003's examples.
const (
	kittenPrompt = "A kitten yawning at the camera. --rs 720p --rt 16:9 --dur 5 --fps 24 --wm true --seed 11 --cf false"
	foxPrompt    = "一位女孩怀抱着一只狐狸。她睁开眼睛,温柔地凝视着镜头,而狐狸则亲昵地回抱着她。当镜头缓缓拉远时,她的头发被风轻轻吹动。 --ratio adaptive --dur 5"
)

func str(s string) *string { return &s }

func TestParseInline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		clean string
		want  InlineParams
	}{
		{"003 kitten", kittenPrompt, "A kitten yawning at the camera.", InlineParams{
			Resolution: str("720p"), Ratio: str("16:9"), Duration: Int(5), FPS: Int(24),
			Watermark: Bool(true), Seed: Int64(11), CameraFixed: Bool(false),
		}},
		{"003 fox", foxPrompt, "一位女孩怀抱着一只狐狸。她睁开眼睛,温柔地凝视着镜头,而狐狸则亲昵地回抱着她。当镜头缓缓拉远时,她的头发被风轻轻吹动。",
			InlineParams{Ratio: str("adaptive"), Duration: Int(5)}},
		{"long names", "x --resolution 1080p --ratio 4:3 --duration 8 --framespersecond 24 --camerafixed true --watermark false",
			"x", InlineParams{Resolution: str("1080p"), Ratio: str("4:3"), Duration: Int(8), FPS: Int(24), CameraFixed: Bool(true), Watermark: Bool(false)}},
		{"frames and seed -1", "x --frames 121 --seed -1", "x", InlineParams{Frames: Int(121), Seed: Int64(-1)}},
		{"no params", "  just a prompt -- with dashes  ", "just a prompt -- with dashes", InlineParams{}},
		{"unknown flags stay", "a --style anime --rs 480p --q 2", "a --style anime --q 2", InlineParams{Resolution: str("480p")}},
		{"middle of the text", "a --dur 6 b", "a b", InlineParams{Duration: Int(6)}},
		{"at the start", "--rs 720p a cat", "a cat", InlineParams{Resolution: str("720p")}},
		{"equals form", "a --rs=720p --seed=7", "a", InlineParams{Resolution: str("720p"), Seed: Int64(7)}},
		{"case-insensitive names", "a --RS 720p --Dur 4", "a", InlineParams{Resolution: str("720p"), Duration: Int(4)}},
		{"bad values are removed and nil", "a --dur five --seed x --wm maybe --frames 1.5 --fps", "a", InlineParams{}},
		{"flag without value before another", "a --rs --rt 1:1", "a", InlineParams{Ratio: str("1:1")}},
		{"unknown flag is not a value", "a --rs --foo bar", "a --foo bar", InlineParams{}},
		{"repeat: last wins", "a --dur 4 --dur 6", "a", InlineParams{Duration: Int(6)}},
		{"repeat: bad last clears", "a --dur 4 --dur x", "a", InlineParams{}},
		{"newlines kept", "line one\nline two --rs 480p\nline three", "line one\nline two\nline three", InlineParams{Resolution: str("480p")}},
		{"tabs and many spaces", "a\t--wm\ttrue   b", "a   b", InlineParams{Watermark: Bool(true)}},
		{"single dash is text", "a -rs 720p", "a -rs 720p", InlineParams{}},
		{"non-ascii name", "a --rſ 720p", "a --rſ 720p", InlineParams{}},
		{"empty", "", "", InlineParams{}},
		{"only a param", "--dur 5", "", InlineParams{Duration: Int(5)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clean, p := ParseInline(c.in)
			require.Equal(t, c.clean, clean)
			require.Equal(t, c.want, p)
		})
	}
}

func TestApplyInlineSeedExamples(t *testing.T) {
	t.Parallel()
	m, _, _ := LookupModel("doubao-seedance-1-0-pro-250528")

	clean, p := ParseInline(kittenPrompt)
	r := Request{Prompt: clean}
	m.ApplyInline(&r, p)
	require.NoError(t, m.Normalize(&r))
	require.Equal(t, "A kitten yawning at the camera.", r.Prompt)
	require.Equal(t, "720p", r.Resolution)
	require.Equal(t, "16:9", r.Ratio)
	require.Equal(t, 5, *r.Duration)
	require.True(t, *r.Watermark)
	require.Equal(t, int64(11), *r.Seed)
	require.False(t, *r.CameraFixed)

	clean, p = ParseInline(foxPrompt)
	r = Request{Prompt: clean, FirstFrame: "https://ark-project.tos-cn-beijing.volces.com/doc_image/i2v_foxrgirl.png"}
	m.ApplyInline(&r, p)
	require.NoError(t, m.Normalize(&r))
	require.Equal(t, "adaptive", r.Ratio)
	require.Equal(t, 5, *r.Duration)
}

func TestApplyInlineWeakValidation(t *testing.T) {
	t.Parallel()
	pro10, _, _ := LookupModel("seedance-1-0-pro")
	pro15, _, _ := LookupModel("seedance-1-5-pro")
	lite, _, _ := LookupModel("seedance-1-0-lite-i2v")
	cases := []struct {
		name   string
		m      *Model
		body   Request
		prompt string
		check  func(t *testing.T, r Request)
	}{
		{"bad duration falls back", pro10, Request{}, "p --dur 99", func(t *testing.T, r Request) {
			require.Equal(t, 5, *r.Duration)
		}},
		{"duration -1 only where allowed", pro10, Request{}, "p --dur -1", func(t *testing.T, r Request) {
			require.Equal(t, 5, *r.Duration)
		}},
		{"duration -1 on 1.5 pro", pro15, Request{}, "p --dur -1", func(t *testing.T, r Request) {
			require.Equal(t, -1, *r.Duration)
		}},
		{"bad resolution falls back", pro10, Request{}, "p --rs 4k", func(t *testing.T, r Request) {
			require.Equal(t, "1080p", r.Resolution)
		}},
		{"adaptive on text-only 1.0 falls back", pro10, Request{}, "p --rt adaptive", func(t *testing.T, r Request) {
			require.Equal(t, "16:9", r.Ratio)
		}},
		{"bad ratio falls back", pro15, Request{}, "p --rt 2:1", func(t *testing.T, r Request) {
			require.Equal(t, "adaptive", r.Ratio)
		}},
		{"bad seed falls back", pro10, Request{}, "p --seed 99999999999", func(t *testing.T, r Request) {
			require.Equal(t, int64(-1), *r.Seed)
		}},
		{"bad frames falls back to duration", pro10, Request{}, "p --frames 30", func(t *testing.T, r Request) {
			require.Nil(t, r.Frames)
			require.Equal(t, 5, *r.Duration)
		}},
		{"frames where unsupported", pro15, Request{}, "p --frames 121", func(t *testing.T, r Request) {
			require.Nil(t, r.Frames)
		}},
		{"inline frames win over inline duration", pro10, Request{}, "p --dur 3 --frames 121", func(t *testing.T, r Request) {
			require.Equal(t, 121, *r.Frames)
			require.Nil(t, r.Duration)
		}},
		{"camera_fixed where unsupported is ignored", lite, Request{FirstFrame: "f"}, "p --cf true", func(t *testing.T, r Request) {
			require.Nil(t, r.CameraFixed)
		}},
		{"1080p with reference images on lite falls back", lite, Request{ReferenceImages: []string{"i"}}, "p --rs 1080p", func(t *testing.T, r Request) {
			require.Equal(t, "720p", r.Resolution)
		}},
		{"draft keeps 480p", pro15, Request{Draft: Bool(true)}, "p --rs 1080p", func(t *testing.T, r Request) {
			require.Equal(t, "480p", r.Resolution)
		}},
		{"body wins", pro10, Request{Resolution: "480p", Ratio: "4:3", Duration: Int(7), Seed: Int64(3), Watermark: Bool(false), CameraFixed: Bool(true)},
			"p --rs 720p --rt 1:1 --dur 5 --seed 11 --wm true --cf false", func(t *testing.T, r Request) {
				require.Equal(t, "480p", r.Resolution)
				require.Equal(t, "4:3", r.Ratio)
				require.Equal(t, 7, *r.Duration)
				require.Equal(t, int64(3), *r.Seed)
				require.False(t, *r.Watermark)
				require.True(t, *r.CameraFixed)
			}},
		{"body frames beat inline duration", pro10, Request{Frames: Int(29)}, "p --dur 5", func(t *testing.T, r Request) {
			require.Equal(t, 29, *r.Frames)
			require.Nil(t, r.Duration)
		}},
		{"body duration beats inline frames", pro10, Request{Duration: Int(3)}, "p --frames 121", func(t *testing.T, r Request) {
			require.Nil(t, r.Frames)
			require.Equal(t, 3, *r.Duration)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clean, p := ParseInline(c.prompt)
			r := c.body
			r.Prompt = clean
			c.m.ApplyInline(&r, p)
			require.NoError(t, c.m.Normalize(&r), "inline values never make a request invalid")
			c.check(t, r)
		})
	}
}
