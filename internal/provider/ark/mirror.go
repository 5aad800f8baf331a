package ark

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

// errGone marks a result URL the upstream's storage no longer serves.
var errGone = errors.New("the upstream no longer serves the file")

// maxFrameBytes bounds a mirrored last frame (a 4k PNG is far smaller).
const maxFrameBytes = 64 << 20

// mirror copies a succeeded task's video and last frame into blob storage.
// The files stream through (constant memory), through the SSRF-guarded
// client, and are refused when larger than the limits, shorter than their
// Content-Length, or not what they claim to be. Repeating it is harmless:
// the blob keys and file ids are derived from the task.
func (p *Provider) mirror(ctx context.Context, t *task.Task, up *Task) (video, frame *task.File, err error) {
	select {
	case p.mirrors <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-p.mirrors }()
	res := p.result(t, up)
	if video, err = p.copyResult(ctx, t, up.Content.VideoURL, resultVideo, res); err != nil {
		return nil, nil, err
	}
	if up.Content.LastFrameURL != "" {
		if frame, err = p.copyResult(ctx, t, up.Content.LastFrameURL, resultFrame, res); err != nil {
			return nil, nil, err
		}
	}
	return video, frame, nil
}

type resultKind struct {
	what, name, kind string
	limit            func(p *Provider) int64
}

var (
	resultVideo = resultKind{"video", "video.mp4", "video", func(p *Provider) int64 { return p.cfg.MaxVideoBytes }}
	resultFrame = resultKind{"last_frame", "last_frame.png", "image", func(*Provider) int64 { return maxFrameBytes }}
)

func (p *Provider) copyResult(ctx context.Context, t *task.Task, rawURL string, rk resultKind, res *task.Result) (*task.File, error) {
	limit := rk.limit(p)
	resp, err := safehttp.Get(ctx, p.cfg.Download, rawURL, limit)
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
	key := "results/" + t.ID + "/" + rk.name
	n, err := p.cfg.Blobs.Put(ctx, key, io.TeeReader(br, h))
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", rk.what, redact(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, fmt.Errorf("download %s: got %d of %d bytes", rk.what, n, resp.ContentLength)
	}
	f := &task.File{
		ID: resultFileID(t.ID, rk.what), Kind: rk.kind, Purpose: "output", Name: rk.name,
		ContentType: ctype, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		Width: res.Width, Height: res.Height, BlobKey: key, TaskID: t.ID,
		CreatedAt: p.now().UTC().Truncate(time.Millisecond),
	}
	if rk.kind == "video" {
		f.Duration = res.Duration
	}
	return f, nil
}

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

var fileIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// resultFileID is the stable file id of a task's result, so a repeated mirror
// records the same file.
func resultFileID(taskID, what string) string {
	sum := sha256.Sum256([]byte("seedgate-result:" + taskID + ":" + what))
	return "file-" + fileIDEncoding.EncodeToString(sum[:])[:24]
}
