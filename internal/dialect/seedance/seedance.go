// Package seedance serves the xhuoapi dialect (docs/dialects.md#seedance): POST
// /v1/seedance/videos with Ark's content[] and top-level fields. Without
// callback_url the call waits for the result (bounded) and answers the
// {"success","task_id","trace_id","data":{…}} envelope; with callback_url it
// answers {"task_id"} at once and the same envelope is POSTed there later
// (WebhookPayload; the webhook outbox delivers it). Tasks are retrieved with
// POST /v1/seedance/tasks and GET /v1/seedance/tasks/{id}.
package seedance

import (
	"net/http"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	sp "github.com/seedgate/seedgate/internal/protocol/seedance"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "seedance"

// maxIDs bounds one retrieve call.
const maxIDs = 100

// Handler serves the endpoints; routes.go mounts its methods.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
	// Wait bounds how long a create without callback_url waits for the result
	// before answering with the task's current status.
	Wait time.Duration
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in this dialect's error answer: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

func toRequest(b *sp.CreateBody) (string, task.Request, error) {
	if strings.TrimSpace(b.Model) == "" {
		return "", task.Request{}, task.Errorf(task.CodeMissingParameter, "model", "model is required, e.g. doubao-seedance-1-0-pro-250528")
	}
	req, err := ark.ParseContent(b.Content, "content")
	if err != nil {
		return "", task.Request{}, err
	}
	if err := b.Params.Apply(&req); err != nil {
		return "", task.Request{}, err
	}
	if b.CameraFixed != nil {
		req.CameraFixed = b.CameraFixed
	}
	return b.Model, req, nil
}

// Create is POST /v1/seedance/videos.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var b sp.CreateBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err != nil {
		WriteError(w, r, ark.ParamsError(err))
		return
	}
	model, req, err := toRequest(&b)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	req.RequestID = wire.RequestID(r.Context())
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: model, Request: req})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if t.Request.CallbackURL != "" {
		wire.WriteJSON(w, http.StatusOK, map[string]string{"task_id": t.Request.RequestID})
		return
	}
	t, err = h.svc.Wait(r.Context(), p.Tenant, t.ID, h.Wait)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, envelope(t, wire.RequestID(r.Context())))
}

// Get is GET /v1/seedance/tasks/{id}: id is the task id (data.task_id) or the
// envelope's task_id (the create call's request id).
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	t, err := h.find(r, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, envelope(t, wire.RequestID(r.Context())))
}

// Retrieve is POST /v1/seedance/tasks with {"id":…} (the envelope) or
// {"ids":[…]} ({"success":true,"trace_id","data":[…]}, unknown ids with status
// "not_found").
func (h *Handler) Retrieve(w http.ResponseWriter, r *http.Request) {
	var b sp.RetrieveBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: 1 << 20}); err != nil {
		WriteError(w, r, err)
		return
	}
	trace := wire.RequestID(r.Context())
	switch {
	case b.ID != "" && len(b.IDs) > 0:
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "ids", "give id or ids, not both"))
	case b.ID != "":
		t, err := h.find(r, b.ID)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		wire.WriteJSON(w, http.StatusOK, envelope(t, trace))
	case len(b.IDs) > maxIDs:
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "ids", "at most %d ids per call, got %d", maxIDs, len(b.IDs)))
	case len(b.IDs) > 0:
		out := sp.ListAnswer{Success: true, TraceID: trace, Data: make([]sp.Data, 0, len(b.IDs))}
		for _, id := range b.IDs {
			t, err := h.find(r, id)
			switch {
			case task.ErrorCode(err) == task.CodeNotFound:
				out.Data = append(out.Data, sp.Data{TaskID: id, Status: "not_found"})
			case err != nil:
				WriteError(w, r, err)
				return
			default:
				out.Data = append(out.Data, render(t))
			}
		}
		wire.WriteJSON(w, http.StatusOK, out)
	default:
		WriteError(w, r, task.Errorf(task.CodeMissingParameter, "id", `give {"id":"cgt-…"} or {"ids":["cgt-…",…]}`))
	}
}

// find looks a task up by its id, then by the request id of its create call.
func (h *Handler) find(r *http.Request, id string) (*task.Task, error) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, id)
	if task.ErrorCode(err) != task.CodeNotFound || strings.HasPrefix(id, "cgt-") || id == "" {
		return t, err
	}
	page, lerr := h.svc.List(r.Context(), p.Tenant, service.ListFilter{RequestID: id, Limit: 1})
	if lerr != nil {
		return nil, lerr
	}
	if len(page.Tasks) == 0 {
		return nil, err
	}
	return page.Tasks[0], nil
}

// WriteError writes err as {"success":false,"error":{"code","message"},"trace_id"} (sp.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { sp.Errors.Write(w, r, err) }
