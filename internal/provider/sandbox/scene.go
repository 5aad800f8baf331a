package sandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seedgate/seedgate/internal/task"
)

const (
	fps            = 24
	samplesPerSec  = 48000
	samplesPerFrm  = samplesPerSec / fps
	videoFile      = "video.mp4"
	movFile        = "video.mov"
	lastFrameFile  = "last_frame.png"
	thumbnailFile  = "thumbnail.jpg"
	promptFile     = "prompt.txt"
	firstImageBase = "first"
	lastImageBase  = "last"
	// x264Threads is fixed: x264's output depends on its thread count, and the
	// same request must give the same bytes on every machine.
	x264Threads = "2"
)

// scene is everything one render needs, decided before ffmpeg runs.
// File names are relative to the render directory.
type scene struct {
	mode        task.InputMode // ModeText, ModeFirstFrame, ModeFirstLast, ModeEdit or ModeExtend
	w, h        int
	frames      int
	seed        int64
	audio       bool
	watermark   bool
	lastFrame   bool
	cameraFixed bool
	firstImage  string
	lastImage   string
	// source is the reference video of an edit or extend.
	source *sourceVideo
	// sound, when set, is the soundtrack (a reference audio clip), whatever
	// generate_audio says.
	sound *soundtrack
	// mov writes a QuickTime file instead of an MP4.
	mov bool
	// prompt is the wrapped text written to promptFile ("" draws none).
	prompt string
	fonts  fonts
}

// output is the video's file name, and its container as ffmpeg names it.
func (s *scene) output() (name, format string) {
	if s.mov {
		return movFile, "mov"
	}
	return videoFile, "mp4"
}

// hasAudio reports whether the video gets a sound track: the reference audio,
// else the source's own sound or a chord where the model makes sound.
func (s *scene) hasAudio() bool { return s.sound != nil || s.audio }

func (s *scene) seconds() float64 { return float64(s.frames) / fps }

// args returns ffmpeg's command line for the scene.
func (s *scene) args() []string {
	rng := newSplitMix(uint64(s.seed))
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-filter_threads", "1", "-filter_complex_threads", "1"}

	var graph []string
	switch s.mode {
	case task.ModeEdit, task.ModeExtend:
		args = append(args, "-protocol_whitelist", "file", "-f", s.source.format, "-i", "file:"+s.source.file)
		if s.mode == task.ModeEdit {
			graph = append(graph, s.edit(rng)...)
		} else {
			graph = append(graph, s.extend(rng)...)
		}
	case task.ModeFirstLast:
		args = append(args, loopedImage(s.firstImage)...)
		args = append(args, loopedImage(s.lastImage)...)
		graph = append(graph, s.transition(rng)...)
	case task.ModeFirstFrame:
		if s.cameraFixed {
			args = append(args, loopedImage(s.firstImage)...)
		} else {
			args = append(args, "-f", "image2", "-i", "file:"+s.firstImage)
		}
		graph = append(graph, s.still(rng)...)
	default:
		graph = append(graph, s.text(rng)...)
	}

	// [base] is the picture at its final size and length; the last frame is
	// taken before the watermark is drawn.
	base := "base"
	if s.lastFrame {
		graph = append(graph,
			"[base]split=2[wm][lfsrc]",
			fmt.Sprintf("[lfsrc]trim=start_frame=%d,format=rgb24[lf]", s.frames-1))
		base = "wm"
	}
	if s.watermark {
		graph = append(graph, fmt.Sprintf("[%s]%s[final]", base, s.watermarkFilter()))
	} else {
		graph = append(graph, fmt.Sprintf("[%s]null[final]", base))
	}
	// The thumbnail is the video's first frame as it is shown (watermark included).
	graph = append(graph, "[final]split=2[vout][thsrc]", "[thsrc]trim=end_frame=1[th]")
	switch {
	case s.sound != nil:
		args = append(args, "-protocol_whitelist", "file", "-f", s.sound.format, "-i", "file:"+s.sound.file)
		graph = append(graph, s.fitAudio(inputCount(args)-1))
	case s.audio && s.source != nil && s.source.hasAudio:
		graph = append(graph, s.fitAudio(0))
	case s.audio:
		graph = append(graph, s.chord(rng))
	}

	args = append(args, "-filter_complex", strings.Join(graph, ";\n"),
		"-map", "[vout]")
	if s.hasAudio() {
		args = append(args, "-map", "[aout]", "-c:a", "aac", "-b:a", "96k", "-ac", "1", "-ar", strconv.Itoa(samplesPerSec))
	}
	name, format := s.output()
	args = append(args,
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-pix_fmt", "yuv420p",
		"-threads", x264Threads,
		"-movflags", "+faststart", "-map_metadata", "-1", "-map_chapters", "-1",
		"-fflags", "+bitexact", "-flags", "+bitexact",
		"-f", format, "file:"+name)
	if s.lastFrame {
		args = append(args, "-map", "[lf]", "-frames:v", "1", "-update", "1", "-c:v", "png",
			"-fflags", "+bitexact", "-flags", "+bitexact", "-f", "image2", "file:"+lastFrameFile)
	}
	args = append(args, "-map", "[th]", "-frames:v", "1", "-update", "1", "-c:v", "mjpeg", "-q:v", "3",
		"-fflags", "+bitexact", "-flags", "+bitexact", "-f", "image2", "file:"+thumbnailFile)
	return args
}

// inputCount counts the -i options of a command line.
func inputCount(args []string) int {
	n := 0
	for _, a := range args {
		if a == "-i" {
			n++
		}
	}
	return n
}

func loopedImage(name string) []string {
	return []string{"-f", "image2", "-loop", "1", "-framerate", strconv.Itoa(fps), "-i", "file:" + name}
}

// cover scales and crops an input to fill w×h.
func cover(w, h int) string {
	return fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=increase:flags=bicubic,crop=%d:%d,setsar=1", w, h, w, h)
}

// finish bounds a stream to the exact frame count and the output pixel format.
func (s *scene) finish() string {
	return fmt.Sprintf("trim=end_frame=%d,setpts=PTS-STARTPTS,format=yuv420p", s.frames)
}

var transitions = []string{"fade", "dissolve", "wipeleft", "wiperight", "slideleft", "slideup", "circleopen", "circlecrop", "smoothleft", "radial", "hblur", "fadeblack"}

// transition fades from the first frame to the last: the first image holds for
// a quarter of the video, the transition takes half, the last image the rest.
func (s *scene) transition(rng *splitMix) []string {
	offset := s.frames / 4
	length := max(s.frames/2, 1)
	name := transitions[rng.intn(len(transitions))]
	return []string{
		fmt.Sprintf("[0:v]%s,format=yuv444p,trim=end_frame=%d[a]", cover(s.w, s.h), s.frames),
		fmt.Sprintf("[1:v]%s,format=yuv444p,trim=end_frame=%d[b]", cover(s.w, s.h), s.frames),
		fmt.Sprintf("[a][b]xfade=transition=%s:duration=%s:offset=%s,%s[base]",
			name, num(float64(length)/fps), num(float64(offset)/fps), s.finish()),
	}
}

// still animates a lone first frame: a slow zoom (in or out) with a drift, or,
// with camera_fixed, a still camera and light that breathes.
func (s *scene) still(rng *splitMix) []string {
	if s.cameraFixed {
		return []string{fmt.Sprintf("[0:v]%s,eq=brightness='0.04*sin(2*PI*t/%s)':eval=frame,%s[base]",
			cover(s.w, s.h), num(s.seconds()), s.finish())}
	}
	n := float64(s.frames)
	zoom := 0.08 + 0.1*rng.float()
	z := fmt.Sprintf("1+%s*on/%s", num(zoom), num(n))
	if rng.intn(2) == 0 { // zoom out
		z = fmt.Sprintf("%s-%s*on/%s", num(1+zoom), num(zoom), num(n))
	}
	dx, dy := rng.float()-0.5, (rng.float()-0.5)/2
	// Twice the output size gives zoompan's integer crop positions half-pixel steps.
	return []string{fmt.Sprintf(
		"[0:v]%s,zoompan=z='%s':x='(iw-iw/zoom)*(0.5+%s*on/%s)':y='(ih-ih/zoom)*(0.5+%s*on/%s)':d=%d:s=%dx%d:fps=%d,%s[base]",
		cover(2*s.w, 2*s.h), z, num(dx), num(n), num(dy), num(n), s.frames, s.w, s.h, fps, s.finish())}
}

var gradientTypes = []string{"linear", "radial", "circular", "spiral"}

// text is the prompt-only scene: a moving gradient in seed-chosen colours,
// a few translucent discs gliding over it, and the prompt in the middle.
func (s *scene) text(rng *splitMix) []string {
	nColors := 2 + rng.intn(3)
	hue := rng.float()
	var colors []string
	for i := range nColors {
		h := math.Mod(hue+float64(i)*(0.12+0.2*rng.float()), 1)
		colors = append(colors, fmt.Sprintf("c%d=%s", i, hsvHex(h, 0.45+0.4*rng.float(), 0.55+0.4*rng.float())))
	}
	graph := []string{fmt.Sprintf(
		"gradients=s=%dx%d:r=%d:%s:nb_colors=%d:seed=%d:speed=%s:type=%s:x0=%d:y0=%d:x1=%d:y1=%d,%s[bg0]",
		s.w, s.h, fps, strings.Join(colors, ":"), nColors, uint32(s.seed), num(0.005+0.02*rng.float()),
		gradientTypes[rng.intn(len(gradientTypes))],
		rng.frac(s.w), rng.frac(s.h), rng.frac(s.w), rng.frac(s.h), s.finish())}

	prev := "bg0"
	discs := 2 + rng.intn(2)
	for i := range discs {
		d := max(min(s.w, s.h)*(10+rng.intn(15))/100, 8)
		r := float64(d) / 2
		// One frame of disc (anti-aliased edge), looped forever; overlay ends with the background.
		graph = append(graph, fmt.Sprintf(
			"color=c=white:s=%dx%d:r=%d:d=%s,format=rgba,geq=r=255:g=255:b=255:a='%d*clip(%s-hypot(X-%s\\,Y-%s)\\,0\\,1)',loop=loop=-1:size=1[disc%d]",
			d, d, fps, num(1.0/fps), 60+rng.intn(80), num(r), num(r-0.5), num(r-0.5), i))
		next := fmt.Sprintf("bg%d", i+1)
		graph = append(graph, fmt.Sprintf(
			"[%s][disc%d]overlay=x='(W-w)*(0.5+0.45*sin(2*PI*(t/%s+%s)))':y='(H-h)*(0.5+0.45*cos(2*PI*(t/%s+%s)))':shortest=1[%s]",
			prev, i, num(3+5*rng.float()), num(rng.float()), num(3+5*rng.float()), num(rng.float()), next))
		prev = next
	}

	last := fmt.Sprintf("[%s]format=yuv420p", prev)
	if s.prompt != "" {
		fs := promptFontSize(s.w, s.h)
		last += fmt.Sprintf(",drawtext=%stextfile=%s:expansion=none:fontsize=%d:fontcolor=white:line_spacing=%d"+
			":x=(w-text_w)/2:y=(h-text_h)/2:box=1:boxcolor=black@0.35:boxborderw=%d:alpha='min(1,t/0.5)'",
			fontOption(s.fonts.prompt), promptFile, fs, fs/4, fs/2)
	}
	graph = append(graph, last+","+s.finish()+"[base]")
	return graph
}

func (s *scene) watermarkFilter() string {
	fs := max(min(s.w, s.h)/22, 12)
	margin := max(min(s.w, s.h)/36, 6)
	return fmt.Sprintf("drawtext=%stext=%s:expansion=none:fontsize=%d:fontcolor=white@0.85:shadowcolor=black@0.6:shadowx=1:shadowy=1:x=w-text_w-%d:y=h-text_h-%d",
		fontOption(s.fonts.watermark), escapeValue(s.fonts.watermarkText), fs, margin, margin)
}

// chord is a soft mono chord from the seed, faded in and out, cut to the exact
// sample count of the video (48 kHz / 24 fps = 2000 samples a frame).
func (s *scene) chord(rng *splitMix) string {
	roots := []float64{130.81, 146.83, 164.81, 174.61, 196.00, 220.00, 246.94} // C3 … B3
	shapes := [][]int{{0, 4, 7, 12}, {0, 3, 7, 12}, {0, 5, 7, 12}, {0, 4, 7, 11}}
	root := roots[rng.intn(len(roots))]
	var terms []string
	for i, semi := range shapes[rng.intn(len(shapes))] {
		f := root * math.Pow(2, float64(semi)/12)
		terms = append(terms, fmt.Sprintf("%s*sin(2*PI*%s*t)", num(0.16/float64(i+1)), num(f)))
	}
	tremolo := fmt.Sprintf("(0.85+0.15*sin(2*PI*%s*t))", num(0.2+0.6*rng.float()))
	d := s.seconds()
	fade := math.Min(0.5, d/4)
	return fmt.Sprintf("aevalsrc=exprs=%s:s=%d:c=mono:d=%s,atrim=end_sample=%d,afade=t=in:st=0:d=%s,afade=t=out:st=%s:d=%s[aout]",
		escapeValue(tremolo+"*("+strings.Join(terms, "+")+")"), samplesPerSec, num(d+1), s.frames*samplesPerFrm,
		num(fade), num(d-fade), num(fade))
}

func fontOption(path string) string {
	if path == "" {
		return "" // fontconfig's default
	}
	return "fontfile=" + escapeValue(path) + ":"
}

func promptFontSize(w, h int) int { return max(min(w, h)/16, 14) }

// wrapPrompt makes the prompt safe and readable for drawtext: valid UTF-8
// without control characters, wrapped to the frame's width, cut to the lines
// that fit. The text goes through a file (textfile=) with expansion off, so
// quotes, colons, % and backslashes are drawn as they are.
func wrapPrompt(prompt string, w, h int) string {
	fs := promptFontSize(w, h)
	cols := max(int(float64(w)*0.86/(float64(fs)*0.56)), 8)
	maxLines := max(int(float64(h)*0.7/(float64(fs)*1.3)), 1)

	prompt = strings.ToValidUTF8(prompt, "\uFFFD")
	prompt = strings.ReplaceAll(prompt, "\r\n", "\n")
	var lines []string
	for para := range strings.SplitSeq(prompt, "\n") {
		para = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\r':
				return ' '
			case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
				return -1
			}
			return r
		}, para)
		lines = append(lines, wrapLine(strings.TrimSpace(para), cols)...)
	}
	// Drop empty lines at the ends; keep the ones between paragraphs.
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = truncateCols(lines[maxLines-1], cols-1) + "…"
	}
	return strings.Join(lines, "\n")
}

// wrapLine breaks at spaces where it can and anywhere where it must (long
// words, scripts without spaces). It reads each rune a bounded number of
// times, so its time is linear in the text, however long a word is.
func wrapLine(s string, cols int) []string {
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
		space := strings.TrimSpace(word) == ""
		if curCols > 0 && curCols+wc > cols && !space {
			flush()
		}
		if curCols == 0 && space {
			continue // no leading spaces on a wrapped line
		}
		if wc > cols { // a word wider than a line: as many runes as fit on each
			for _, r := range word {
				rc := runeCols(r)
				if curCols+rc > cols && curCols > 0 {
					flush()
				}
				cur.WriteRune(r)
				curCols += rc
			}
			continue
		}
		cur.WriteString(word)
		curCols += wc
	}
	if cur.Len() > 0 {
		flush()
	}
	return lines
}

// splitWords splits into words and single spaces; each wide (CJK) rune is a
// word of its own, so such text breaks between any two characters.
func splitWords(s string) []string {
	var words []string
	start := 0
	for i, r := range s {
		if r == ' ' || runeCols(r) == 2 {
			if start < i {
				words = append(words, s[start:i])
			}
			words = append(words, string(r))
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}

func truncateCols(s string, cols int) string {
	n := 0
	for i, r := range s {
		n += runeCols(r)
		if n > cols {
			return s[:i]
		}
	}
	return s
}

func textCols(s string) int {
	n := 0
	for _, r := range s {
		n += runeCols(r)
	}
	return n
}

// runeCols estimates how many columns a rune takes: 2 for East Asian wide
// characters and emoji, 1 otherwise.
func runeCols(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60,
		r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1FAFF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

// escapeValue escapes a filter option value for both levels ffmpeg parses:
// the option list of one filter (\ ' :) and the filtergraph (\ ' [ ] , ;).
func escapeValue(v string) string {
	return escapeChars(escapeChars(v, `\':`), `\'[],;`)
}

func escapeChars(s, special string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(special, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// num formats a number the same way everywhere (the command line is part of
// what makes renders reproducible).
func num(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func hsvHex(h, s, v float64) string {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return fmt.Sprintf("0x%02x%02x%02x", int(r*255+0.5), int(g*255+0.5), int(b*255+0.5))
}

// splitMix is SplitMix64: a tiny generator whose sequence for a seed is fixed
// forever, unlike library generators that may change between Go releases.
type splitMix struct{ state uint64 }

func newSplitMix(seed uint64) *splitMix { return &splitMix{state: seed} }

func (s *splitMix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (s *splitMix) float() float64 { return float64(s.next()>>11) / (1 << 53) }

// frac returns a number in [0, n) at the same fraction of n for every n: a
// position drawn with it lands at the same place in a frame of any size.
func (s *splitMix) frac(n int) int { return int(s.float() * float64(n)) }

// intn returns a number in [0, n).
func (s *splitMix) intn(n int) int { return int(s.next() % uint64(n)) }
