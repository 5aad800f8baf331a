package jobs

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type fileAnswer struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	Kind        string  `json:"kind"`
	Purpose     string  `json:"purpose"`
	Filename    string  `json:"filename,omitempty"`
	Bytes       int64   `json:"bytes"`
	ContentType string  `json:"content_type"`
	SHA256      string  `json:"sha256"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	URL         string  `json:"url"`
	Created     int64   `json:"created"`
}

func (h *Handler) fileAnswer(f *task.File) fileAnswer {
	return fileAnswer{ID: f.ID, Object: "file", Kind: f.Kind, Purpose: f.Purpose, Filename: f.Name, Bytes: f.Size,
		ContentType: f.ContentType, SHA256: f.SHA256, Width: f.Width, Height: f.Height, Duration: f.Duration,
		URL: h.svc.FileURL(f.ID), Created: f.CreatedAt.Unix()}
}

// maxFormField bounds the small text fields of the upload form.
const maxFormField = 1024

// Upload is POST /v1/files/upload: multipart kind, purpose, file. The parts are
// streamed (the file straight into the service's spool), never held in memory.
func (h *Handler) Upload(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		WriteError(w, r, task.Errorf(task.CodeUnsupportedMedia, "", "send multipart/form-data with the fields kind, purpose and file"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.svc.MaxUploadBytes+1<<20)
	mr := multipart.NewReader(r.Body, params["boundary"])
	p, _ := auth.FromContext(r.Context())
	in := service.UploadInput{Tenant: p.Tenant}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			WriteError(w, r, uploadError(err))
			return
		}
		switch part.FormName() {
		case "kind", "purpose":
			b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if err != nil || len(b) > maxFormField {
				WriteError(w, r, task.Errorf(task.CodeInvalidParameter, part.FormName(), "%s is too long or unreadable", part.FormName()))
				return
			}
			if part.FormName() == "kind" {
				in.Kind = strings.TrimSpace(string(b))
			} else {
				in.Purpose = strings.TrimSpace(string(b))
			}
		case "file":
			if in.Kind == "" {
				in.Kind = kindFromContentType(part.Header.Get("Content-Type"))
			}
			in.Name, in.Body = part.FileName(), part
			f, err := h.svc.Upload(r.Context(), in)
			if err != nil {
				// The service names the client's faults; anything else is
				// the server's (storage), not a malformed body.
				WriteError(w, r, err)
				return
			}
			wire.WriteJSON(w, http.StatusOK, h.fileAnswer(f))
			return
		}
	}
	WriteError(w, r, task.Errorf(task.CodeMissingParameter, "file", "the form has no file field"))
}

// kindFromContentType guesses the kind when the form names the file before the kind.
func kindFromContentType(ct string) string {
	for _, k := range []string{"image", "video", "audio"} {
		if strings.HasPrefix(ct, k+"/") {
			return k
		}
	}
	return ""
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return task.Errorf(task.CodeBodyTooLarge, "file", "the upload is larger than %d bytes", mbe.Limit)
	}
	if task.ErrorCode(err) != "" {
		return err
	}
	return task.Errorf(task.CodeInvalidParameter, "file", "the multipart body is malformed: %v", err)
}

// FileInfo is GET /v1/files/{id}.
func (h *Handler) FileInfo(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	f, err := h.svc.File(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, h.fileAnswer(f))
}

// Content is GET /v1/files/{id}/content, with HTTP Range support. A valid URL
// signature (?sig=) grants access without an API key; otherwise the caller's key
// must own the file.
func (h *Handler) Content(w http.ResponseWriter, r *http.Request, authenticate func(*http.Request) (auth.Principal, bool)) {
	id := r.PathValue("id")
	if !h.svc.ValidFileSignature(id, r.URL.Query().Get("sig")) {
		p, ok := authenticate(r)
		if !ok {
			WriteError(w, r, task.Errorf(task.CodeUnauthorized, "", "a valid signed URL or API key is required"))
			return
		}
		if _, err := h.svc.File(r.Context(), p.Tenant, id); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	// With S3 and SEEDGATE_S3_DOWNLOADS=redirect the bytes come from a presigned URL.
	if u, err := h.svc.FileRedirect(r.Context(), id); err != nil || u != "" {
		if err != nil {
			WriteError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "private, max-age=300") // shorter than the URL lives
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	f, obj, err := h.svc.OpenFile(r.Context(), id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer obj.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable") // content never changes
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if f.Name != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Name}))
	}
	http.ServeContent(w, r, "", obj.ModTime(), obj)
}
