package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// ProbeTimeout bounds one Probe.
const ProbeTimeout = 30 * time.Second

// MediaInfo is what ffprobe tells about a local video or audio file.
type MediaInfo struct {
	Duration      float64 // seconds, of the container
	Width, Height int     // of the first video stream (0 without one)
	HasVideo      bool
	HasAudio      bool
}

// Probe runs ffprobe ("" means ffprobe from PATH) on a local file. format,
// when set, forces the demuxer (mov for MP4/MOV, wav, mp3): a file from a user
// is then read as that and nothing else, so a playlist or a reference format
// cannot make ffprobe open other files or URLs.
func Probe(ctx context.Context, ffprobe, format, path string) (MediaInfo, error) {
	if ffprobe == "" {
		ffprobe = "ffprobe"
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	args := []string{"-v", "error", "-protocol_whitelist", "file"}
	if format != "" {
		args = append(args, "-f", format)
	}
	args = append(args, "-print_format", "json", "-show_entries",
		"format=duration:stream=codec_type,width,height:stream_disposition=attached_pic", "file:"+path)
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ffprobe, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return MediaInfo{}, fmt.Errorf("media: probe %s: %w: %s", path, err, lastLine(stderr.String()))
	}
	var probed struct {
		Streams []struct {
			CodecType   string `json:"codec_type"`
			Width       int    `json:"width"`
			Height      int    `json:"height"`
			Disposition struct {
				AttachedPic int `json:"attached_pic"`
			} `json:"disposition"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out.Bytes(), &probed); err != nil {
		return MediaInfo{}, fmt.Errorf("media: probe %s: %w", path, err)
	}
	var info MediaInfo
	info.Duration, _ = strconv.ParseFloat(probed.Format.Duration, 64)
	for _, s := range probed.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !info.HasVideo:
			info.HasVideo, info.Width, info.Height = true, s.Width, s.Height
		case s.CodecType == "audio":
			info.HasAudio = true
		}
	}
	return info, nil
}
