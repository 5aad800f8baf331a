package arkemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // input formats Ark takes
	_ "image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/seedgate/seedgate/internal/media"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// probeImages checks every input image the emulator can see (data URLs always,
// downloadable URLs when reachable) for format and geometry, and returns the
// first frame's size (0, 0 when unknown).
func (s *Server) probeImages(r *http.Request, m *task.Model, req *task.Request) (firstW, firstH int, br *badRequest) {
	urls := []string{req.FirstFrame, req.LastFrame}
	urls = append(urls, req.ReferenceImages...)
	for i, u := range urls {
		if u == "" {
			continue
		}
		w, h, br := s.probeImage(r.Context(), m, u)
		if br != nil {
			return 0, 0, br
		}
		if w > 0 && h > 0 {
			if err := task.ValidateImageGeometry("content", w, h); err != nil {
				return 0, 0, asBadRequest(err)
			}
		}
		if i == 0 {
			firstW, firstH = w, h
		}
	}
	return firstW, firstH, nil
}

var imageFormats = map[string]bool{
	"jpeg": true, "jpg": true, "png": true, "webp": true, "bmp": true, "tiff": true, "gif": true,
}

func invalidFormat(format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "InvalidImageURL.InvalidFormat", param: "image_url",
		msg: fmt.Sprintf(format, args...)}
}

// probeImage returns an image's size; 0, 0 when it cannot be known (an asset,
// HEIC, or an unreachable URL outside StrictImages).
func (s *Server) probeImage(ctx context.Context, m *task.Model, u string) (w, h int, br *badRequest) {
	var data []byte
	switch {
	case strings.HasPrefix(u, "data:"):
		meta, payload, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
		mime, isB64 := strings.CutSuffix(meta, ";base64")
		format, isImage := strings.CutPrefix(strings.ToLower(mime), "image/")
		if !ok || !isB64 || !isImage {
			return 0, 0, invalidFormat("The image data URL must look like data:image/<format>;base64,<data>.")
		}
		if format == "heic" || format == "heif" {
			if !m.Features.HEICInput {
				return 0, 0, invalidFormat("HEIC/HEIF images are not supported by this model.")
			}
			return 0, 0, nil
		}
		if !imageFormats[format] {
			return 0, 0, invalidFormat("The image format %q is not supported.", format)
		}
		dec, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			if dec, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
				return 0, 0, invalidFormat("The image data URL is not valid base64.")
			}
		}
		data = dec
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		got, err := s.download(ctx, u)
		if hasFace(m, u, got) {
			return 0, 0, faceRefused()
		}
		if err != nil {
			if s.opts.StrictImages {
				return 0, 0, invalidParam("image_url", "The image at %s could not be downloaded.", u)
			}
			s.log.Debug("arkemu: image not downloadable, size unknown", "url", u, "err", err)
			return 0, 0, nil
		}
		data = got
	case strings.HasPrefix(u, "asset://"):
		if m.Family != task.Family20 {
			return 0, 0, invalidFormat("asset:// image URLs are only supported by Seedance 2.0 models.")
		}
		// An asset of the library is allowed to show a face: that is what the library is for.
		return 0, 0, s.checkAssetInput(u)
	default:
		return 0, 0, invalidFormat("The image URL must be http(s), a data URL or an asset.")
	}
	if hasFace(m, u, data) {
		return 0, 0, faceRefused()
	}
	if len(data) > arkproto.MaxImageBytes {
		return 0, 0, invalidParam("image_url", "The image is larger than 30 MB.")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, invalidFormat("The image could not be decoded: %v.", err)
	}
	return cfg.Width, cfg.Height, nil
}

func (s *Server) download(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, arkproto.MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return data, nil
}

// probeVideos reads the reference videos the emulator can download and
// returns each one's length in seconds (0 when unknown: an asset, or an
// unreachable URL outside StrictImages).
func (s *Server) probeVideos(ctx context.Context, req *task.Request) ([]float64, *badRequest) {
	out := make([]float64, len(req.ReferenceVideos))
	for i, u := range req.ReferenceVideos {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			continue
		}
		secs, err := s.videoSeconds(ctx, u)
		if err != nil {
			if s.opts.StrictImages {
				return nil, invalidParam("video_url", "The video at %s could not be read.", u)
			}
			s.log.Debug("arkemu: video not readable, length unknown", "url", u, "err", err)
			continue
		}
		out[i] = secs
	}
	return out, nil
}

// videoSeconds downloads a video and asks ffprobe its length.
func (s *Server) videoSeconds(ctx context.Context, u string) (float64, error) {
	data, err := s.download(ctx, u)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp("", "arkemu-video-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	info, err := media.Probe(ctx, s.opts.FFprobe, "mov", f.Name()) // Ark takes MP4 and MOV videos
	if err != nil {
		return 0, err
	}
	if !info.HasVideo || info.Duration <= 0 {
		return 0, fmt.Errorf("no video stream")
	}
	return info.Duration, nil
}

// isVideo reports whether a result file name is the video (video.mp4 or video.mov).
func isVideo(name string) bool { return name == "video.mp4" || name == "video.mov" }

// fileEntry is one result URL the emulator serves.
type fileEntry struct {
	name          string // video.mp4 | video.mov | last_frame.png
	width, height int
	frames        int
	audio         bool
	date          time.Time // when the URL was signed
	expires       time.Time
}

func (s *Server) addFileLocked(f fileEntry) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	s.files[token] = &f
	return token
}

// handleFile serves result files like TOS serves presigned URLs: the bytes
// until the URL expires, then 403 "Request has expired".
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	token, name := r.PathValue("token"), r.PathValue("name")
	s.mu.Lock()
	f, ok := s.files[token]
	var entry fileEntry
	if ok {
		entry = *f
	}
	s.mu.Unlock()
	if !ok || entry.name != name {
		tosError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if !s.opts.Now().Before(entry.expires) {
		tosError(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	if isVideo(name) && s.opts.ResultVideo != "" {
		s.serveResultVideo(w, r, entry)
		return
	}
	data, err := s.media.get(s.ctx, entry)
	if err != nil {
		s.log.Error("arkemu: render result file", "name", name, "err", err)
		tosError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	ctype := "video/mp4"
	switch {
	case strings.HasSuffix(name, ".png"):
		ctype = "image/png"
	case strings.HasSuffix(name, ".mov"):
		ctype = "video/quicktime"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Tos-Request-Id", newRequestID(s.opts.Now()))
	http.ServeContent(w, r, name, entry.date, bytes.NewReader(data))
}

// serveResultVideo serves Options.ResultVideo, streamed from its file.
func (s *Server) serveResultVideo(w http.ResponseWriter, r *http.Request, entry fileEntry) {
	f, err := os.Open(s.opts.ResultVideo)
	if err != nil {
		s.log.Error("arkemu: open result video", "err", err)
		tosError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("X-Tos-Request-Id", newRequestID(s.opts.Now()))
	http.ServeContent(w, r, entry.name, entry.date, f)
}

func tosError(w http.ResponseWriter, status int, code, msg string) {
	id := newRequestID(time.Now())
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n  <Message>%s</Message>\n"+
		"  <RequestId>%s</RequestId>\n  <HostId>tos-cn-beijing.volces.com</HostId>\n</Error>\n", code, msg, id)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Tos-Request-Id", id)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// mediaCache renders each distinct result file once and keeps the bytes.
type mediaCache struct {
	ffmpeg string
	mu     sync.Mutex
	items  map[mediaKey]*mediaItem
}

type mediaKey struct {
	name          string
	width, height int
	frames        int
	audio         bool
}

type mediaItem struct {
	once sync.Once
	data []byte
	err  error
}

func newMediaCache(ffmpeg string) *mediaCache {
	return &mediaCache{ffmpeg: ffmpeg, items: make(map[mediaKey]*mediaItem)}
}

func (c *mediaCache) get(ctx context.Context, f fileEntry) ([]byte, error) {
	k := mediaKey{name: f.name, width: f.width, height: f.height}
	if isVideo(f.name) {
		k.frames, k.audio = f.frames, f.audio
	}
	c.mu.Lock()
	it, ok := c.items[k]
	if !ok {
		it = &mediaItem{}
		c.items[k] = it
	}
	c.mu.Unlock()
	it.once.Do(func() {
		if isVideo(k.name) {
			it.data, it.err = c.renderVideo(ctx, k)
		} else {
			it.data, it.err = renderFrame(k.width, k.height)
		}
	})
	if it.err != nil {
		c.mu.Lock()
		delete(c.items, k) // let a later request try again
		c.mu.Unlock()
	}
	return it.data, it.err
}

// renderVideo makes a real, playable H.264 MP4 (or QuickTime file, for
// video.mov) of the task's size and length (24 fps), with a mono tone when
// the task has audio.
func (c *mediaCache) renderVideo(ctx context.Context, k mediaKey) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "arkemu-*")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, k.name)
	secs := strconv.FormatFloat(float64(k.frames)/24, 'f', 3, 64)
	args := []string{"-v", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=s=%dx%d:r=24", k.width, k.height)}
	if k.audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+secs)
	}
	args = append(args, "-frames:v", strconv.Itoa(k.frames),
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "40", "-pix_fmt", "yuv420p")
	if k.audio {
		args = append(args, "-c:a", "aac", "-b:a", "48k", "-ac", "1")
	}
	format := "mp4"
	if k.name == "video.mov" {
		format = "mov"
	}
	args = append(args, "-movflags", "+faststart", "-f", format, out)
	cmd := exec.CommandContext(ctx, c.ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read rendered video: %w", err)
	}
	return data, nil
}

// renderFrame makes the last-frame PNG: a plain gradient at the video's size.
func renderFrame(w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return b.Bytes(), nil
}
