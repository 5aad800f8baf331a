package arkemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// createBody is the create call's JSON body (docs/upstream-ark.md#create-body).
// Pointers tell "absent" from zero; the generation fields are the protocol's Params.
type createBody struct {
	Model   *string       `json:"model"`
	Content []contentItem `json:"content"`
	arkproto.Params
}

type contentItem struct {
	Type      string  `json:"type"`
	Text      *string `json:"text"`
	ImageURL  *urlRef `json:"image_url"`
	VideoURL  *urlRef `json:"video_url"`
	AudioURL  *urlRef `json:"audio_url"`
	DraftTask *struct {
		ID string `json:"id"`
	} `json:"draft_task"`
	Role *string `json:"role"`
}

type urlRef struct {
	URL string `json:"url"`
}

// badRequest is a create validation failure: HTTP status, Ark code, param, message.
type badRequest struct {
	status int
	code   string
	param  string
	msg    string
}

func (e *badRequest) Error() string { return e.code + ": " + e.msg }

func invalidParam(param, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "InvalidParameter", param: param, msg: fmt.Sprintf(format, args...)}
}

func missingParam(param string) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "MissingParameter", param: param,
		msg: fmt.Sprintf("The request failed because it is missing the `%s` parameter.", param)}
}

// asBadRequest turns a catalog validation error into Ark's shape.
func asBadRequest(err error) *badRequest {
	var br *badRequest
	if errors.As(err, &br) {
		return br
	}
	te := task.AsError(err)
	code := "InvalidParameter"
	if te.Code == task.CodeMissingParameter {
		code = "MissingParameter"
	}
	return &badRequest{status: http.StatusBadRequest, code: code, param: arkParam(te.Field), msg: te.Message}
}

// arkParam maps a task.Request field name to the Ark body parameter it came from.
func arkParam(field string) string {
	switch field {
	case "prompt", "first_frame", "last_frame", "reference_images", "reference_videos",
		"reference_audio", "draft_task_id":
		return "content"
	case "web_search":
		return "tools"
	}
	return field
}

func (s *Server) handleCreate(c *call) reply {
	now := s.opts.Now()
	raw, err := io.ReadAll(io.LimitReader(c.r.Body, arkproto.MaxBody+1))
	if err != nil {
		return errReply(c, http.StatusBadRequest, "InvalidParameter", "", "The request body could not be read.")
	}
	if len(raw) > arkproto.MaxBody {
		return errReply(c, http.StatusBadRequest, "InvalidParameter", "", "The request body exceeds 64 MB.")
	}
	var body createBody
	if err := json.Unmarshal(raw, &body); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := strings.ReplaceAll(te.Field, "Params.", "") // encoding/json names the embedded struct
			return errReply(c, http.StatusBadRequest, "InvalidParameter", field,
				fmt.Sprintf("The parameter `%s` specified in the request has the wrong type (want %s).", field, te.Type))
		}
		return errReply(c, http.StatusBadRequest, "InvalidParameter", "", "The request body is not valid JSON.")
	}
	if body.Model == nil || strings.TrimSpace(*body.Model) == "" {
		br := missingParam("model")
		return errReply(c, br.status, br.code, br.param, br.msg)
	}

	modelName, endpoint := *body.Model, ""
	if strings.HasPrefix(modelName, "ep-") {
		endpoint = modelName
		modelName = s.opts.Endpoints[endpoint]
	}
	m, ok := s.resolveModel(modelName)
	if !ok {
		name := *body.Model
		return errReply(c, http.StatusNotFound, "InvalidEndpointOrModel.NotFound", "model",
			fmt.Sprintf("The model or endpoint %s does not exist or you do not have access to it.", name))
	}

	s.mu.Lock()
	s.advanceLocked(now)
	limited := !s.admitRPMLocked(c.key, m, now)
	s.mu.Unlock()
	if limited {
		code := "ModelAccountRpmRateLimitExceeded"
		if endpoint != "" {
			code = "RateLimitExceeded.EndpointRPMExceeded"
		}
		return errReply(c, http.StatusTooManyRequests, code, "",
			fmt.Sprintf("The request rate of your account for %s exceeds its RPM limit.", *body.Model))
	}

	req, berr := s.buildRequest(c.key, m, &body, now)
	if berr != nil {
		return errReply(c, berr.status, berr.code, berr.param, berr.msg)
	}
	if code := promptMarker(req.Prompt, rejectMarker); code != "" {
		return errReply(c, statusOfCode(code), code, "", failureMessage(code))
	}
	if err := m.Normalize(&req); err != nil {
		br := asBadRequest(err)
		return errReply(c, br.status, br.code, br.param, br.msg)
	}

	firstW, firstH, berr := s.probeImages(c.r, m, &req)
	if berr != nil {
		return errReply(c, berr.status, berr.code, berr.param, berr.msg)
	}
	w, h, frames, ratio, err := m.Output(&req, firstW, firstH)
	if err != nil {
		br := asBadRequest(err)
		return errReply(c, br.status, br.code, br.param, br.msg)
	}
	videoSeconds, berr := s.probeVideos(c.r.Context(), &req)
	if berr != nil {
		return errReply(c, berr.status, berr.code, berr.param, berr.msg)
	}
	if len(videoSeconds) > 0 && videoSeconds[0] > 0 {
		first := int(math.Round(videoSeconds[0] * 24))
		switch task.ReferenceTaskTypeOf(&req) {
		case task.TaskTypeEdit: // as long as the video edited
			frames = first
		case task.TaskTypeExtend: // the video, then the requested seconds
			frames = first + frames - 1
		}
	}
	// 2.x bills input video too (the catalog's billing rule); an unknown
	// length counts as the catalog's estimate.
	req.InputVideoSeconds = m.InputVideoSeconds(videoSeconds)
	t := &emuTask{
		key:        c.key,
		modelName:  modelName, // the task object names the model, not the endpoint
		endpoint:   endpoint,
		model:      m,
		req:        req,
		usedFrames: req.Frames != nil,
		width:      w,
		height:     h,
		frames:     frames,
		duration:   (frames - 1) / 24,
		ratio:      ratio,
		baseURL:    s.baseURL(c.r),
		queueTime:  s.opts.QueueTime,
		runTime:    s.opts.RunTime,
		status:     task.StatusQueued,
		createdAt:  now,
		updatedAt:  now,
		expiresAt:  now.Add(time.Duration(task.Or(req.ExecutionExpiresAfter, task.DefaultExecutionExpiresAfter)) * time.Second),
		failCode:   promptMarker(req.Prompt, failMarker),
	}
	if req.Duration != nil && *req.Duration > 0 {
		t.duration = *req.Duration
	}
	if t.flex() {
		t.queueTime = s.opts.FlexQueueTime
	}
	t.tokens = m.UsageTokens(&req, w, h, frames)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(now)
	if s.queuedLocked(c.key) >= s.opts.MaxQueued {
		return errReply(c, http.StatusTooManyRequests, "QuotaExceeded", "",
			fmt.Sprintf("Your account has reached its limit of %d queued tasks.", s.opts.MaxQueued))
	}
	t.seed = task.Or(req.Seed, -1)
	if t.seed < 0 {
		t.seed = s.rng.Int64N(1 << 31)
	}
	if t.failCode == "" && len(s.failNext) > 0 {
		t.failCode, s.failNext = s.failNext[0], s.failNext[1:]
	}
	s.seq++
	t.seq = s.seq
	t.id = s.newTaskIDLocked(now)
	s.tasks[t.id] = t
	s.order = append(s.order, t)
	s.created = append(s.created, t.id)
	s.queued[t.key]++
	// Its start and expiry are new events: the next one may now be sooner.
	for _, at := range []time.Time{t.createdAt.Add(t.queueTime), t.expiresAt} {
		if s.nextAt.IsZero() || at.Before(s.nextAt) {
			s.nextAt = at
		}
	}
	s.notifyLocked(t)
	s.log.Debug("arkemu: task created", "id", t.id, "model", t.modelName, "key", c.key)

	out, _ := json.Marshal(arkproto.CreateAnswer{ID: t.id})
	return reply{status: http.StatusOK, body: out}
}

// resolveModel accepts what Ark accepts: the Volcengine and BytePlus model ids
// (not seedgate's aliases or resolution suffixes).
func (s *Server) resolveModel(name string) (*task.Model, bool) {
	m, implied, ok := task.LookupModel(name)
	if !ok || implied != "" || (name != m.VolcengineID && name != m.BytePlusID) {
		return nil, false
	}
	return m, true
}

// admitRPMLocked counts a create against the per-account, per-model minute window.
func (s *Server) admitRPMLocked(key string, m *task.Model, now time.Time) bool {
	limit := m.RPM
	if s.opts.RPM > 0 {
		limit = s.opts.RPM
	}
	k := key + "\x00" + m.ID
	// Creates are appended in time order: the ones out of the window lead.
	window := s.creates[k]
	for len(window) > 0 && now.Sub(window[0]) >= time.Minute {
		window = window[1:]
	}
	if limit > 0 && len(window) >= limit {
		s.creates[k] = window
		return false
	}
	s.creates[k] = append(window, now)
	return true
}

func (s *Server) queuedLocked(key string) int { return s.queued[key] }

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newTaskIDLocked makes ids like cgt-20250331175019-68d9t (Beijing time).
func (s *Server) newTaskIDLocked(now time.Time) string {
	stamp := now.In(beijing).Format("20060102150405")
	for {
		var b [5]byte
		for i := range b {
			b[i] = idAlphabet[s.rng.IntN(len(idAlphabet))]
		}
		id := "cgt-" + stamp + "-" + string(b[:])
		if _, dup := s.tasks[id]; !dup {
			return id
		}
	}
}

var beijing = time.FixedZone("CST", 8*3600)

func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// buildRequest turns the body into a task.Request, checking what the catalog
// cannot: content item shapes and roles, body-only ranges, the draft task.
func (s *Server) buildRequest(key string, m *task.Model, b *createBody, now time.Time) (task.Request, *badRequest) {
	var r task.Request
	if len(b.Content) == 0 {
		return r, missingParam("content")
	}
	var texts []string
	type image struct{ url, role string }
	var images []image
	for i, it := range b.Content {
		role := ""
		if it.Role != nil {
			role = *it.Role
		}
		switch it.Type {
		case "text":
			if it.Text == nil {
				return r, invalidParam("content", "content[%d] of type text has no `text`.", i)
			}
			texts = append(texts, *it.Text)
		case "image_url":
			if it.ImageURL == nil || strings.TrimSpace(it.ImageURL.URL) == "" {
				return r, &badRequest{status: http.StatusBadRequest, code: "InvalidImageURL.EmptyURL", param: "image_url",
					msg: fmt.Sprintf("content[%d]: the image URL is empty.", i)}
			}
			switch role {
			case "", "first_frame", "last_frame", "reference_image":
			default:
				return r, invalidParam("role", "content[%d]: role %q is not valid for an image.", i, role)
			}
			images = append(images, image{it.ImageURL.URL, role})
		case "video_url":
			if it.VideoURL == nil || strings.TrimSpace(it.VideoURL.URL) == "" {
				return r, invalidParam("video_url", "content[%d]: the video URL is empty.", i)
			}
			if role != "" && role != "reference_video" {
				return r, invalidParam("role", "content[%d]: role %q is not valid for a video.", i, role)
			}
			r.ReferenceVideos = append(r.ReferenceVideos, it.VideoURL.URL)
		case "audio_url":
			if it.AudioURL == nil || strings.TrimSpace(it.AudioURL.URL) == "" {
				return r, invalidParam("audio_url", "content[%d]: the audio URL is empty.", i)
			}
			if role != "" && role != "reference_audio" {
				return r, invalidParam("role", "content[%d]: role %q is not valid for audio.", i, role)
			}
			r.ReferenceAudio = append(r.ReferenceAudio, it.AudioURL.URL)
		case "draft_task":
			if it.DraftTask == nil || it.DraftTask.ID == "" {
				return r, invalidParam("draft_task", "content[%d]: the draft task id is empty.", i)
			}
			if r.DraftTaskID != "" {
				return r, invalidParam("content", "Only one draft_task item is allowed.")
			}
			r.DraftTaskID = it.DraftTask.ID
		case "":
			return r, missingParam("content.type")
		default:
			return r, invalidParam("content", "content[%d]: type %q is not supported.", i, it.Type)
		}
	}
	if len(texts) > 1 {
		return r, invalidParam("content", "Only one text item is allowed.")
	}
	if len(texts) == 1 {
		r.Prompt = texts[0]
	}

	// Image roles: one image is the first frame (role optional); two are first +
	// last (roles required); reference images all say reference_image.
	refs := 0
	for _, im := range images {
		if im.role == "reference_image" {
			refs++
		}
	}
	switch {
	case refs > 0 && refs != len(images):
		return r, invalidParam("role", "Reference images cannot be combined with first or last frames.")
	case refs > 0:
		for _, im := range images {
			r.ReferenceImages = append(r.ReferenceImages, im.url)
		}
	case len(images) == 1:
		if images[0].role == "last_frame" {
			return r, invalidParam("role", "A last_frame needs a first_frame.")
		}
		r.FirstFrame = images[0].url
	case len(images) == 2:
		for _, im := range images {
			switch im.role {
			case "first_frame":
				if r.FirstFrame != "" {
					return r, invalidParam("role", "Two images need the roles first_frame and last_frame.")
				}
				r.FirstFrame = im.url
			case "last_frame":
				if r.LastFrame != "" {
					return r, invalidParam("role", "Two images need the roles first_frame and last_frame.")
				}
				r.LastFrame = im.url
			default:
				return r, invalidParam("role", "Two images need the roles first_frame and last_frame.")
			}
		}
	case len(images) > 2:
		return r, invalidParam("role", "More than two images must all have the role reference_image.")
	}

	if b.CallbackURL != nil {
		r.CallbackURL = *b.CallbackURL
	}
	r.ReturnLastFrame = b.ReturnLastFrame
	if b.ServiceTier != nil {
		if *b.ServiceTier == "" {
			return r, invalidParam("service_tier", "service_tier must be default or flex.")
		}
		r.ServiceTier = *b.ServiceTier
	}
	r.ExecutionExpiresAfter = b.ExecutionExpiresAfter
	r.GenerateAudio = b.GenerateAudio
	r.Draft = b.Draft
	if b.Resolution != nil {
		if *b.Resolution == "" {
			return r, invalidParam("resolution", "resolution must not be empty.")
		}
		r.Resolution = *b.Resolution
	}
	if b.Ratio != nil {
		if *b.Ratio == "" {
			return r, invalidParam("ratio", "ratio must not be empty.")
		}
		r.Ratio = *b.Ratio
	}
	r.Duration = b.Duration
	r.Frames = b.Frames
	r.Seed = b.Seed
	r.CameraFixed = b.CameraFixed
	r.Watermark = b.Watermark
	r.Priority = b.Priority
	if b.SafetyIdentifier != nil {
		r.SafetyIdentifier = *b.SafetyIdentifier
	}
	for _, tl := range b.Tools {
		if tl.Type != "web_search" {
			return r, invalidParam("tools", "tool type %q is not supported.", tl.Type)
		}
		r.WebSearch = true
	}
	if b.OutputFormat != nil {
		switch f := strings.ToLower(*b.OutputFormat); f {
		case "mp4", "mov":
			r.OutputFormat = f
		default:
			return r, invalidParam("output_format", "output_format %q is not supported: use mp4 or mov.", *b.OutputFormat)
		}
	}
	if b.OmniReferenceTaskType != nil {
		kind, ok := referenceTaskTypes[strings.ToLower(*b.OmniReferenceTaskType)]
		if !ok {
			return r, invalidParam("omni_reference_task_type",
				"omni_reference_task_type %q is not supported: use auto, reference, edit or extend.", *b.OmniReferenceTaskType)
		}
		r.ReferenceTaskType = kind
	}

	// Legacy inline parameters fill what the body left unset, weakly validated.
	clean, inline := task.ParseInline(r.Prompt)
	r.Prompt = clean
	m.ApplyInline(&r, inline)

	if r.DraftTaskID != "" {
		d, br := s.draftFor(key, r.DraftTaskID, now)
		if br != nil {
			return r, br
		}
		// The re-render reuses the draft's prompt, seed, framing and timing.
		if r.Prompt == "" {
			r.Prompt = d.req.Prompt
		}
		r.Seed = task.Int64(d.seed)
		r.Duration, r.Frames = d.req.Duration, d.req.Frames
		r.Ratio = d.ratio
		if r.CameraFixed == nil {
			r.CameraFixed = d.req.CameraFixed
		}
		if r.GenerateAudio == nil {
			r.GenerateAudio = d.req.GenerateAudio
		}
	}
	if (r.ReferenceTaskType == "edit" || r.ReferenceTaskType == "extend") && len(r.ReferenceVideos) == 0 {
		return r, invalidParam("content", "omni_reference_task_type %s needs a video_url item with the video to %s.",
			r.ReferenceTaskType, r.ReferenceTaskType)
	}
	return r, nil
}

// referenceTaskTypes maps the accepted spellings of omni_reference_task_type
// (resellers write editing and extension) to the upstream's.
var referenceTaskTypes = map[string]string{
	"auto": "auto", "reference": "reference", "edit": "edit", "editing": "edit", "extend": "extend", "extension": "extend",
}

// draftWindow: a draft can be re-rendered for 7 days.
const draftWindow = 7 * 24 * time.Hour

func (s *Server) draftFor(key, id string, now time.Time) (*emuTask, *badRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.tasks[id]
	switch {
	case !ok || d.key != key || d.isDeleted(now):
		return nil, invalidParam("content", "The draft task %s does not exist.", id)
	case !task.Or(d.req.Draft, false):
		return nil, invalidParam("content", "The task %s is not a draft.", id)
	case d.status != task.StatusSucceeded:
		return nil, invalidParam("content", "The draft task %s has not succeeded (status %s).", id, d.status)
	case now.Sub(d.createdAt) > draftWindow:
		return nil, invalidParam("content", "The draft task %s is older than 7 days.", id)
	}
	return d, nil
}
