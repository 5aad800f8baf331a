// Package sandbox is the built-in provider that renders real MP4s locally with
// ffmpeg: free, offline and deterministic, for tests and demos.
//
// A sandbox task keeps no state of its own: its status is derived from the
// time elapsed since the task was dispatched (t.DispatchedAt), so it survives
// crashes and restarts of the gateway.
//
//	elapsed < QueueDelay             queued   (cancellable)
//	elapsed < QueueDelay + RunTime   running  (progress from elapsed time; not cancellable)
//	later                            rendered once, then succeeded
//
// Renders take turns: Config.MaxRenders at a time, shared fairly between
// tenants (slots.go), each killed past its wall-time cap (Config.RenderTimeout)
// or when the scheduler ends the check (the task expired or was deleted).
//
// What it renders, at the exact pixel size, frame count (24 fps) and ratio the
// model catalog gives for the request:
//   - first and last frame: a transition from one to the other;
//   - a lone first frame: a slow zoom and pan over it (a gentle breathing of the
//     light with camera_fixed);
//   - a reference video with omni_reference_task_type edit: the video, as long
//     as it is, graded in colours chosen from the seed, the prompt drawn on it;
//   - a reference video with omni_reference_task_type extend: the video, then
//     its last frame slowly zooming and drifting for the requested seconds;
//   - otherwise (text, reference inputs): an animated gradient with moving
//     discs, colours and places chosen from the seed (the same at every size),
//     and the prompt drawn on it;
//   - the final of a draft (draft_task_id): the draft's request rendered again
//     with the draft's seed, at the final's resolution (draft.go).
//
// The first reference audio clip becomes the sound track, cut or padded with
// silence to the video's length. Otherwise, on models with sound,
// generate_audio keeps an edited or extended video's own sound, or adds a mono
// AAC chord chosen from the seed. output_format mov writes a QuickTime file
// (video.mov, video/quicktime) instead of an MP4. watermark draws
// "AI生成" bottom-right ("AI Generated" without a CJK font); return_last_frame
// stores the last frame as PNG (without the watermark). Seed -1 resolves from
// the task id. The same request and seed give byte-identical files.
//
// Failures on demand, for testing clients: a prompt containing
//
//	[sandbox:fail=<UpstreamCode>]
//
// (for example OutputVideoSensitiveContentDetected or InternalServiceError)
// makes the task fail at the end of its run with that upstream code and an
// Ark-like message. Adding [sandbox:fail-at=queued] or [sandbox:fail-at=running]
// makes it fail at that stage instead (with InternalServiceError when no code
// is given). The markers stay in the prompt and are drawn like any text.
package sandbox

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// Name is the provider name stored on the tasks it owns.
const Name = "sandbox"

// Config tunes the sandbox. Zero values mean the defaults.
type Config struct {
	// QueueDelay is how long a task stays queued (default 1 s; negative: none).
	QueueDelay time.Duration
	// RunTime is how long it runs before rendering (default 3 s; negative: none).
	RunTime time.Duration
	// FFmpegPath is the ffmpeg binary (default "ffmpeg" from PATH), and
	// FFprobePath ffprobe (default "ffprobe"), which reads reference videos.
	FFmpegPath  string
	FFprobePath string
	// Tasks looks a task up by id (store.ErrNotFound when there is none): a
	// final reads its draft's request and seed. Without it, finals fail.
	Tasks func(ctx context.Context, id string) (*task.Task, error)
	// WorkDir holds temporary render directories (default os.TempDir()).
	WorkDir string
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// FontFile draws the prompt, and CJKFontFile the prompt and the "AI生成"
	// watermark when set; both are found among the usual Debian font paths
	// when empty.
	FontFile    string
	CJKFontFile string
	// MaxRenders bounds concurrent ffmpeg runs (default 2). The slots are
	// shared fairly between tenants.
	MaxRenders int
	// RenderTimeout caps the wall time of a render of up to 5 s at 720p
	// (default 2 min); bigger renders get proportionally more. A render past
	// its cap is killed and its task fails with RenderTimeout.
	RenderTimeout time.Duration
}

// Provider is the sandbox provider. It is safe for concurrent use.
type Provider struct {
	cfg      Config
	blobs    blob.Store
	resolver *media.Resolver
	log      *slog.Logger
	fonts    fonts
	renders  *slots
	// workLock is held (shared) while the process lives: it tells a starting
	// sandbox whether render directories in WorkDir may belong to a live one.
	workLock *os.File
}

var _ provider.Provider = (*Provider)(nil)

// New returns a sandbox provider that stores results in blobs and reads input
// images through resolver (nil: data: and public http(s) URLs only).
func New(cfg Config, blobs blob.Store, resolver *media.Resolver, logger *slog.Logger) *Provider {
	cfg.QueueDelay = durationOr(cfg.QueueDelay, time.Second)
	cfg.RunTime = durationOr(cfg.RunTime, 3*time.Second)
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.FFprobePath == "" {
		cfg.FFprobePath = "ffprobe"
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = os.TempDir()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxRenders <= 0 {
		cfg.MaxRenders = 2
	}
	if cfg.RenderTimeout <= 0 {
		cfg.RenderTimeout = DefaultRenderTimeout
	}
	if resolver == nil {
		resolver, _ = media.NewResolver(media.ResolverConfig{}) // cannot fail without a public URL
	}
	logger = baseservice.Logger(logger)
	p := &Provider{
		cfg:      cfg,
		blobs:    blobs,
		resolver: resolver,
		log:      logger.With("provider", Name),
		fonts:    findFonts(cfg.FontFile, cfg.CJKFontFile),
		renders:  newSlots(cfg.MaxRenders),
	}
	p.workLock = p.claimWorkDir()
	return p
}

// DefaultRenderTimeout is Config.RenderTimeout's default.
const DefaultRenderTimeout = 2 * time.Minute

func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Submit returns the sandbox id of the task. It has no side effects, so a
// repeated Submit (after an uncertain create) is harmless.
func (p *Provider) Submit(_ context.Context, t *task.Task) (string, error) {
	if _, _, ok := task.LookupModel(t.Model); !ok {
		return "", upstreamError("InvalidEndpointOrModel.NotFound", "model",
			fmt.Sprintf("The model or endpoint %s does not exist or you do not have access to it.", t.Model))
	}
	return UpstreamID(t.ID), nil
}

// UpstreamID is the sandbox's id for a task.
func UpstreamID(taskID string) string { return "sandbox-" + taskID }

// phase is where a task is in its simulated life.
type phase int

const (
	phaseQueued phase = iota
	phaseRunning
	phaseDone
)

// phaseOf derives the phase from the time since dispatch (CreatedAt for a
// task that somehow lacks it).
func (p *Provider) phaseOf(t *task.Task) (phase, time.Duration) {
	start := t.CreatedAt
	if t.DispatchedAt != nil {
		start = *t.DispatchedAt
	}
	elapsed := p.cfg.Clock().Sub(start)
	switch {
	case elapsed < p.cfg.QueueDelay:
		return phaseQueued, elapsed
	case elapsed < p.cfg.QueueDelay+p.cfg.RunTime:
		return phaseRunning, elapsed
	}
	return phaseDone, elapsed
}

// Check implements provider.Provider: queued, then running, then it renders
// (once: later checks return the stored result) and reports success.
func (p *Provider) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	fail := parseFailMarker(t.Request.Prompt)
	ph, elapsed := p.phaseOf(t)
	if fail != nil && fail.at <= ph {
		return provider.Update{Status: task.StatusFailed, Error: fail.error(t.ID)}, nil
	}
	switch ph {
	case phaseQueued:
		return provider.Update{Status: task.StatusQueued, NextCheck: p.cfg.QueueDelay - elapsed}, nil
	case phaseRunning:
		run := elapsed - p.cfg.QueueDelay
		progress := min(max(int(100*run/p.cfg.RunTime), 1), 99)
		return provider.Update{
			Status:    task.StatusRunning,
			Progress:  progress,
			NextCheck: min(p.cfg.RunTime-run, time.Second),
		}, nil
	}
	return p.result(ctx, t)
}

// Cancel implements provider.Provider: like Ark, only queued tasks can be cancelled.
func (p *Provider) Cancel(_ context.Context, t *task.Task) error {
	switch ph, _ := p.phaseOf(t); ph {
	case phaseQueued:
		return nil
	case phaseRunning:
		return task.Errorf(task.CodeConflict, "", "running tasks cannot be cancelled")
	}
	return task.Errorf(task.CodeConflict, "", "the task has already finished")
}

// failMarker is a parsed [sandbox:fail=…] / [sandbox:fail-at=…] request.
type failMarker struct {
	code string
	at   phase
}

var (
	failCodeRe = regexp.MustCompile(`\[sandbox:fail=([A-Za-z0-9._]{1,100})\]`)
	failAtRe   = regexp.MustCompile(`\[sandbox:fail-at=(queued|running)\]`)
)

func parseFailMarker(prompt string) *failMarker {
	code := failCodeRe.FindStringSubmatch(prompt)
	at := failAtRe.FindStringSubmatch(prompt)
	if code == nil && at == nil {
		return nil
	}
	m := &failMarker{code: "InternalServiceError", at: phaseDone}
	if code != nil {
		m.code = code[1]
	}
	if at != nil {
		m.at = map[string]phase{"queued": phaseQueued, "running": phaseRunning}[at[1]]
	}
	return m
}

// failMessages are the upstream's wording for the codes clients most often test.
var failMessages = map[string]string{
	"OutputVideoSensitiveContentDetected":                 "The request failed because the output video may contain sensitive information.",
	"OutputVideoSensitiveContentDetected.PolicyViolation": "The request failed because the output video may violate the content policy.",
	"InputTextSensitiveContentDetected":                   "The request failed because the input text may contain sensitive information.",
	"InputImageSensitiveContentDetected":                  "The request failed because the input image may contain sensitive information.",
	"SensitiveContentDetected":                            "The request failed because the input or output may contain sensitive information.",
	"InternalServiceError":                                "The service encountered an unexpected internal error.",
}

func (m *failMarker) error(taskID string) *task.Error {
	msg, ok := failMessages[m.code]
	if !ok {
		msg = "The task failed with " + m.code + "."
	}
	return upstreamError(m.code, "", msg+" Request id: "+UpstreamID(taskID)+" (failure requested by a sandbox marker)")
}

func upstreamError(code, field, msg string) *task.Error {
	return &task.Error{Code: task.CodeUpstream, UpstreamCode: code, Field: field, Message: msg}
}

// resolveSeed turns seed -1 (or none) into a stable seed derived from the task id,
// within the newer documented range [0, 2147483647].
func resolveSeed(seed *int64, taskID string) int64 {
	if seed != nil && *seed >= 0 {
		return *seed
	}
	h := fnv.New32a()
	h.Write([]byte(taskID))
	return int64(h.Sum32() & 0x7fffffff)
}
