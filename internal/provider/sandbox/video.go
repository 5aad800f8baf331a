package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// maxSourceSeconds bounds the reference video an edit or extend reads: the
// longest 2.x output, twice, so an extend of an extend still fits, while a
// tenant cannot occupy a renderer with an hour of video.
const maxSourceSeconds = 60

// videoTaskMode is the scene mode of a request whose reference video is to be
// edited or extended (task.ModeEdit, task.ModeExtend), or "" for any other.
func videoTaskMode(r *task.Request) task.InputMode {
	switch mode := task.InputModeOf(r); mode {
	case task.ModeEdit, task.ModeExtend:
		if len(r.ReferenceVideos) > 0 {
			return mode
		}
	}
	return ""
}

// sourceVideo is the reference video of an edit or extend, in the render directory.
type sourceVideo struct {
	file     string // relative to the render directory
	format   string // the demuxer ffmpeg must use
	w, h     int
	frames   int // at 24 fps
	hasAudio bool
}

// seconds is the source's length as rendered.
func (v *sourceVideo) seconds() float64 { return float64(v.frames) / fps }

// soundtrack is a reference audio clip in the render directory.
type soundtrack struct {
	file   string
	format string
}

// inputFailure is an input the task cannot be rendered from.
func inputFailure(code, field, format string, args ...any) *imageFailure {
	return &imageFailure{upstreamError(code, field, field+": "+fmt.Sprintf(format, args...))}
}

// fetchInput copies the bytes behind url (a gateway file, a data: URL, or an
// http(s) URL through the SSRF guard, all by the resolver) into dir/name, and
// returns the demuxer its first bytes call for ("" when none fits).
func (p *Provider) fetchInput(ctx context.Context, dir, name, field, url string) (string, *imageFailure, error) {
	rc, err := p.resolver.Open(ctx, url)
	if err == nil {
		defer rc.Close()
		var f *os.File
		if f, err = os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600); err != nil {
			return "", nil, provider.Transient(fmt.Errorf("sandbox: write %s: %w", field, err), 0)
		}
		_, err = io.Copy(f, rc)
		if cerr := f.Close(); err == nil && cerr != nil {
			return "", nil, provider.Transient(fmt.Errorf("sandbox: write %s: %w", field, cerr), 0)
		}
	}
	if err != nil {
		var te *task.Error
		if errors.As(err, &te) {
			return "", &imageFailure{upstreamError("InvalidParameter", field, field+": "+te.Message)}, nil
		}
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		return "", nil, provider.Transient(fmt.Errorf("sandbox: read %s: %w", field, err), 0)
	}
	head := make([]byte, 16)
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return "", nil, provider.Transient(fmt.Errorf("sandbox: reopen %s: %w", field, err), 0)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	return demuxerOf(head[:n]), nil, nil
}

// demuxerOf names the ffmpeg demuxer for the formats the upstream takes
// (MP4/MOV video; WAV, MP3 and AAC-in-MP4 audio), from the file's first bytes.
func demuxerOf(head []byte) string {
	switch {
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return "mov"
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "wav"
	case len(head) >= 3 && (string(head[:3]) == "ID3" || (head[0] == 0xFF && head[1]&0xE0 == 0xE0)):
		return "mp3"
	}
	return ""
}

// fetchSource reads and probes the reference video of an edit or extend.
func (p *Provider) fetchSource(ctx context.Context, dir, url string) (*sourceVideo, *imageFailure, error) {
	const field, name = "reference_videos[0]", "source.video"
	format, failure, err := p.fetchInput(ctx, dir, name, field, url)
	if failure != nil || err != nil {
		return nil, failure, err
	}
	if format != "mov" {
		return nil, inputFailure("InvalidParameter", field, "not an MP4 or MOV video"), nil
	}
	info, err := media.Probe(ctx, p.cfg.FFprobePath, format, filepath.Join(dir, name))
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case err != nil || !info.HasVideo || info.Width <= 0 || info.Height <= 0:
		return nil, inputFailure("InvalidParameter", field, "not a readable video"), nil
	case info.Duration > maxSourceSeconds:
		return nil, inputFailure("InvalidParameter", field, "the video is %.1f s long: the sandbox edits and extends videos of up to %d s",
			info.Duration, maxSourceSeconds), nil
	}
	return &sourceVideo{file: name, format: format, w: info.Width, h: info.Height,
		frames: max(int(math.Round(info.Duration*fps)), 1), hasAudio: info.HasAudio}, nil, nil
}

// fetchSoundtrack reads and probes the first reference audio clip.
func (p *Provider) fetchSoundtrack(ctx context.Context, dir, url string) (*soundtrack, *imageFailure, error) {
	const field, name = "reference_audio[0]", "soundtrack.audio"
	format, failure, err := p.fetchInput(ctx, dir, name, field, url)
	if failure != nil || err != nil {
		return nil, failure, err
	}
	if format == "" {
		return nil, inputFailure("InvalidParameter", field, "not WAV, MP3 or AAC audio"), nil
	}
	info, err := media.Probe(ctx, p.cfg.FFprobePath, format, filepath.Join(dir, name))
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case err != nil || !info.HasAudio:
		return nil, inputFailure("InvalidParameter", field, "no readable audio"), nil
	}
	return &soundtrack{file: name, format: format}, nil, nil
}

// sourceInput is the reference video as the render's input 0, at 24 fps,
// covering the output size, its last frame held for ever (trim ends it).
func (s *scene) sourceInput() string {
	return fmt.Sprintf("[0:v]fps=%d,%s,tpad=stop_mode=clone:stop=-1", fps, cover(s.w, s.h))
}

// edit is the reference video graded in seed-chosen colours, with the prompt
// drawn over its lower part: the same length, visibly changed.
func (s *scene) edit(rng *splitMix) []string {
	grade := fmt.Sprintf("hue=h=%s:s=%s,colorbalance=rs=%s:gs=%s:bs=%s:rm=%s:bm=%s,eq=contrast=1.12:gamma=%s",
		num(60+240*rng.float()), num(1.2+0.3*rng.float()),
		num(0.5*rng.float()-0.25), num(0.5*rng.float()-0.25), num(0.5*rng.float()-0.25),
		num(0.3*rng.float()-0.15), num(0.3*rng.float()-0.15), num(0.9+0.2*rng.float()))
	chain := fmt.Sprintf("%s,trim=end_frame=%d,setpts=PTS-STARTPTS,%s,format=yuv420p", s.sourceInput(), s.frames, grade)
	if s.prompt != "" {
		fs := promptFontSize(s.w, s.h)
		chain += fmt.Sprintf(",drawtext=%stextfile=%s:expansion=none:fontsize=%d:fontcolor=white:line_spacing=%d"+
			":x=(w-text_w)/2:y=h-text_h-%d:box=1:boxcolor=black@0.45:boxborderw=%d",
			fontOption(s.fonts.prompt), promptFile, fs, fs/4, fs, fs/2)
	}
	return []string{chain + "," + s.finish() + "[base]"}
}

// extend is the reference video, then its last frame slowly moving on (a
// zoom with a drift) for the requested seconds.
func (s *scene) extend(rng *splitMix) []string {
	head := s.source.frames
	tail := float64(s.frames - head)
	zoom := 0.06 + 0.08*rng.float()
	dx, dy := rng.float()-0.5, (rng.float()-0.5)/2
	return []string{
		fmt.Sprintf("%s,trim=end_frame=%d,split[src0][src1]", s.sourceInput(), s.frames),
		fmt.Sprintf("[src0]trim=end_frame=%d,setpts=PTS-STARTPTS,format=yuv420p[head]", head),
		// The held last frame, twice the output size so that zoompan's integer
		// crop positions move in half-pixel steps; one output frame per input frame.
		fmt.Sprintf("[src1]trim=start_frame=%d,setpts=PTS-STARTPTS,scale=%d:%d:flags=bicubic,"+
			"zoompan=z='1+%s*on/%s':x='(iw-iw/zoom)*(0.5+%s*on/%s)':y='(ih-ih/zoom)*(0.5+%s*on/%s)':d=1:s=%dx%d:fps=%d,setsar=1,format=yuv420p[tail]",
			head, 2*s.w, 2*s.h, num(zoom), num(tail), num(dx), num(tail), num(dy), num(tail), s.w, s.h, fps),
		"[head][tail]concat=n=2:v=1:a=0," + s.finish() + "[base]",
	}
}

// fitAudio makes an input's audio the soundtrack: mono at the output rate,
// cut or padded with silence to the video's exact sample count.
func (s *scene) fitAudio(input int) string {
	return fmt.Sprintf("[%d:a]aresample=%d,aformat=sample_fmts=fltp:channel_layouts=mono,apad,atrim=end_sample=%d,asetpts=PTS-STARTPTS[aout]",
		input, samplesPerSec, s.frames*samplesPerFrm)
}
