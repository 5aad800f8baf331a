package task

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokensPublishedFigures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h, seconds int
		want          int64
	}{
		{1280, 720, 5, 108900},
		{1920, 1088, 5, 246840},
		{640, 640, 4, 38800},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Tokens(c.w, c.h, FramesFor(c.seconds)), "%dx%d %ds", c.w, c.h, c.seconds)
	}
	require.Equal(t, int64(0), Tokens(1, 1, 1023), "rounded down")
	require.Equal(t, int64(1), Tokens(1, 1, 1024))
	// No int overflow at the largest size and length.
	require.Equal(t, int64(4398)*1886*361/1024, Tokens(4398, 1886, FramesFor(15)))
}

func TestPixelSizeTable(t *testing.T) {
	t.Parallel()
	// Every cell of docs/upstream-ark.md#usage-and-pixel-sizes, in ratio order 16:9 4:3 1:1 3:4 9:16 21:9.
	ratios := []string{"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"}
	v10 := map[string][6][2]int{
		"480p":  {{864, 480}, {736, 544}, {640, 640}, {544, 736}, {480, 864}, {960, 416}},
		"720p":  {{1248, 704}, {1120, 832}, {960, 960}, {832, 1120}, {704, 1248}, {1504, 640}},
		"1080p": {{1920, 1088}, {1664, 1248}, {1440, 1440}, {1248, 1664}, {1088, 1920}, {2176, 928}},
	}
	v15 := map[string][6][2]int{
		"480p":  {{864, 496}, {752, 560}, {640, 640}, {560, 752}, {496, 864}, {992, 432}},
		"720p":  {{1280, 720}, {1112, 834}, {960, 960}, {834, 1112}, {720, 1280}, {1470, 630}},
		"1080p": {{1920, 1080}, {1664, 1248}, {1440, 1440}, {1248, 1664}, {1080, 1920}, {2206, 946}},
	}
	fourK := [6][2]int{{3840, 2160}, {3326, 2494}, {2880, 2880}, {2494, 3326}, {2160, 3840}, {4398, 1886}}

	check := func(f Family, res string, row [6][2]int) {
		for i, ratio := range ratios {
			w, h, ok := PixelSize(f, res, ratio)
			require.True(t, ok, "%s %s %s", f, res, ratio)
			require.Equal(t, row[i], [2]int{w, h}, "%s %s %s", f, res, ratio)
		}
	}
	for res, row := range v10 {
		check(Family10, res, row)
	}
	for res, row := range v15 {
		check(Family15, res, row)
		check(Family20, res, row)
	}
	check(Family20, "4k", fourK)
	check(Family20, "4K", fourK)

	for _, c := range []struct {
		f          Family
		res, ratio string
	}{
		{Family10, "4k", "16:9"},
		{Family15, "4k", "16:9"},
		{Family15, "720p", "adaptive"},
		{Family20, "2k", "16:9"},
		{Family10, "720p", "2:1"},
		{"3.0", "720p", "16:9"},
	} {
		_, _, ok := PixelSize(c.f, c.res, c.ratio)
		require.False(t, ok, "%v", c)
	}
}

func TestEveryModelHasSizesForItsResolutions(t *testing.T) {
	t.Parallel()
	for _, m := range Models() {
		for _, res := range m.Resolutions {
			for _, ratio := range FixedRatios {
				_, _, ok := PixelSize(m.Family, res, ratio)
				require.True(t, ok, "%s %s %s", m.ID, res, ratio)
			}
		}
		_, _, ok := PixelSize(m.Family, m.DefaultResolution, m.FallbackRatio)
		require.True(t, ok, m.ID)
	}
}

func TestNearestRatio(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h int
		want string
	}{
		{1920, 1080, "16:9"},
		{1080, 1920, "9:16"},
		{1000, 1000, "1:1"},
		{1024, 768, "4:3"},
		{768, 1024, "3:4"},
		{2560, 1080, "21:9"},
		{4000, 1000, "21:9"}, // wider than any: the widest
		{1000, 4000, "9:16"}, // taller than any: the tallest
		{1100, 1000, "1:1"},
		{1200, 1000, "4:3"},
		{1550, 1000, "16:9"},
		{2100, 1000, "21:9"},
		{0, 100, ""},
		{100, -1, ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, NearestRatio(c.w, c.h), "%dx%d", c.w, c.h)
	}
}

func TestOutput(t *testing.T) {
	t.Parallel()
	pro10, _, _ := LookupModel("seedance-1-0-pro")
	pro15, _, _ := LookupModel("seedance-1-5-pro")
	v2, _, _ := LookupModel("seedance-2-0")
	cases := []struct {
		name           string
		m              *Model
		req            Request
		firstW, firstH int
		w, h, frames   int
		ratio          string
		tokens         int64
	}{
		{"1.0 pro default text", pro10, Request{Prompt: "p"}, 0, 0, 1920, 1088, 121, "16:9", 246840},
		{"1.5 pro 720p 16:9", pro15, Request{Prompt: "p", Resolution: "720p", Ratio: "16:9"}, 0, 0, 1280, 720, 121, "16:9", 108900},
		{"1.5 pro 480p 1:1 4s", pro15, Request{Prompt: "p", Resolution: "480p", Ratio: "1:1", Duration: Int(4)}, 0, 0, 640, 640, 97, "1:1", 38800},
		{"adaptive from first frame", pro10, Request{FirstFrame: "f", Resolution: "720p"}, 1080, 1920, 704, 1248, 121, "9:16", 704 * 1248 * 121 / 1024},
		{"adaptive unknown first frame", pro15, Request{Prompt: "p"}, 0, 0, 1280, 720, 121, "16:9", 108900},
		{"duration -1 counts as 5 s", v2, Request{Prompt: "p", Duration: Int(-1), Ratio: "16:9"}, 0, 0, 1280, 720, 121, "16:9", 108900},
		{"frames", pro10, Request{Prompt: "p", Frames: Int(29), Resolution: "480p"}, 0, 0, 864, 480, 29, "16:9", 864 * 480 * 29 / 1024},
		{"draft at 480p, 0.6 tokens", pro15, Request{Prompt: "p", Draft: Bool(true), Ratio: "16:9"}, 0, 0, 864, 496, 121, "16:9", 864 * 496 * 121 / 1024 * 6 / 10},
		{"4k 21:9 15 s", v2, Request{Prompt: "p", Resolution: "4k", Ratio: "21:9", Duration: Int(15)}, 0, 0, 4398, 1886, 361, "21:9", 4398 * 1886 * 361 / 1024},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := c.req
			require.NoError(t, c.m.Normalize(&r))
			w, h, frames, ratio, err := c.m.Output(&r, c.firstW, c.firstH)
			require.NoError(t, err)
			require.Equal(t, []int{c.w, c.h, c.frames}, []int{w, h, frames})
			require.Equal(t, c.ratio, ratio)
			require.Equal(t, c.tokens, c.m.EstimateTokens(&r, c.firstW, c.firstH))
		})
	}

	// A resolution the family has no table for is an error, and estimates 0.
	bad := Request{Resolution: "4k", Ratio: "16:9", Duration: Int(5)}
	_, _, _, _, err := pro15.Output(&bad, 0, 0)
	require.Equal(t, CodeInvalidParameter, ErrorCode(err))
	require.Zero(t, pro15.EstimateTokens(&bad, 0, 0))
}

func TestValidateImageGeometry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h int
		ok   bool
	}{
		{1280, 720, true},
		{301, 301, true},
		{300, 500, false},
		{500, 300, false},
		{5999, 5999, true},
		{6000, 4000, false},
		{4000, 6000, false},
		{401, 1000, true},  // 0.401
		{400, 1000, false}, // exactly 0.4
		{999, 400, true},   // 2.4975
		{1000, 400, false}, // exactly 2.5
		{0, 0, false},
		{-500, 500, false},
	}
	for _, c := range cases {
		err := ValidateImageGeometry("first_frame", c.w, c.h)
		if c.ok {
			require.NoError(t, err, "%dx%d", c.w, c.h)
			continue
		}
		var e *Error
		require.ErrorAs(t, err, &e, "%dx%d", c.w, c.h)
		require.Equal(t, CodeInvalidParameter, e.Code)
		require.Equal(t, "first_frame", e.Field)
		require.Contains(t, e.Message, "first_frame is ")
	}
	e := AsError(ValidateImageGeometry("reference_images", 200, 400))
	require.Equal(t, "reference_images is 200x400 px: each side must be more than 300 and less than 6000 px", e.Message)
	e = AsError(ValidateImageGeometry("first_frame", 1000, 400))
	require.Equal(t, "first_frame is 1000x400 px, aspect ratio 2.50: width/height must be between 0.4 and 2.5 (exclusive)", e.Message)
}
