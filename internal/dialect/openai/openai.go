// Package openai serves the OpenAI Videos API over Seedance tasks: POST
// /v1/videos (JSON, or multipart with an input_reference image as the first
// frame), GET /v1/videos/{id}, GET /v1/videos/{id}/content?variant=video|thumbnail,
// GET /v1/videos (cursor list) and DELETE /v1/videos/{id}. The official
// openai-go SDK works against it.
package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/seedgate/seedgate/internal/auth"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	oa "github.com/seedgate/seedgate/internal/protocol/openai"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "openai"

// DefaultModel is used when a create names no model (OpenAI's own default is
// not a Seedance model).
const DefaultModel = "doubao-seedance-1-5-pro-251215"

// Handler serves the endpoints; routes.go mounts its methods.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in OpenAI's error envelope: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

// form is a decoded create: the fields, and an uploaded reference image if any.
type form struct {
	model, prompt, seconds, size string
	hasPrompt                    bool
	imageURL                     string // input_reference as a URL
	image                        []byte // input_reference as a file
	imageName                    string
}

func decodeJSON(body []byte) (form, error) {
	var b oa.CreateBody
	if err := wire.Unmarshal(body, &b, false); err != nil {
		return form{}, err
	}
	f := form{model: b.Model, size: b.Size}
	if b.Prompt != nil {
		f.prompt, f.hasPrompt = *b.Prompt, true
	}
	if s := bytes.TrimSpace(b.Seconds); len(s) > 0 && string(s) != "null" {
		f.seconds = strings.Trim(string(s), `"`)
	}
	if ref := bytes.TrimSpace(b.InputReference); len(ref) > 0 && string(ref) != "null" {
		var url string
		var obj struct {
			ImageURL string `json:"image_url"`
			FileID   string `json:"file_id"`
		}
		switch {
		case json.Unmarshal(ref, &url) == nil:
			f.imageURL = url
		case json.Unmarshal(ref, &obj) == nil && obj.ImageURL != "":
			f.imageURL = obj.ImageURL
		default:
			return f, task.Errorf(task.CodeInvalidParameter, "input_reference",
				`input_reference must be an image URL or {"image_url": "https://…"} (or a file in a multipart form)`)
		}
	}
	return f, nil
}

// maxImage bounds an input_reference file (the upstream's image limit).
const maxImage = arkproto.MaxImageBytes

func decodeMultipart(w http.ResponseWriter, r *http.Request, boundary string, limit int64) (form, error) {
	var f form
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, limit), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return f, task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than %d bytes", mbe.Limit)
			}
			return f, task.Errorf(task.CodeInvalidJSON, "", "the multipart body is malformed: %v", err)
		}
		name := part.FormName()
		if name == "input_reference" && part.FileName() != "" {
			b, err := io.ReadAll(io.LimitReader(part, maxImage+1))
			if err != nil || len(b) > maxImage {
				return f, task.Errorf(task.CodeInvalidParameter, "input_reference", "input_reference must be an image of at most %d bytes", maxImage)
			}
			f.image, f.imageName = b, part.FileName()
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, 1<<20+1))
		if err != nil || len(b) > 1<<20 {
			return f, task.Errorf(task.CodeInvalidParameter, name, "%s is too long", name)
		}
		v := string(b)
		switch name {
		case "model":
			f.model = v
		case "prompt":
			f.prompt, f.hasPrompt = v, true
		case "seconds":
			f.seconds = v
		case "size":
			f.size = v
		case "input_reference", "input_reference[image_url]":
			f.imageURL = v
		}
	}
}

// request validates the fields that need no model and builds the request.
func (f *form) request() (string, task.Request, error) {
	var r task.Request
	if !f.hasPrompt || strings.TrimSpace(f.prompt) == "" {
		return "", r, task.Errorf(task.CodeMissingParameter, "prompt", "prompt is required")
	}
	r.Prompt = f.prompt
	model := strings.TrimSpace(f.model)
	if model == "" {
		model = DefaultModel
	}
	if f.seconds != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.seconds))
		if err != nil {
			return "", r, task.Errorf(task.CodeInvalidParameter, "seconds", "seconds must be a whole number of seconds, got %q", f.seconds)
		}
		r.Duration = &n
	}
	if f.size != "" {
		m, _, ok := task.LookupModel(model)
		if !ok {
			return model, r, nil // the service names the unknown model
		}
		res, ratio, err := task.SizeToRequest(m, f.size)
		if err != nil {
			return "", r, err
		}
		r.Resolution, r.Ratio = res, ratio
		if (f.imageURL != "" || f.image != nil) && m.AdaptiveOnly(task.ModeFirstFrame) {
			r.Ratio = "" // the model follows the image's shape; size gives the resolution only
		}
	}
	r.FirstFrame = strings.TrimSpace(f.imageURL)
	return model, r, nil
}

// Create is POST /v1/videos.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var f form
	var err error
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" && params["boundary"] != "" {
		f, err = decodeMultipart(w, r, params["boundary"], h.MaxBodyBytes+maxImage)
	} else {
		var body json.RawMessage
		if err = wire.DecodeJSON(w, r, &body, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err == nil {
			f, err = decodeJSON(body)
		}
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	model, req, err := f.request()
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	var upload *task.File
	if f.image != nil {
		// Check everything else first, so a bad request stores no file.
		probe := req
		probe.FirstFrame = "https://reference.invalid/image.png"
		if m, _, ok := task.LookupModel(model); ok {
			if err := m.Normalize(&probe); err != nil {
				WriteError(w, r, err)
				return
			}
		}
		file, err := h.svc.Upload(r.Context(), service.UploadInput{Tenant: p.Tenant, Kind: "image",
			Purpose: "first_frame", Name: f.imageName, Body: bytes.NewReader(f.image)})
		if err != nil {
			WriteError(w, r, withField(err, "input_reference"))
			return
		}
		req.FirstFrame = h.svc.FileURL(file.ID)
		upload = file
	}
	req.RequestID = wire.RequestID(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: model, Request: req})
	if err != nil {
		if upload != nil { // a refused create keeps nothing
			h.svc.DiscardUpload(r.Context(), upload)
		}
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, Render(t))
}

func withField(err error, field string) error {
	var te *task.Error
	if errors.As(err, &te) {
		c := *te
		c.Field = field
		return &c
	}
	return err
}

// Get is GET /v1/videos/{id}.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, Render(t))
}

// List is GET /v1/videos?limit=&after=&order=asc|desc.
func (h *Handler) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := service.ListFilter{Limit: 20, After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "limit", "limit must be an integer in [1, 100], got %q", v))
			return
		}
		f.Limit = n
	}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		f.Asc = true
	default:
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "order", "order must be asc or desc, got %q", q.Get("order")))
		return
	}
	p, _ := auth.FromContext(r.Context())
	page, err := h.svc.List(r.Context(), p.Tenant, f)
	if err != nil {
		if e := task.AsError(err); e.Code == task.CodeNotFound && e.Field == "after" {
			err = task.Errorf(task.CodeInvalidParameter, "after", "after %q is not a video id", f.After)
		}
		WriteError(w, r, err)
		return
	}
	out := oa.ListAnswer{Object: "list", Data: make([]oa.Video, 0, len(page.Tasks)), HasMore: page.HasMore}
	for _, t := range page.Tasks {
		out.Data = append(out.Data, Render(t))
	}
	if n := len(out.Data); n > 0 {
		first, last := out.Data[0].ID, out.Data[n-1].ID
		out.FirstID, out.LastID = &first, &last
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// Delete is DELETE /v1/videos/{id}: a finished video is deleted; a queued one
// is cancelled and deleted; a running one cannot be.
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id := r.PathValue("id")
	t, err := h.svc.Get(r.Context(), p.Tenant, id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if t.Status == task.StatusQueued {
		if _, err := h.svc.Cancel(r.Context(), p.Tenant, id); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	if err := h.svc.Delete(r.Context(), p.Tenant, id); err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, oa.DeletedAnswer{ID: id, Object: "video.deleted", Deleted: true})
}

// WriteError writes err as {"error":{"message","type","param","code"}} (oa.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { oa.Errors.Write(w, r, err) }

// sizeString is "WxH".
func sizeString(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }
