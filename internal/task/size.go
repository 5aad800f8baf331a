package task

import (
	"math"
	"strconv"
	"strings"
)

// pixelTables holds W×H per resolution, in FixedRatios order
// (docs/upstream-ark.md#usage-and-pixel-sizes). 1.5 pro and 2.x share the
// second table; 4k exists only for 2.0.
var pixelTables = map[Family]map[string][6][2]int{
	Family10: {
		Res480p:  {{864, 480}, {736, 544}, {640, 640}, {544, 736}, {480, 864}, {960, 416}},
		Res720p:  {{1248, 704}, {1120, 832}, {960, 960}, {832, 1120}, {704, 1248}, {1504, 640}},
		Res1080p: {{1920, 1088}, {1664, 1248}, {1440, 1440}, {1248, 1664}, {1088, 1920}, {2176, 928}},
	},
	Family15: table15,
	Family20: withRes(table15, Res4K, [6][2]int{{3840, 2160}, {3326, 2494}, {2880, 2880}, {2494, 3326}, {2160, 3840}, {4398, 1886}}),
}

var table15 = map[string][6][2]int{
	Res480p:  {{864, 496}, {752, 560}, {640, 640}, {560, 752}, {496, 864}, {992, 432}},
	Res720p:  {{1280, 720}, {1112, 834}, {960, 960}, {834, 1112}, {720, 1280}, {1470, 630}},
	Res1080p: {{1920, 1080}, {1664, 1248}, {1440, 1440}, {1248, 1664}, {1080, 1920}, {2206, 946}},
}

// withRes returns a copy of t with one more resolution row.
func withRes(t map[string][6][2]int, res string, row [6][2]int) map[string][6][2]int {
	out := make(map[string][6][2]int, len(t)+1)
	for k, v := range t {
		out[k] = v
	}
	out[res] = row
	return out
}

// PixelSize returns the output width and height for a family, resolution and
// fixed ratio; ok is false for adaptive or a combination the table lacks.
func PixelSize(f Family, resolution, ratio string) (w, h int, ok bool) {
	row, ok := pixelTables[f][strings.ToLower(resolution)]
	if !ok {
		return 0, 0, false
	}
	for i, r := range FixedRatios {
		if r == ratio {
			return row[i][0], row[i][1], true
		}
	}
	return 0, 0, false
}

// ratioValues are FixedRatios as width/height.
var ratioValues = [6]float64{16.0 / 9, 4.0 / 3, 1, 3.0 / 4, 9.0 / 16, 21.0 / 9}

// NearestRatio returns the fixed ratio closest to w:h, which is how adaptive
// resolves from the first frame. Distance is measured on log(w/h) so that
// 2:1 and 1:2 are equally far from 1:1; a tie goes to the earlier ratio in
// FixedRatios. It returns "" when w or h is not positive.
func NearestRatio(w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	target := math.Log(float64(w) / float64(h))
	best, bestDist := "", math.Inf(1)
	for i, v := range ratioValues {
		if d := math.Abs(math.Log(v) - target); d < bestDist {
			best, bestDist = FixedRatios[i], d
		}
	}
	return best
}

// Tokens is the upstream's usage formula: floor(w × h × frames / 1024), where a
// video of s seconds has 24×s+1 frames.
func Tokens(w, h, frames int) int64 {
	return int64(w) * int64(h) * int64(frames) / 1024
}

// FramesFor returns the frame count of a video of the given seconds at 24 fps.
func FramesFor(seconds int) int { return outputFPS*seconds + 1 }

// Output returns the geometry a normalized request renders at. Adaptive resolves
// from the first frame's size (firstW, firstH; 0 when unknown, which falls back to
// the model's FallbackRatio). Duration -1 (model chooses) counts as 5 s, so
// estimates are deterministic. Draft renders at 480p.
func (m *Model) Output(r *Request, firstW, firstH int) (w, h, frames int, ratio string, err error) {
	res := strings.ToLower(r.Resolution)
	if Or(r.Draft, false) {
		res = Res480p
	}
	if res == "" {
		res = m.DefaultResolution
	}
	ratio = strings.ToLower(r.Ratio)
	if ratio == "" {
		ratio = m.RatioRule(InputModeOf(r)).Default
	}
	if ratio == RatioAdaptive {
		ratio = NearestRatio(firstW, firstH)
		if ratio == "" {
			ratio = m.FallbackRatio
		}
	}
	w, h, ok := PixelSize(m.Family, res, ratio)
	if !ok {
		return 0, 0, 0, "", invalid("resolution", "no output size for %s at resolution %q and ratio %q", m.Name, res, ratio)
	}
	switch {
	case r.Frames != nil:
		frames = *r.Frames
	case r.Duration == nil || *r.Duration == -1:
		frames = FramesFor(autoDurationSeconds)
	default:
		frames = FramesFor(*r.Duration)
	}
	return w, h, frames, ratio, nil
}

// EstimateTokens is UsageTokens of Output (a draft × 0.6, rounded down, as
// the catalog's billing says); 0 when the request has no output size.
func (m *Model) EstimateTokens(r *Request, firstW, firstH int) int64 {
	w, h, frames, _, err := m.Output(r, firstW, firstH)
	if err != nil {
		return 0
	}
	return m.UsageTokens(r, w, h, frames)
}

// UsageTokens is what a video of w×h px and frames costs under m's billing
// rule: the pixel formula (Tokens), plus the input video's seconds at the
// output's size where the model bills them (2.x:
// w × h × (input seconds + output seconds) × 24 / 1024), times the draft
// percentage for a draft.
func (m *Model) UsageTokens(r *Request, w, h, frames int) int64 {
	if m.Billing.InputVideo && r.InputVideoSeconds > 0 {
		frames += int(math.Round(r.InputVideoSeconds * outputFPS))
	}
	t := Tokens(w, h, frames)
	if Or(r.Draft, false) && m.Features.Draft {
		percent := m.Billing.DraftPercent
		if percent == 0 {
			percent = defaultDraftPercent
		}
		t = t * int64(percent) / 100
	}
	return t
}

// InputVideoSeconds is how many seconds of input video m bills r for, given
// the measured length of each reference video (0: unknown, which counts as
// the catalog's Billing.InputVideoSeconds). 0 when m does not bill input video.
func (m *Model) InputVideoSeconds(measured []float64) float64 {
	if !m.Billing.InputVideo {
		return 0
	}
	var total float64
	for _, s := range measured {
		if s <= 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			s = float64(m.Billing.InputVideoSeconds)
		}
		total += s
	}
	return total
}

// Input image limits (docs/upstream-ark.md#input-limits), all exclusive.
const (
	minImageSide = 300
	maxImageSide = 6000
)

// ValidateImageGeometry checks an input image's size: each side strictly between
// 300 and 6000 px and width/height strictly between 0.4 and 2.5. field names the
// request field for the error (e.g. "first_frame").
func ValidateImageGeometry(field string, w, h int) error {
	if w <= minImageSide || h <= minImageSide || w >= maxImageSide || h >= maxImageSide {
		return invalid(field, "%s is %dx%d px: each side must be more than %d and less than %d px",
			field, w, h, minImageSide, maxImageSide)
	}
	// 0.4 < w/h < 2.5 in integers: 5w > 2h and 2w < 5h.
	if 5*w <= 2*h || 2*w >= 5*h {
		return invalid(field, "%s is %dx%d px, aspect ratio %.2f: width/height must be between 0.4 and 2.5 (exclusive)",
			field, w, h, float64(w)/float64(h))
	}
	return nil
}

// SizeToRequest maps a pixel size "WxH" (the OpenAI-style size field) to one
// of the model's resolutions and a ratio: the exact pixel size when the model
// renders it, else the ratio nearest to W:H at the resolution whose short
// side is nearest. A malformed size is an error naming the field "size".
func SizeToRequest(m *Model, size string) (res, ratio string, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(size)), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 10000 || h > 10000 {
		return "", "", Errorf(CodeInvalidParameter, "size", `size must be "WIDTHxHEIGHT", e.g. "1280x720", got %q`, size)
	}
	for _, res := range m.Resolutions {
		for _, ratio := range FixedRatios {
			if pw, ph, ok := PixelSize(m.Family, res, ratio); ok && pw == w && ph == h {
				return res, ratio, nil
			}
		}
	}
	short := min(w, h)
	best, bestDist := "", math.MaxInt
	for _, res := range m.Resolutions {
		pw, ph, ok := PixelSize(m.Family, res, "1:1")
		if !ok {
			continue
		}
		if d := max(min(pw, ph)-short, short-min(pw, ph)); d < bestDist {
			best, bestDist = res, d
		}
	}
	return best, NearestRatio(w, h), nil
}
