// Package ark serves the official Volcengine Ark / BytePlus ModelArk task API
// (docs/upstream-ark.md; a reseller exposes it under /byteplus/v3): create, get, list and
// delete of content generation tasks, with Ark's error envelope and codes. The
// official SDKs work against it unchanged.
package ark

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "ark"

// Handler serves the task endpoints; routes.go mounts its methods under both
// /api/v3 and /byteplus/v3.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
	Now          func() time.Time // nil: time.Now
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in Ark's error envelope: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

// Create is POST …/contents/generations/tasks; it answers {"id":"cgt-…"}.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	model, req, err := arkproto.DecodeCreateRequest(w, r, h.MaxBodyBytes)
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
	wire.WriteJSON(w, http.StatusOK, arkproto.CreateAnswer{ID: t.ID})
}

// Get is GET …/contents/generations/tasks/{id}: the task object.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, Render(t))
}

// listWindow: Ark lists only the tasks of the last 7 days.
const listWindow = 7 * 24 * time.Hour

// listStatuses are the filter.status values; expired is accepted too, since
// tasks can be in it.
var listStatuses = []task.Status{task.StatusQueued, task.StatusRunning, task.StatusCancelled,
	task.StatusSucceeded, task.StatusFailed, task.StatusExpired}

// List is GET …/contents/generations/tasks?page_num=&page_size=&filter.status=
// &filter.task_ids=&filter.model=&filter.service_tier=: {"items":[…],"total":n}.
func (h *Handler) List(w http.ResponseWriter, r *http.Request) {
	f, err := h.listFilter(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := arkproto.ListAnswer{Items: []arkproto.Task{}}
	if f != nil {
		p, _ := auth.FromContext(r.Context())
		page, err := h.svc.List(r.Context(), p.Tenant, *f)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		out.Total = page.Total
		for _, t := range page.Tasks {
			out.Items = append(out.Items, Render(t))
		}
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// listFilter reads the list query; nil (and no error) means nothing can match
// (an unknown filter.model).
func (h *Handler) listFilter(r *http.Request) (*service.ListFilter, error) {
	q := r.URL.Query()
	pageNum, pageSize := 1, 10
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page_num", &pageNum}, {"page_size", &pageSize}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return nil, task.Errorf(task.CodeInvalidParameter, p.name, "%s must be an integer in [1, 500], got %q", p.name, v)
		}
		*p.dst = n
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	f := &service.ListFilter{Limit: pageSize, Offset: (pageNum - 1) * pageSize, CountTotal: true,
		CreatedAfter: now().Add(-listWindow)}
	if s := q.Get("filter.status"); s != "" {
		if !slices.Contains(listStatuses, task.Status(s)) {
			return nil, task.Errorf(task.CodeInvalidParameter, "filter.status",
				"filter.status %q is not valid: use queued, running, cancelled, succeeded, failed or expired", s)
		}
		f.Statuses = []task.Status{task.Status(s)}
	}
	for _, id := range q["filter.task_ids"] {
		for _, part := range strings.Split(id, ",") { // tolerate a comma-separated list too
			if part = strings.TrimSpace(part); part != "" {
				f.IDs = append(f.IDs, part)
			}
		}
	}
	switch tier := q.Get("filter.service_tier"); tier {
	case "":
		f.ServiceTier = task.TierDefault // flex tasks are listed only when asked for
	case task.TierDefault, task.TierFlex:
		f.ServiceTier = tier
	default:
		return nil, task.Errorf(task.CodeInvalidParameter, "filter.service_tier", "filter.service_tier %q is not valid: use default or flex", tier)
	}
	if name := q.Get("filter.model"); name != "" {
		m, _, ok := task.LookupModel(name)
		if !ok {
			return nil, nil
		}
		f.Model = m.ID
	}
	return f, nil
}

// Delete is DELETE …/contents/generations/tasks/{id}, by status (docs/upstream-ark.md#delete):
// queued → cancelled; succeeded, failed, expired → the record is deleted;
// running and cancelled → refused. The answer is an empty 200.
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id := r.PathValue("id")
	t, err := h.svc.Get(r.Context(), p.Tenant, id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	switch t.Status {
	case task.StatusQueued:
		_, err = h.svc.Cancel(r.Context(), p.Tenant, id)
	case task.StatusSucceeded, task.StatusFailed, task.StatusExpired:
		err = h.svc.Delete(r.Context(), p.Tenant, id)
	default:
		err = task.Errorf(task.CodeConflict, "id", "the task %s is %s and cannot be cancelled or deleted", id, t.Status)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// WriteError writes err in Ark's error envelope (arkproto.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { arkproto.Errors.Write(w, r, err) }
