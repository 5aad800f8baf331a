package ark

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/media"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// marker is what lets a create whose answer was lost be found again in the
// upstream's task list (see Reconcile). Exactly one of the three applies,
// derived from the task alone, so any instance computes the same marker:
//   - safety_identifier "sg-<task id>", when the client set none (the usual case);
//   - otherwise a seed derived from the task id, when the client's seed is random
//     (-1): a random seed the gateway picked is still a random seed;
//   - otherwise nothing: the task is matched by its echoed parameters.
type marker struct {
	safety string
	seed   *int64
}

func markerOf(t *task.Task) marker {
	switch {
	case t.Request.SafetyIdentifier == "":
		id := t.ID
		if len(id) > 61 {
			sum := sha256.Sum256([]byte(id))
			id = base64.RawURLEncoding.EncodeToString(sum[:24])
		}
		return marker{safety: "sg-" + id}
	case task.Or(t.Request.Seed, -1) < 0:
		sum := sha256.Sum256([]byte("seedgate-seed:" + t.ID))
		seed := int64(binary.BigEndian.Uint32(sum[:4]) & math.MaxInt32)
		return marker{seed: &seed}
	}
	return marker{}
}

// content builds the create body's content items, turning gateway file URLs
// into what the upstream can read (see inputURL). Errors are *task.Error naming
// the field: the task cannot be sent as it is.
func (p *Provider) content(ctx context.Context, r *task.Request, draftUpstreamID string) ([]contentItem, error) {
	var items []contentItem
	if r.Prompt != "" {
		items = append(items, contentItem{Type: "text", Text: r.Prompt})
	}
	image := func(field, u, role string) error {
		v, err := p.inputURL(ctx, field, "image", u)
		if err != nil {
			return err
		}
		items = append(items, contentItem{Type: "image_url", ImageURL: &urlRef{URL: v}, Role: role})
		return nil
	}
	if r.FirstFrame != "" {
		if err := image("first_frame", r.FirstFrame, "first_frame"); err != nil {
			return nil, err
		}
	}
	if r.LastFrame != "" {
		if err := image("last_frame", r.LastFrame, "last_frame"); err != nil {
			return nil, err
		}
	}
	for i, u := range r.ReferenceImages {
		if err := image(fmt.Sprintf("reference_images[%d]", i), u, "reference_image"); err != nil {
			return nil, err
		}
	}
	for i, u := range r.ReferenceVideos {
		v, err := p.inputURL(ctx, fmt.Sprintf("reference_videos[%d]", i), "video", u)
		if err != nil {
			return nil, err
		}
		items = append(items, contentItem{Type: "video_url", VideoURL: &urlRef{URL: v}, Role: "reference_video"})
	}
	for i, u := range r.ReferenceAudio {
		v, err := p.inputURL(ctx, fmt.Sprintf("reference_audio[%d]", i), "audio", u)
		if err != nil {
			return nil, err
		}
		items = append(items, contentItem{Type: "audio_url", AudioURL: &urlRef{URL: v}, Role: "reference_audio"})
	}
	if r.DraftTaskID != "" {
		id := r.DraftTaskID
		if draftUpstreamID != "" {
			id = draftUpstreamID
		}
		items = append(items, contentItem{Type: "draft_task", DraftTask: &draftTask{ID: id}})
	}
	return items, nil
}

// inputURL returns what to send for one input URL. Anything but a gateway
// file URL goes as given (the upstream fetches http(s) itself). A gateway file
// goes as its signed gateway URL when SEEDGATE_PUBLIC_URL is reachable from
// the internet; otherwise images and audio go inline as base64 data URLs, and
// videos cannot go at all (Ark takes reference videos by URL only).
func (p *Provider) inputURL(ctx context.Context, field, kind, u string) (string, error) {
	if kind == "video" {
		if err := p.videoProblem(field, u); err != nil {
			return "", err
		}
	}
	if p.cfg.Media == nil {
		return u, nil
	}
	id, ok := p.cfg.Media.FileID(u)
	if !ok {
		return u, nil
	}
	if p.publicInputs {
		return p.cfg.FileURL(id), nil
	}
	data, err := p.cfg.Media.ReadAll(ctx, u)
	if err != nil {
		if te := task.AsError(err); te.Code != task.CodeInternal {
			c := *te
			c.Field = field
			return "", &c
		}
		if errors.Is(err, store.ErrNotFound) {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s names a file the gateway no longer has", field)
		}
		return "", err // storage trouble: worth retrying
	}
	ctype := ""
	switch kind {
	case "image":
		info, err := media.DecodeImageInfo(data)
		if err != nil {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s: %v", field, err)
		}
		ctype = info.ContentType()
	case "audio":
		ctype = audioType(data)
		if ctype == "" {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s is neither WAV nor MP3", field)
		}
	}
	return "data:" + ctype + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

func audioType(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return "audio/wav"
	case len(b) >= 3 && (string(b[:3]) == "ID3" || (b[0] == 0xFF && b[1]&0xE0 == 0xE0)):
		return "audio/mpeg"
	}
	return ""
}

// createBody builds the body for one channel: every field of the normalized
// request that is set (Normalize cleared what the model does not take), the
// marker, the callback, and the remaining execution window.
func (p *Provider) createBody(t *task.Task, upstreamModel string, content []contentItem, now time.Time) ([]byte, error) {
	r := &t.Request
	b := createBody{
		Model:           upstreamModel,
		Content:         content,
		ReturnLastFrame: r.ReturnLastFrame,
		GenerateAudio:   r.GenerateAudio,
		Draft:           r.Draft,
		Resolution:      r.Resolution,
		Ratio:           r.Ratio,
		Duration:        r.Duration,
		Frames:          r.Frames,
		Seed:            r.Seed,
		CameraFixed:     r.CameraFixed,
		Watermark:       r.Watermark,
		Priority:        r.Priority,
	}
	if r.ServiceTier != "" && r.ServiceTier != task.TierDefault {
		b.ServiceTier = r.ServiceTier // "default" is the upstream's default, and 2.x refuses the field
	}
	if r.WebSearch {
		b.Tools = []tool{{Type: "web_search"}}
	}
	b.SafetyIdentifier = r.SafetyIdentifier
	mk := markerOf(t)
	if mk.safety != "" {
		b.SafetyIdentifier = mk.safety
	}
	if mk.seed != nil {
		b.Seed = mk.seed
	}
	eea := executionWindow(t, now)
	b.ExecutionExpiresAfter = &eea
	if p.callbacks() {
		b.CallbackURL = p.callbackURL(t.ID)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode create body: %w", err)
	}
	if len(data) > arkproto.MaxBody {
		return nil, task.Errorf(task.CodeInvalidParameter, "content",
			"the request is %d MB with its images inline, more than the upstream's 64 MB: use fewer or smaller images, or set SEEDGATE_PUBLIC_URL to a public address so images go by URL",
			len(data)>>20)
	}
	return data, nil
}

// executionWindow is execution_expires_after for a create now: the client's
// window counted from the gateway's created time (as Ark counts from its own),
// but never below the upstream's minimum.
func executionWindow(t *task.Task, now time.Time) int {
	want := t.Request.ExpiresAfter()
	left := int(math.Ceil(t.ExpiresAt.Sub(now).Seconds()))
	if t.ExpiresAt.IsZero() {
		left = want
	}
	return min(max(min(left, want), task.MinExecutionExpiresAfter), task.MaxExecutionExpiresAfter)
}

// publicReachable reports whether a URL's host can be reached from the
// internet: not localhost, not a private, loopback or link-local address,
// not a single-label or .local/.internal/.lan name. Names are not resolved.
func publicReachable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
	}
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return false
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid"} {
		if strings.HasSuffix(host, suffix) {
			return false
		}
	}
	return host != "localhost"
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Validate implements provider.Validator: refuse at create what could never
// be sent upstream (videos Ark cannot fetch), so the client gets a 400 now
// rather than a failed task later. Images and audio always find a way.
func (p *Provider) Validate(_ context.Context, r *task.Request) error {
	for i, u := range r.ReferenceVideos {
		if err := p.videoProblem(fmt.Sprintf("reference_videos[%d]", i), u); err != nil {
			return err
		}
	}
	return nil
}

// videoProblem says why a reference video cannot go upstream, if it cannot.
func (p *Provider) videoProblem(field, u string) error {
	if media.IsDataURL(u) {
		return task.Errorf(task.CodeInvalidParameter, field,
			"%s is a data: URL, but Ark takes reference videos by URL only: upload the video and pass its URL", field)
	}
	if p.cfg.Media == nil || p.publicInputs {
		return nil
	}
	if _, ok := p.cfg.Media.FileID(u); ok {
		return task.Errorf(task.CodeInvalidParameter, field,
			"%s is a file stored in the gateway, but SEEDGATE_PUBLIC_URL (%s) is not reachable from the internet and Ark takes reference videos by URL only: "+
				"set SEEDGATE_PUBLIC_URL to a public address of the gateway, or pass a public video URL", field, p.cfg.PublicURL)
	}
	return nil
}
