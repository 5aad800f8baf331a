package kindhttp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/seedgate/seedgate/internal/provider/timing"
)

// callbackBatch: a callback makes its task due at the next multiple of this,
// so tasks finishing together are read back in few calls.
const callbackBatch = 500 * time.Millisecond

// Callbacks are a kind's callback URLs at the gateway,
// <Base>/{task id}/{token}, the token an HMAC of the task id under the
// gateway's secret, and the handler behind them.
type Callbacks struct {
	Kind   string // the HMAC's domain: one kind's token opens no other's URL
	Base   string // upstream.Env.CallbackBase(kind); "" without callbacks
	Secret []byte
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: none
}

// On reports whether the gateway takes callbacks.
func (c *Callbacks) On() bool { return c != nil && c.Base != "" && len(c.Secret) > 0 }

// URL is the callback_url of a task's create ("" without callbacks).
func (c *Callbacks) URL(taskID string) string {
	if !c.On() {
		return ""
	}
	return c.Base + "/" + url.PathEscape(taskID) + "/" + c.token(taskID)
}

func (c *Callbacks) token(taskID string) string {
	m := hmac.New(sha256.New, c.Secret)
	m.Write([]byte(c.Kind + "-callback:" + taskID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Handler serves <Base>/{id}/{token}. A callback is only a hint (its body is
// signed by nothing the gateway can check): pending(body) true — a readable
// body announcing a task not yet finished — is acknowledged and ignored, the
// checks planned for the task's expected finish cover it; anything else makes
// the task due (nudge), and the scheduler reads it upstream.
func (c *Callbacks) Handler(nudge func(ctx context.Context, taskID string, at time.Time) error, pending func(body []byte) bool) http.Handler {
	now, log := time.Now, slog.New(slog.DiscardHandler)
	if c.Now != nil {
		now = c.Now
	}
	if c.Logger != nil {
		log = c.Logger
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, token := r.PathValue("id"), r.PathValue("token")
		if !c.On() || !hmac.Equal([]byte(token), []byte(c.token(id))) {
			answer(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"no such callback"}}`)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if pending(body) {
			answer(w, http.StatusOK, `{"received":true}`)
			return
		}
		if err := nudge(r.Context(), id, timing.Align(now(), callbackBatch)); err != nil {
			log.WarnContext(r.Context(), "callback could not wake the task; the upstream will retry", "kind", c.Kind, "task", id, "err", err)
			answer(w, http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"try again"}}`)
			return
		}
		answer(w, http.StatusOK, `{"received":true}`)
	})
}

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
