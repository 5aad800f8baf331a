package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	rp "github.com/seedgate/seedgate/internal/protocol/responses"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Text is the task's status as the seed's clients read it: one "key: value"
// line each, "视频URL: <url>" once the video exists.
func Text(t *task.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "任务ID: %s\n状态: %s\n", t.ID, t.Status)
	if !t.Status.Terminal() {
		fmt.Fprintf(&b, "进度: %d%%\n", t.Progress)
	}
	if res := t.Result; res != nil && t.Status == task.StatusSucceeded {
		fmt.Fprintf(&b, "视频URL: %s\n", res.VideoURL)
		if res.LastFrameURL != "" {
			fmt.Fprintf(&b, "尾帧URL: %s\n", res.LastFrameURL)
		}
		fmt.Fprintf(&b, "分辨率: %dx%d\n时长: %.1fs\n", res.Width, res.Height, res.Duration)
	}
	if t.Error != nil && t.Status != task.StatusSucceeded && t.Status != task.StatusCancelled {
		fmt.Fprintf(&b, "错误: %s: %s\n", ark.ErrorCode(t.Error), t.Error.Message)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func newID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func message(id, status, text string) rp.OutputItem {
	content := []rp.ContentPart{}
	if status == "completed" {
		content = append(content, rp.ContentPart{Type: "output_text", Text: text, Annotations: []any{}})
	}
	return rp.OutputItem{Type: "message", ID: id, Status: status, Role: "assistant", Content: content}
}

// completed is the finished response for t.
func completed(respID, msgID string, created int64, t *task.Task) rp.Response {
	u := rp.NewUsage(0)
	return rp.Response{
		ID: respID, Object: "response", CreatedAt: created, Status: "completed", Model: QueryModel,
		Output: []rp.OutputItem{message(msgID, "completed", Text(t))}, Usage: &u,
		Metadata: map[string]string{"task_id": t.ID, "task_status": string(t.Status)},
	}
}

// WebhookPayload is this dialect's status object: the completed Responses API
// object whose text describes the task.
func WebhookPayload(t *task.Task) any {
	return completed(newID("resp_"), newID("msg_"), time.Now().Unix(), t)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// query answers a seedance-get call: one object, or the event stream (which
// waits, bounded by h.Wait, for the task to finish).
func (h *Handler) query(w http.ResponseWriter, r *http.Request, c Call) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, c.TaskID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	respID, msgID, created := newID("resp_"), newID("msg_"), h.now().Unix()
	if !c.Stream {
		wire.WriteJSON(w, http.StatusOK, completed(respID, msgID, created, t))
		return
	}

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	seq := 0
	send := func(typ string, fields map[string]any) bool {
		fields["type"], fields["sequence_number"] = typ, seq
		seq++
		b, _ := json.Marshal(fields)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	pending := rp.Response{ID: respID, Object: "response", CreatedAt: created, Status: "in_progress", Model: QueryModel, Output: []rp.OutputItem{}}
	if !send("response.created", map[string]any{"response": pending}) ||
		!send("response.in_progress", map[string]any{"response": pending}) {
		return
	}

	// Wait for the task, reporting progress as it changes.
	ch, stop := h.svc.Hub().Subscribe(t.ID)
	defer stop()
	deadline := time.NewTimer(h.Wait)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Second) // re-read: another instance may move the task
	defer tick.Stop()
	lastProgress := t.Progress
wait:
	for !t.Status.Terminal() {
		select {
		case <-r.Context().Done():
			return
		case <-deadline.C:
			break wait // answer with the current status
		case <-ch:
		case <-tick.C:
		}
		if t, err = h.svc.Get(r.Context(), p.Tenant, c.TaskID); err != nil {
			return // deleted meanwhile: end the stream
		}
		if !t.Status.Terminal() && t.Progress != lastProgress {
			lastProgress = t.Progress
			if !send("response.in_progress", map[string]any{"response": pending}) {
				return
			}
		}
	}

	final := completed(respID, msgID, created, t)
	text := final.Output[0].Content[0].Text
	part := final.Output[0].Content[0]
	emptyPart := rp.ContentPart{Type: "output_text", Text: "", Annotations: []any{}}
	where := map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range where {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	_ = send("response.output_item.added", map[string]any{"output_index": 0, "item": message(msgID, "in_progress", "")}) &&
		send("response.content_part.added", with(map[string]any{"part": emptyPart})) &&
		send("response.output_text.delta", with(map[string]any{"delta": text})) &&
		send("response.output_text.done", with(map[string]any{"text": text})) &&
		send("response.content_part.done", with(map[string]any{"part": part})) &&
		send("response.output_item.done", map[string]any{"output_index": 0, "item": final.Output[0]}) &&
		send("response.completed", map[string]any{"response": final})
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	_ = rc.Flush()
}
