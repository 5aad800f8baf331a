package jobs

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/sse"
)

const (
	defaultKeepAlive = 15 * time.Second
	reconnectDelay   = 2 * time.Second
)

// Events is GET /v1/jobs/{id}/events: Server-Sent Events, one per status or
// progress change until the job has finished, each with the job as data:
//
//	id: 2042
//	event: progress
//	data: {"id":"cgt-…","object":"job","status":"processing","progress":42,…}
//
// Event ids grow over the job's life; a client that reconnects with
// Last-Event-ID (or ?last_event_id=) gets only what it has not seen, and
// always the final event. A stream for a job whose final event the client has
// seen answers 204, which tells EventSource clients to stop reconnecting.
func (h *Handler) Events(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id := r.PathValue("id")
	lastID := r.Header.Get("Last-Event-ID")
	if lastID == "" {
		lastID = r.URL.Query().Get("last_event_id")
	}
	since := service.ParseEventID(lastID)
	t, err := h.svc.Get(r.Context(), p.Tenant, id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if t.Status.Terminal() && service.EventSeq(t) <= since {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	changes, err := h.svc.Watch(r.Context(), p.Tenant, id, service.WatchOptions{Since: since})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	stream, err := sse.Start(w, reconnectDelay)
	if err != nil {
		return
	}
	every := h.KeepAlive
	if every <= 0 {
		every = defaultKeepAlive
	}
	keepAlive := time.NewTicker(every)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if stream.Comment("keep-alive") != nil {
				return
			}
		case c, ok := <-changes:
			if !ok {
				return // finished: the final event was sent
			}
			data, err := json.Marshal(render(r, c.Task))
			if err != nil || stream.Event(sse.ID(c.Seq), c.Type, data) != nil {
				return
			}
		}
	}
}
