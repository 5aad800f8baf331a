// Package mediatest probes the videos tests produce (ffprobe), to check what
// the gateway delivers.
package mediatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// VideoInfo is what ffprobe tells about a video file.
type VideoInfo struct {
	Width, Height int
	Duration      float64 // seconds, of the container
	FPS           float64 // average frame rate of the video stream
	Frames        int     // frames in the video stream (0 when the container does not say)
	Codec         string  // e.g. h264
	PixelFormat   string  // e.g. yuv420p
	FormatName    string  // e.g. "mov,mp4,m4a,3gp,3g2,mj2" (the same for MP4 and QuickTime)
	MajorBrand    string  // the ftyp brand: "isom" for an MP4, "qt" for a QuickTime file
	HasAudio      bool
	AudioCodec    string // e.g. aac
	AudioChannels int
}

// ErrNoVideoStream is returned by ProbeVideo for a file without a video stream.
var ErrNoVideoStream = errors.New("mediatest: no video stream")

// ProbeVideo runs ffprobe (from PATH) on a local file.
func ProbeVideo(ctx context.Context, path string) (VideoInfo, error) {
	return ProbeVideoWith(ctx, "ffprobe", path)
}

// ProbeVideoWith is ProbeVideo with an explicit ffprobe binary.
func ProbeVideoWith(ctx context.Context, ffprobe, path string) (VideoInfo, error) {
	var stdout, stderr bytes.Buffer
	// "file:" keeps a path that looks like a URL or an option from being taken
	// as one; the protocol whitelist keeps the demuxer from following references.
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-protocol_whitelist", "file",
		"-print_format", "json", "-show_format", "-show_streams", "file:"+path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return VideoInfo{}, fmt.Errorf("mediatest: ffprobe %s: %w: %s", path, err, lastLine(stderr.String()))
	}
	return parseProbe(stdout.Bytes())
}

type probeOutput struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		PixFmt       string `json:"pix_fmt"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		NbFrames     string `json:"nb_frames"`
		Channels     int    `json:"channels"`
		Disposition  struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Tags       struct {
			MajorBrand string `json:"major_brand"`
		} `json:"tags"`
	} `json:"format"`
}

func parseProbe(data []byte) (VideoInfo, error) {
	var out probeOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return VideoInfo{}, fmt.Errorf("mediatest: decode ffprobe output: %w", err)
	}
	info := VideoInfo{FormatName: out.Format.FormatName, MajorBrand: strings.TrimSpace(out.Format.Tags.MajorBrand)}
	info.Duration, _ = strconv.ParseFloat(out.Format.Duration, 64)
	video := false
	for _, s := range out.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !video:
			video = true
			info.Width, info.Height = s.Width, s.Height
			info.Codec, info.PixelFormat = s.CodecName, s.PixFmt
			info.FPS = parseRate(s.AvgFrameRate)
			if info.FPS == 0 {
				info.FPS = parseRate(s.RFrameRate)
			}
			info.Frames, _ = strconv.Atoi(s.NbFrames)
		case s.CodecType == "audio" && !info.HasAudio:
			info.HasAudio = true
			info.AudioCodec, info.AudioChannels = s.CodecName, s.Channels
		}
	}
	if !video {
		return info, ErrNoVideoStream
	}
	return info, nil
}

// parseRate parses ffprobe's "num/den" rates; 0 when unknown ("0/0").
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return 0
	}
	return n / d
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
