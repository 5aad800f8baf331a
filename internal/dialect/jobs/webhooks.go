package jobs

import (
	"context"
	"net/http"

	"github.com/seedgate/seedgate/internal/auth"
	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// WebhookPayload is the body of the callbacks of tasks created in this
// dialect: the job, exactly as GET /v1/jobs/{id} shows it.
func WebhookPayload(t *task.Task) any {
	j := render(new(http.Request).WithContext(context.Background()), t)
	j.RequestID = t.Request.RequestID
	return j
}

func renderDelivery(m service.Delivery) jp.Delivery {
	d := jp.Delivery{ID: m.ID, Object: "webhook_delivery", TaskID: m.TaskID, TaskStatus: string(m.TaskStatus), URL: m.URL,
		State: m.State, Attempts: m.Attempts, LastStatusCode: m.LastStatusCode, LastError: m.LastError,
		Created: m.CreatedAt.Unix(), AttemptLog: []jp.Attempt{}}
	if m.NextAttemptAt != nil {
		n := m.NextAttemptAt.Unix()
		d.NextAttemptAt = &n
	}
	if m.DeliveredAt != nil {
		n := m.DeliveredAt.Unix()
		d.DeliveredAt = &n
	}
	for _, a := range m.History {
		d.AttemptLog = append(d.AttemptLog, jp.Attempt{N: a.N, At: a.StartedAt.Unix(), DurationMS: a.Duration.Milliseconds(),
			StatusCode: a.StatusCode, Error: a.Error, ResponseBody: a.ResponseBody, Manual: a.Manual})
	}
	return d
}

// Deliveries is GET /v1/jobs/{id}/deliveries: every callback event of the job
// with its attempts, oldest first.
func (h *Handler) Deliveries(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	ms, err := h.svc.Deliveries(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := jp.DeliveryList{Object: "list", Data: make([]jp.Delivery, 0, len(ms))}
	for _, m := range ms {
		out.Data = append(out.Data, renderDelivery(m))
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// RetryDelivery is POST /v1/jobs/{id}/deliveries/{delivery_id}/retry: send the
// event again now, under the same webhook-id, whatever its state.
func (h *Handler) RetryDelivery(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	m, err := h.svc.RetryDelivery(r.Context(), p.Tenant, r.PathValue("id"), r.PathValue("delivery_id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, renderDelivery(m))
}

func renderSecret(s service.WebhookSecret) jp.SecretAnswer {
	a := jp.SecretAnswer{Object: "webhook_secret", KeyID: s.KeyID, Secret: s.Secret, Created: s.CreatedAt.Unix()}
	if s.PreviousUntil != nil {
		n := s.PreviousUntil.Unix()
		a.PreviousSecretExpires = &n
	}
	if s.RotatedAt != nil {
		n := s.RotatedAt.Unix()
		a.Rotated = &n
	}
	return a
}

// WebhookSecret is GET /v1/webhooks/secret: the whsec_ secret that signs the
// callbacks of tasks created with the caller's API key.
func (h *Handler) WebhookSecret(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	s, err := h.svc.WebhookSecret(r.Context(), p.KeyID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, renderSecret(s))
}

// RotateWebhookSecret is POST /v1/webhooks/secret/rotate: a new secret; the old
// one keeps signing too (a second v1 signature) for 24 hours.
func (h *Handler) RotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	s, err := h.svc.RotateWebhookSecret(r.Context(), p.KeyID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, renderSecret(s))
}
