package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// Blob keys of a task's results.
func resultKey(taskID, name string) string { return "results/" + taskID + "/" + name }
func lastFrameKey(taskID string) string    { return resultKey(taskID, lastFrameFile) }
func thumbnailKey(taskID string) string    { return resultKey(taskID, thumbnailFile) }

// videoName is the stored name of a result video: video.mov or video.mp4.
func videoName(name string) string {
	if name == movFile {
		return movFile
	}
	return videoFile
}

// manifestKey holds the finished Update, written after the files: a Check
// after a successful render (a retry, a restarted gateway) returns it instead
// of rendering again.
func manifestKey(taskID string) string { return "results/" + taskID + "/sandbox.json" }

type manifest struct {
	Result    *task.Result `json:"result"`
	Usage     *task.Usage  `json:"usage"`
	Video     *task.File   `json:"video"`
	LastFrame *task.File   `json:"last_frame,omitempty"`
	Thumbnail *task.File   `json:"thumbnail,omitempty"`
}

// result returns the succeeded Update, rendering first unless a previous
// Check already did.
func (p *Provider) result(ctx context.Context, t *task.Task) (provider.Update, error) {
	if m, err := p.loadManifest(ctx, t.ID); err != nil {
		return provider.Update{}, provider.Transient(err, 0)
	} else if m != nil {
		return m.update(), nil
	}

	release, busy, err := p.renders.acquire(ctx, t.Tenant)
	switch {
	case err != nil:
		return provider.Update{}, err
	case busy: // another render of this tenant waits already: take turns
		return provider.Update{Status: task.StatusRunning, Progress: 99, NextCheck: busyRetry}, nil
	}
	defer release()

	limit := p.renderTimeout(t)
	rctx, cancel := context.WithTimeoutCause(ctx, limit, &renderTimeoutError{limit})
	defer cancel()
	u, err := p.render(rctx, t)
	var over *renderTimeoutError
	if err != nil && ctx.Err() == nil && (errors.As(err, &over) || errors.As(context.Cause(rctx), &over)) {
		p.log.WarnContext(ctx, "render stopped: over its time limit", "task", t.ID, "limit", over.limit)
		return failed(upstreamError("RenderTimeout", "", fmt.Sprintf(
			"The sandbox render took longer than its limit of %s and was stopped (SEEDGATE_SANDBOX_RENDER_TIMEOUT).", over.limit))), nil
	}
	return u, err
}

// busyRetry is when a render that could not queue (its tenant has one
// waiting) asks to be checked again.
const busyRetry = time.Second

// renderTimeoutError is the cause of a render's context ending at its time limit.
type renderTimeoutError struct{ limit time.Duration }

func (e *renderTimeoutError) Error() string {
	return fmt.Sprintf("sandbox: render time limit of %s reached", e.limit)
}

// renderTimeout is the wall-time cap of t's render: RenderTimeout for up to
// 5 s at 720p, in proportion to the pixels and frames above that. An edit or
// extend counts the longest source besides (its own length is known once
// fetched, and its ffmpeg run then gets a cap of its own, timeoutFor).
func (p *Provider) renderTimeout(t *task.Task) time.Duration {
	m, _, ok := task.LookupModel(t.Model)
	if !ok {
		return p.cfg.RenderTimeout
	}
	r := &t.Request
	if r.DraftTaskID != "" { // a final renders the draft's length at its own size
		r = &task.Request{Resolution: r.Resolution, Ratio: r.Ratio, Duration: task.Int(m.Durations.Max)}
	}
	w, h, frames, _, err := m.Output(r, 0, 0) // an adaptive ratio's size is close enough
	if err != nil {
		return p.cfg.RenderTimeout
	}
	if videoTaskMode(&t.Request) != "" || t.Request.DraftTaskID != "" {
		frames += maxSourceSeconds * fps
	}
	return p.timeoutFor(w, h, frames)
}

// timeoutFor is the wall-time cap of a render of w×h pixels and frames.
func (p *Provider) timeoutFor(w, h, frames int) time.Duration {
	const base = 1280 * 720 * 5 * fps
	scale := max(float64(w)*float64(h)*float64(frames)/base, 1)
	return time.Duration(float64(p.cfg.RenderTimeout) * scale)
}

func (p *Provider) loadManifest(ctx context.Context, taskID string) (*manifest, error) {
	obj, err := p.blobs.Open(ctx, manifestKey(taskID))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: open manifest: %w", err)
	}
	defer obj.Close()
	var m manifest
	if err := json.NewDecoder(obj).Decode(&m); err != nil || m.Video == nil || m.Result == nil {
		return nil, nil // unreadable: render again, which rewrites it
	}
	// BlobKey is not serialized (it never leaves the gateway); the keys are fixed.
	m.Video.BlobKey = resultKey(taskID, videoName(m.Video.Name))
	if m.LastFrame != nil {
		m.LastFrame.BlobKey = lastFrameKey(taskID)
	}
	if m.Thumbnail != nil {
		m.Thumbnail.BlobKey = thumbnailKey(taskID)
	}
	return &m, nil
}

func (m *manifest) update() provider.Update {
	return provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: m.Result, Usage: m.Usage,
		Video: m.Video, LastFrame: m.LastFrame, Thumbnail: m.Thumbnail}
}

func (p *Provider) render(ctx context.Context, t *task.Task) (provider.Update, error) {
	started := p.cfg.Clock()
	model, _, ok := task.LookupModel(t.Model)
	if !ok {
		return failed(upstreamError("InvalidEndpointOrModel.NotFound", "model",
			fmt.Sprintf("The model or endpoint %s does not exist or you do not have access to it.", t.Model))), nil
	}
	r := &t.Request
	seed := resolveSeed(r.Seed, t.ID)
	if r.DraftTaskID != "" {
		final, draftSeed, failure, err := p.fromDraft(ctx, t)
		if failure != nil || err != nil {
			return failure.orErr(err)
		}
		r, seed = final, draftSeed
	}

	dir, err := os.MkdirTemp(p.cfg.WorkDir, renderDirPattern)
	if err != nil {
		return provider.Update{}, provider.Transient(fmt.Errorf("sandbox: work dir: %w", err), 0)
	}
	defer os.RemoveAll(dir)

	mode := task.InputModeOf(r)
	sc := scene{mode: task.ModeText}
	var firstW, firstH int
	switch vm := videoTaskMode(r); {
	case vm != "":
		src, failure, err := p.fetchSource(ctx, dir, r.ReferenceVideos[0])
		if failure != nil || err != nil {
			return failure.orErr(err)
		}
		sc.mode, sc.source, firstW, firstH = vm, src, src.w, src.h // adaptive follows the source's shape
	case mode == task.ModeFirstFrame || mode == task.ModeFirstLast:
		sc.mode = mode
		firstURL := r.FirstFrame
		if firstURL == "" {
			firstURL = r.LastFrame // a lone image is the first frame, whatever its role
		}
		info, failure, err := p.fetchImage(ctx, dir, firstImageBase, "first_frame", firstURL)
		if failure != nil || err != nil {
			return failure.orErr(err)
		}
		sc.firstImage, firstW, firstH = firstImageBase+info.Ext(), info.Width, info.Height
		if mode == task.ModeFirstLast {
			info, failure, err := p.fetchImage(ctx, dir, lastImageBase, "last_frame", r.LastFrame)
			if failure != nil || err != nil {
				return failure.orErr(err)
			}
			sc.lastImage = lastImageBase + info.Ext()
		}
	}
	if len(r.ReferenceAudio) > 0 {
		sound, failure, err := p.fetchSoundtrack(ctx, dir, r.ReferenceAudio[0])
		if failure != nil || err != nil {
			return failure.orErr(err)
		}
		sc.sound = sound
	}

	w, h, frames, ratio, err := model.Output(r, firstW, firstH)
	if err != nil {
		te := task.AsError(err)
		return failed(upstreamError("InvalidParameter", te.Field, te.Message)), nil
	}
	switch sc.mode {
	case task.ModeEdit: // as long as the source
		frames = sc.source.frames
	case task.ModeExtend: // the source, then the requested seconds (24 frames each)
		frames = sc.source.frames + frames - 1
	}
	draft := model.Features.Draft && task.Or(r.Draft, false)
	sc.w, sc.h, sc.frames = w, h, frames
	sc.seed = seed
	// Ark's default for generate_audio is true, on the models that have audio.
	sc.audio = model.Features.Audio && task.Or(r.GenerateAudio, true)
	sc.watermark = task.Or(r.Watermark, false)
	sc.lastFrame = task.Or(r.ReturnLastFrame, false) && !draft
	sc.cameraFixed = task.Or(r.CameraFixed, false)
	sc.mov = strings.EqualFold(r.OutputFormat, "mov")
	sc.fonts = p.fonts
	if sc.mode == task.ModeText || sc.mode == task.ModeEdit {
		sc.prompt = wrapPrompt(r.Prompt, w, h)
		if err := os.WriteFile(filepath.Join(dir, promptFile), []byte(sc.prompt), 0o600); err != nil {
			return provider.Update{}, provider.Transient(fmt.Errorf("sandbox: write prompt: %w", err), 0)
		}
	}

	// The time limit follows what is rendered (an extend's length is known
	// only now); the caller's limit, made generous for these, still applies.
	limit := p.timeoutFor(w, h, frames)
	fctx, cancel := context.WithTimeoutCause(ctx, limit, &renderTimeoutError{limit})
	defer cancel()
	if err := p.ffmpeg(fctx, dir, sc.args()); err != nil {
		return provider.Update{}, err
	}

	now := p.cfg.Clock().UTC()
	duration := float64(frames) / fps
	name, _ := sc.output()
	ctype := "video/mp4"
	if sc.mov {
		ctype = "video/quicktime"
	}
	video, err := p.store(ctx, dir, name, &task.File{
		ID: "file_" + t.ID + "_video", Tenant: t.Tenant, Kind: "video", Purpose: "output", Name: name,
		ContentType: ctype, Width: w, Height: h, Duration: duration,
		BlobKey: resultKey(t.ID, name), TaskID: t.ID, CreatedAt: now,
	})
	if err != nil {
		return provider.Update{}, err
	}
	m := &manifest{Video: video}
	if sc.lastFrame {
		m.LastFrame, err = p.store(ctx, dir, lastFrameFile, &task.File{
			ID: "file_" + t.ID + "_last_frame", Tenant: t.Tenant, Kind: "image", Purpose: "output", Name: lastFrameFile,
			ContentType: "image/png", Width: w, Height: h,
			BlobKey: lastFrameKey(t.ID), TaskID: t.ID, CreatedAt: now,
		})
		if err != nil {
			return provider.Update{}, err
		}
	}

	m.Thumbnail, err = p.store(ctx, dir, thumbnailFile, &task.File{
		ID: "file_" + t.ID + "_thumbnail", Tenant: t.Tenant, Kind: "image", Purpose: "output", Name: thumbnailFile,
		ContentType: "image/jpeg", Width: w, Height: h,
		BlobKey: thumbnailKey(t.ID), TaskID: t.ID, CreatedAt: now,
	})
	if err != nil {
		return provider.Update{}, err
	}

	billed := *r
	if sc.source != nil {
		// An edit or extend bills its source as measured (the catalog's
		// estimate, at create, did not know it).
		billed.InputVideoSeconds = model.InputVideoSeconds([]float64{sc.source.seconds()})
	}
	tokens := model.UsageTokens(&billed, w, h, frames)
	m.Usage = &task.Usage{CompletionTokens: tokens, TotalTokens: tokens}
	m.Result = &task.Result{
		VideoFileID: video.ID,
		Width:       w, Height: h, Duration: duration, FPS: fps, HasAudio: sc.hasAudio(),
		Seed: sc.seed, Ratio: ratio, Resolution: outputResolution(model, r),
	}
	if m.LastFrame != nil {
		m.Result.LastFrameFileID = m.LastFrame.ID
	}
	m.Result.ThumbnailFileID = m.Thumbnail.ID
	if err := p.saveManifest(ctx, t.ID, m); err != nil {
		return provider.Update{}, err
	}
	p.log.InfoContext(ctx, "rendered", "task", t.ID, "mode", sc.mode, "size", fmt.Sprintf("%dx%d", w, h),
		"frames", frames, "audio", sc.hasAudio(), "took", p.cfg.Clock().Sub(started).Round(time.Millisecond))
	return m.update(), nil
}

// outputResolution is the resolution the video was rendered at (the catalog's
// Output applies the same rules to find the pixel size).
func outputResolution(m *task.Model, r *task.Request) string {
	switch {
	case m.Features.Draft && task.Or(r.Draft, false):
		return task.Res480p
	case r.Resolution != "":
		return strings.ToLower(r.Resolution)
	}
	return m.DefaultResolution
}

// imageFailure is an input image the task cannot be rendered from.
type imageFailure struct{ err *task.Error }

// orErr turns a fetchImage outcome into Check's return values.
func (f *imageFailure) orErr(err error) (provider.Update, error) {
	if f != nil {
		return failed(f.err), nil
	}
	return provider.Update{}, err
}

// fetchImage reads and fully decodes an input image and writes it to dir as
// base+ext for ffmpeg: PNG and JPEG as they came, other formats as PNG (ffmpeg
// then never meets a variant Go accepted but it does not). A bad image is an
// imageFailure; anything else (storage trouble) an error worth retrying.
func (p *Provider) fetchImage(ctx context.Context, dir, base, field, url string) (media.ImageInfo, *imageFailure, error) {
	data, err := p.resolver.ReadAll(ctx, url)
	if err != nil {
		var te *task.Error
		if errors.As(err, &te) {
			return media.ImageInfo{}, &imageFailure{upstreamError("InvalidParameter", field, field+": "+te.Message)}, nil
		}
		if ctx.Err() != nil {
			return media.ImageInfo{}, nil, ctx.Err()
		}
		return media.ImageInfo{}, nil, provider.Transient(fmt.Errorf("sandbox: read %s: %w", field, err), 0)
	}
	img, info, err := media.DecodeImage(data)
	if err != nil {
		return media.ImageInfo{}, &imageFailure{upstreamError("InvalidImageURL.InvalidFormat", field,
			field+": "+task.AsError(err).Message)}, nil
	}
	switch info.Format {
	case "png", "jpeg":
	default:
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, img); err != nil {
			return media.ImageInfo{}, nil, fmt.Errorf("sandbox: re-encode %s: %w", field, err)
		}
		data, info.Format = buf.Bytes(), "png"
	}
	if err := os.WriteFile(filepath.Join(dir, base+info.Ext()), data, 0o600); err != nil {
		return media.ImageInfo{}, nil, provider.Transient(fmt.Errorf("sandbox: write %s: %w", field, err), 0)
	}
	return info, nil, nil
}

func failed(err *task.Error) provider.Update {
	return provider.Update{Status: task.StatusFailed, Error: err}
}

// ffmpeg runs one render. A failure is transient: the inputs were checked,
// so it is the renderer's fault (killed, out of disk) and worth another try.
func (p *Provider) ffmpeg(ctx context.Context, dir string, args []string) error {
	cmd := exec.CommandContext(ctx, p.cfg.FFmpegPath, args...)
	cmd.Dir = dir
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx) // a *renderTimeoutError when over the limit
		}
		return provider.Transient(fmt.Errorf("sandbox: ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String())), 0)
	}
	return nil
}

// store puts dir/name into blob storage under f.BlobKey, filling Size and SHA256.
func (p *Provider) store(ctx context.Context, dir, name string, f *task.File) (*task.File, error) {
	file, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, provider.Transient(fmt.Errorf("sandbox: %s missing after render: %w", name, err), 0)
	}
	defer file.Close()
	h := sha256.New()
	n, err := p.blobs.Put(ctx, f.BlobKey, io.TeeReader(file, h))
	if err != nil {
		return nil, provider.Transient(fmt.Errorf("sandbox: store %s: %w", name, err), 0)
	}
	f.Size, f.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return f, nil
}

func (p *Provider) saveManifest(ctx context.Context, taskID string, m *manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("sandbox: encode manifest: %w", err)
	}
	if _, err := p.blobs.Put(ctx, manifestKey(taskID), bytes.NewReader(data)); err != nil {
		return provider.Transient(fmt.Errorf("sandbox: store manifest: %w", err), 0)
	}
	return nil
}

// tailBuffer keeps the last few KB written to it: enough of ffmpeg's stderr
// to explain a failure.
type tailBuffer struct{ buf []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const max = 4 << 10
	t.buf = append(t.buf, p...)
	if len(t.buf) > max {
		t.buf = t.buf[len(t.buf)-max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
