package task

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InlineParams are the legacy `--flag value` parameters found at the end of a
// prompt (docs/upstream-ark.md#inline-parameters). A nil field was not given or did not parse.
// Values are not checked against any model here: ApplyInline does that.
type InlineParams struct {
	Resolution  *string // --rs, --resolution
	Ratio       *string // --rt, --ratio
	Duration    *int    // --dur, --duration
	Frames      *int    // --frames
	FPS         *int    // --fps, --framespersecond (only 24 exists; nothing to apply)
	Seed        *int64  // --seed
	CameraFixed *bool   // --cf, --camerafixed
	Watermark   *bool   // --wm, --watermark
}

type inlineKey int

const (
	inlineResolution inlineKey = iota
	inlineRatio
	inlineDuration
	inlineFrames
	inlineFPS
	inlineSeed
	inlineCameraFixed
	inlineWatermark
)

// inlineFlags maps every recognised flag name (without "--", lower case) to its parameter.
var inlineFlags = map[string]inlineKey{
	"rs": inlineResolution, "resolution": inlineResolution,
	"rt": inlineRatio, "ratio": inlineRatio,
	"dur": inlineDuration, "duration": inlineDuration,
	"frames": inlineFrames,
	"fps":    inlineFPS, "framespersecond": inlineFPS,
	"seed": inlineSeed,
	"cf":   inlineCameraFixed, "camerafixed": inlineCameraFixed,
	"wm": inlineWatermark, "watermark": inlineWatermark,
}

// inlineFlag recognises a token "--name" or "--name=value" (name ASCII,
// case-insensitive) and returns its parameter, the value after "=" and whether
// there was one.
func inlineFlag(tok string) (key inlineKey, value string, hasValue, ok bool) {
	rest, found := strings.CutPrefix(tok, "--")
	if !found {
		return 0, "", false, false
	}
	name, value, hasValue := strings.Cut(rest, "=")
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return 0, "", false, false // only ASCII names: no Unicode case-folding surprises
		}
	}
	key, ok = inlineFlags[strings.ToLower(name)]
	return key, value, hasValue, ok
}

// ParseInline removes the recognised inline parameters from a prompt and returns
// the remaining text and the parsed values. Each flag takes the next
// whitespace-separated token as its value (or "--flag=value"), unless that token
// starts with "--". A flag whose value does not parse is still removed, and its
// field stays nil (the default applies). Unknown "--x" tokens stay in the text.
// The whitespace before each removed parameter goes with it; the text's other
// whitespace (newlines included) is kept, and the result is trimmed.
// When a parameter repeats, the last one wins.
func ParseInline(text string) (clean string, p InlineParams) {
	toks := tokenize(text)
	var b strings.Builder
	kept := 0 // text[kept:] has not been copied or dropped yet
	for i := 0; i < len(toks); i++ {
		flag := i
		key, value, hasValue, ok := inlineFlag(text[toks[flag].start:toks[flag].end])
		if !ok {
			continue
		}
		end := toks[flag].end
		if !hasValue && i+1 < len(toks) {
			if next := text[toks[i+1].start:toks[i+1].end]; !strings.HasPrefix(next, "--") {
				value, end = next, toks[i+1].end
				i++
			}
		}
		p.set(key, value)
		// Drop from the end of the previous token, taking the separating whitespace along.
		cutFrom := 0
		if flag > 0 {
			cutFrom = toks[flag-1].end
		}
		b.WriteString(text[kept:max(cutFrom, kept)])
		kept = end
	}
	if kept == 0 {
		return strings.TrimSpace(text), p
	}
	b.WriteString(text[kept:])
	return strings.TrimSpace(b.String()), p
}

// span is a token's byte range in the text.
type span struct{ start, end int }

// tokenize splits text at Unicode white space, like strings.Fields, keeping offsets.
func tokenize(text string) []span {
	var out []span
	start := -1
	for i, r := range text {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(text)})
	}
	return out
}

// set stores one parsed value; values that do not parse leave the field nil.
func (p *InlineParams) set(key inlineKey, value string) {
	switch key {
	case inlineResolution:
		p.Resolution = nonEmpty(value)
	case inlineRatio:
		p.Ratio = nonEmpty(value)
	case inlineDuration:
		p.Duration = parseInt(value)
	case inlineFrames:
		p.Frames = parseInt(value)
	case inlineFPS:
		p.FPS = parseInt(value)
	case inlineSeed:
		if v, err := strconv.ParseInt(value, 10, 64); err == nil {
			p.Seed = &v
		} else {
			p.Seed = nil
		}
	case inlineCameraFixed:
		p.CameraFixed = parseBool(value)
	case inlineWatermark:
		p.Watermark = parseBool(value)
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func parseInt(s string) *int {
	v, err := strconv.Atoi(s)
	if err != nil {
		return nil
	}
	return &v
}

func parseBool(s string) *bool {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return nil
	}
	return &v
}

// ApplyInline copies inline parameters into r where the body left the field
// unset, weakly: a value this model would reject (in r's input mode) is ignored,
// so the default applies. Call it before Normalize, which fills the defaults.
// Inline frames count as set duration and vice versa (frames wins when both are
// inline); --fps has no field (the output is always 24 fps) and is ignored.
func (m *Model) ApplyInline(r *Request, p InlineParams) {
	mode := InputModeOf(r)
	try := func(set, unset func(), check func(*Model, *Request, InputMode) *Error) {
		set()
		if check(m, r, mode) != nil {
			unset()
		}
	}
	if r.Resolution == "" && p.Resolution != nil {
		try(func() { r.Resolution = *p.Resolution }, func() { r.Resolution = "" }, (*Model).checkResolution)
	}
	if r.Ratio == "" && p.Ratio != nil {
		try(func() { r.Ratio = *p.Ratio }, func() { r.Ratio = "" }, (*Model).checkRatio)
	}
	if r.Frames == nil && r.Duration == nil && p.Frames != nil {
		try(func() { r.Frames = Int(*p.Frames) }, func() { r.Frames = nil }, (*Model).checkFrames)
	}
	if r.Frames == nil && r.Duration == nil && p.Duration != nil {
		try(func() { r.Duration = Int(*p.Duration) }, func() { r.Duration = nil }, (*Model).checkDuration)
	}
	if r.Seed == nil && p.Seed != nil {
		try(func() { r.Seed = Int64(*p.Seed) }, func() { r.Seed = nil }, (*Model).checkSeed)
	}
	if r.CameraFixed == nil && p.CameraFixed != nil && m.Features.CameraFixed {
		r.CameraFixed = Bool(*p.CameraFixed)
	}
	if r.Watermark == nil && p.Watermark != nil {
		r.Watermark = Bool(*p.Watermark)
	}
}
