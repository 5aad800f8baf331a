// Package mirror copies a task's result from the upstream's storage into the
// gateway's blob storage: the scheduler's mirror step. A provider whose
// results stay at upstream URLs reports success with Result.UpstreamVideoURL
// (and UpstreamFrameURL) set and no files; the scheduler then keeps the task
// running at 99% and claims it for a mirror step (due time, lease) until the
// copy works, or until the URLs have stopped working (ResultUnavailable).
// Right after the success is recorded the step makes the thumbnail, a still
// of the copied video (Thumbnail).
package mirror

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

// Deadline: result URLs stay valid 24 h after the upstream finished; a copy
// that has not worked by then never will.
const Deadline = 23 * time.Hour

// goneGrace: a URL the upstream's storage refuses this long after the task
// finished will not come back.
const goneGrace = 10 * time.Minute

// maxFrameBytes bounds a mirrored last frame (a 4k PNG is far smaller).
const maxFrameBytes = 64 << 20

// errGone marks a result URL the upstream's storage no longer serves.
var errGone = errors.New("the upstream no longer serves the file")

// Config wires a Mirror.
type Config struct {
	Blobs blob.Store
	// Download fetches result files (default: safehttp.New with no private addresses).
	Download *http.Client
	// Headers, when set, gives the headers to send with the download of a
	// task's result URL: an upstream whose result URLs need its key
	// (OpenRouter's content endpoint) says so through its provider.
	Headers func(ctx context.Context, t *task.Task, rawURL string) (http.Header, error)
	// MaxVideoBytes bounds a mirrored video (default 2 GiB).
	MaxVideoBytes int64
	// MaxConcurrent bounds concurrent copies (default 8).
	MaxConcurrent int
	// FFmpegPath makes thumbnails ("" means ffmpeg from PATH).
	FFmpegPath string
	// WorkDir holds a video while its thumbnail is made ("" means the system's).
	WorkDir string
	// MinRetry is the shortest delay before a failed copy is tried again (default 2 s).
	MinRetry time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// Mirror runs mirror steps. It is safe for concurrent use.
type Mirror struct {
	c     Config
	log   *slog.Logger
	slots chan struct{}
}

// New returns a Mirror.
func New(c Config) *Mirror {
	if c.Download == nil {
		c.Download = safehttp.New(safehttp.Options{Timeout: 30 * time.Minute})
	}
	if c.MaxVideoBytes <= 0 {
		c.MaxVideoBytes = 2 << 30
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 8
	}
	if c.MinRetry <= 0 {
		c.MinRetry = 2 * time.Second
	}
	c.Logger, c.Now = baseservice.Logger(c.Logger), baseservice.Now(c.Now)
	return &Mirror{c: c, log: c.Logger.With("component", "mirror"), slots: make(chan struct{}, c.MaxConcurrent)}
}

// Pending reports whether a provider reported u's result at upstream URLs,
// to be copied before the task succeeds.
func Pending(u *task.Result) bool {
	return u != nil && u.UpstreamVideoURL != "" && u.VideoFileID == ""
}

// Step copies t's pending result (t.Result, see Pending) and says what to
// record: success with the files, or t still running at 99% with the
// copy's problem on it and when to try again, or failure with
// ResultUnavailable once the upstream URLs cannot work any more.
// Repeating it is harmless: the blob keys and file ids derive from the task.
func (m *Mirror) Step(ctx context.Context, t *task.Task) provider.Update {
	now := m.c.Now()
	res := *t.Result
	done := now
	if res.UpstreamDoneAt != nil {
		done = *res.UpstreamDoneAt
	}
	video, frame, err := m.copy(ctx, t, &res)
	if err != nil {
		since := max(now.Sub(done), 0)
		if since > Deadline || (errors.Is(err, errGone) && since > goneGrace) {
			return provider.Update{Status: task.StatusFailed, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "ResultUnavailable",
				Message: fmt.Sprintf("the video was generated but could not be copied before its upstream URL stopped working: %v", err)}}
		}
		m.log.WarnContext(ctx, "mirroring the result failed; will retry", "task", t.ID, "err", err)
		next := min(max(since/4, m.c.MinRetry), 10*time.Minute)
		return provider.Update{Status: task.StatusRunning, Progress: 99, NextCheck: next, Error: &task.Error{
			Code: task.CodeUnavailable,
			Message: fmt.Sprintf("the video is ready upstream, but copying it into the gateway's storage failed (%v); retrying until %s",
				err, done.Add(Deadline).UTC().Format(time.RFC3339)),
		}}
	}
	return provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: &res, Usage: t.Usage,
		Video: video, LastFrame: frame}
}

// copy copies the video and the last frame. The files stream through
// (constant memory), through the SSRF-guarded client, and are refused when
// larger than the limits, shorter than their Content-Length, or not what they
// claim to be.
func (m *Mirror) copy(ctx context.Context, t *task.Task, res *task.Result) (video, frame *task.File, err error) {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-m.slots }()
	if video, err = m.copyFile(ctx, t, res.UpstreamVideoURL, resultVideo, res); err != nil {
		return nil, nil, err
	}
	if res.UpstreamFrameURL != "" {
		if frame, err = m.copyFile(ctx, t, res.UpstreamFrameURL, resultFrame, res); err != nil {
			return nil, nil, err
		}
	}
	return video, frame, nil
}

type resultKind struct {
	what, name, kind string
}

var (
	resultVideo = resultKind{"video", "video.mp4", "video"}
	resultFrame = resultKind{"last_frame", "last_frame.png", "image"}
)

func (m *Mirror) copyFile(ctx context.Context, t *task.Task, rawURL string, rk resultKind, res *task.Result) (*task.File, error) {
	limit := int64(maxFrameBytes)
	if rk.kind == "video" {
		limit = m.c.MaxVideoBytes
	}
	var header http.Header
	if m.c.Headers != nil {
		var err error
		if header, err = m.c.Headers(ctx, t, rawURL); err != nil {
			return nil, fmt.Errorf("download %s: %w", rk.what, err)
		}
	}
	resp, err := safehttp.GetWithHeader(ctx, m.c.Download, rawURL, header, limit)
	if err != nil {
		var se *safehttp.StatusError
		if errors.As(err, &se) && (se.StatusCode == http.StatusForbidden || se.StatusCode == http.StatusNotFound || se.StatusCode == http.StatusGone) {
			return nil, fmt.Errorf("download %s: %w (HTTP %s)", rk.what, errGone, se.Status)
		}
		return nil, fmt.Errorf("download %s: %w", rk.what, redact(err))
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	head, _ := br.Peek(16)
	ctype, ok := sniffResult(rk, head)
	if !ok {
		return nil, fmt.Errorf("download %s: the upstream sent something else (%q…)", rk.what, head)
	}
	h := sha256.New()
	key := resultKey(t.ID, rk.name)
	n, err := m.c.Blobs.Put(ctx, key, io.TeeReader(br, h))
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", rk.what, redact(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, fmt.Errorf("download %s: got %d of %d bytes", rk.what, n, resp.ContentLength)
	}
	name := rk.name
	if ctype == "video/quicktime" {
		name = "video.mov" // output_format mov; the blob key stays the same
	}
	f := &task.File{
		ID: FileID(t.ID, rk.what), Kind: rk.kind, Purpose: "output", Name: name,
		ContentType: ctype, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		Width: res.Width, Height: res.Height, BlobKey: key, TaskID: t.ID,
		CreatedAt: m.c.Now().UTC().Truncate(time.Millisecond),
	}
	if rk.kind == "video" {
		f.Duration = res.Duration
	}
	return f, nil
}

// Thumbnail makes a still of t's mirrored video and stores it as a file
// (not yet recorded: the caller records it and sets Result.ThumbnailFileID).
// The scheduler calls it after it recorded the success, so that clients get
// the video without waiting for ffmpeg.
func (m *Mirror) Thumbnail(ctx context.Context, t *task.Task) (*task.File, error) {
	obj, err := m.c.Blobs.Open(ctx, resultKey(t.ID, resultVideo.name))
	if err != nil {
		return nil, fmt.Errorf("thumbnail: open video: %w", err)
	}
	defer obj.Close()
	local, err := os.CreateTemp(m.c.WorkDir, "seedgate-still-*.mp4")
	if err != nil {
		return nil, fmt.Errorf("thumbnail: %w", err)
	}
	defer os.Remove(local.Name())
	_, err = io.Copy(local, obj)
	if cerr := local.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnail: %w", err)
	}
	img, err := media.Still(ctx, m.c.FFmpegPath, local.Name())
	if err != nil {
		return nil, err
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("thumbnail: %w", err)
	}
	key := resultKey(t.ID, "thumbnail.jpg")
	n, err := m.c.Blobs.Put(ctx, key, bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("store thumbnail: %w", err)
	}
	sum := sha256.Sum256(img)
	return &task.File{
		ID: FileID(t.ID, "thumbnail"), Kind: "image", Purpose: "output", Name: "thumbnail.jpg",
		ContentType: "image/jpeg", Size: n, SHA256: hex.EncodeToString(sum[:]),
		Width: cfg.Width, Height: cfg.Height, BlobKey: key, TaskID: t.ID,
		CreatedAt: m.c.Now().UTC().Truncate(time.Millisecond),
	}, nil
}

func resultKey(taskID, name string) string { return "results/" + taskID + "/" + name }

// sniffResult checks a result's first bytes: an MP4/MOV for the video, a PNG
// (or JPEG) for the last frame.
func sniffResult(rk resultKind, head []byte) (string, bool) {
	switch rk.kind {
	case "video":
		if len(head) >= 12 && string(head[4:8]) == "ftyp" {
			if string(head[8:10]) == "qt" {
				return "video/quicktime", true
			}
			return "video/mp4", true
		}
	case "image":
		switch {
		case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
			return "image/png", true
		case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
			return "image/jpeg", true
		}
	}
	return "", false
}

// redact drops the URL from a transport error: result URLs carry signatures.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

var fileIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// FileID is the stable file id of a task's result file (video, last_frame,
// thumbnail), so a repeated copy records the same file.
func FileID(taskID, what string) string {
	sum := sha256.Sum256([]byte("seedgate-result:" + taskID + ":" + what))
	return "file-" + fileIDEncoding.EncodeToString(sum[:])[:24]
}
