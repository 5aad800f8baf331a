package ark

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/seedgate/seedgate/internal/provider/timing"
	"github.com/seedgate/seedgate/internal/task"
)

// Callbacks come to CallbackPath ("/upstream/ark/callbacks") + "/{task
// id}/{token}". The token is an HMAC of the task id under a secret of the
// gateway, so only the upstream the URL was given to can knock; no API key
// is needed.

// callbackURL is the callback_url sent with t's create.
func (k *Kind) callbackURL(taskID string) string {
	return k.callbackBase + "/" + url.PathEscape(taskID) + "/" + k.callbackToken(taskID)
}

func (k *Kind) callbackToken(taskID string) string {
	m := hmac.New(sha256.New, k.cfg.CallbackSecret)
	m.Write([]byte("ark-callback:" + taskID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// callbackBatch: a callback makes its task due at the next multiple of this,
// so that tasks finishing together are read back with one list call.
const callbackBatch = 500 * time.Millisecond

// CallbackHandler serves CallbackPath + "/{id}/{token}". A callback is only a
// hint: the body is not believed (callbacks are unsigned). When it claims the
// task finished — or cannot be read — nudge makes the task due (within
// callbackBatch), and the scheduler reads it upstream with the key that owns
// it. Queued and running callbacks are acknowledged and ignored: the checks
// planned for the task's expected finish cover them, and ignoring them keeps
// the upstream traffic at about one request per task.
func (k *Kind) CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, token := r.PathValue("id"), r.PathValue("token")
		if k.callbackBase == "" || !hmac.Equal([]byte(token), []byte(k.callbackToken(id))) {
			writeCallback(w, http.StatusNotFound, `{"error":{"code":"NotFound","message":"no such callback"}}`)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		up, err := DecodeTask(body)
		if err == nil && !task.Status(up.Status).Terminal() {
			writeCallback(w, http.StatusOK, `{"ok":true}`)
			return
		}
		if err := nudge(r.Context(), id, timing.Align(k.now(), callbackBatch)); err != nil {
			k.log.WarnContext(r.Context(), "callback could not wake the task; the upstream will retry", "task", id, "err", err)
			writeCallback(w, http.StatusServiceUnavailable, `{"error":{"code":"Unavailable","message":"try again"}}`)
			return
		}
		writeCallback(w, http.StatusOK, `{"ok":true}`)
	})
}

func writeCallback(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
