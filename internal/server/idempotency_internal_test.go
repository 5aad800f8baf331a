package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/wire"
)

// idemServer wraps handler in the idempotency middleware over a real SQLite store.
func idemServer(t *testing.T, handler http.HandlerFunc) (*Server, http.Handler) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	s := &Server{cfg: Config{MaxBodyBytes: 1 << 20}, store: st, log: log}
	s.idem = newIdempotencyKeys(st, log)
	writeErr := func(w http.ResponseWriter, r *http.Request, err error) {
		e := err.(interface{ Error() string })
		wire.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": e.Error()})
	}
	h := s.idempotent(errorWriter(writeErr), handler)
	return s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{KeyID: "k1"})))
	})
}

func post(h http.Handler, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/v1/jobs", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIdempotencyConcurrentDuplicateIs409(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{})
	var calls atomic.Int32
	_, h := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		close(entered)
		<-release
		body, _ := io.ReadAll(r.Body)
		wire.WriteJSON(w, http.StatusOK, map[string]string{"id": "cgt-1", "echo": string(body)})
	})
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post(h, "dup", `{"a":1}`) }()
	<-entered

	w := post(h, "dup", `{"a":1}`)
	require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	require.Contains(t, w.Body.String(), "still being processed")

	close(release)
	w1 := <-first
	require.Equal(t, http.StatusOK, w1.Code)
	require.JSONEq(t, `{"id":"cgt-1","echo":"{\"a\":1}"}`, w1.Body.String(), "the handler saw the body")

	w = post(h, "dup", `{"a":1}`)
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "true", w.Header().Get("Idempotent-Replayed"))
	require.Equal(t, w1.Body.String(), w.Body.String())
	require.EqualValues(t, 1, calls.Load(), "the handler ran once")
}

func TestIdempotencyFailuresAreNotKept(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	_, h := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			wire.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "busy"})
		case 2:
			panic("boom")
		default:
			wire.WriteJSON(w, http.StatusOK, map[string]string{"id": "cgt-2"})
		}
	})
	require.Equal(t, http.StatusServiceUnavailable, post(h, "k", `{}`).Code)
	require.Panics(t, func() { post(h, "k", `{}`) })
	w := post(h, "k", `{}`)
	require.Equal(t, http.StatusOK, w.Code, "a 5xx or a panic frees the key for a retry")
	require.Empty(t, w.Header().Get("Idempotent-Replayed"))
	require.Equal(t, "true", post(h, "k", `{}`).Header().Get("Idempotent-Replayed"))
}

func TestIdempotencyMultipartBodiesCompareByContent(t *testing.T) {
	t.Parallel()
	form := func(boundary, prompt string) (string, string) {
		return "multipart/form-data; boundary=" + boundary,
			"--" + boundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n" + prompt + "\r\n--" + boundary + "--\r\n"
	}
	req := func(ct, body string) *http.Request {
		r := httptest.NewRequest("POST", "/v1/videos", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		return r
	}
	ct1, b1 := form("aaa", "a cat")
	ct2, b2 := form("bbb", "a cat")
	ct3, b3 := form("ccc", "a dog")
	require.Equal(t, fingerprint(req(ct1, b1), []byte(b1)), fingerprint(req(ct2, b2), []byte(b2)), "the boundary does not matter")
	require.NotEqual(t, fingerprint(req(ct1, b1), []byte(b1)), fingerprint(req(ct3, b3), []byte(b3)))
	require.NotEqual(t, fingerprint(req("application/json", `{}`), []byte(`{}`)),
		fingerprint(httptest.NewRequest("POST", "/v1/other", nil), []byte(`{}`)), "the path counts")
}

func TestIdempotencySweepsExpiredKeys(t *testing.T) {
	t.Parallel()
	s, h := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		wire.WriteJSON(w, http.StatusOK, map[string]string{"id": "x"})
	})
	base := time.Now()
	var now atomic.Int64
	now.Store(base.UnixNano())
	s.idem.now = func() time.Time { return time.Unix(0, now.Load()) }
	post(h, "old", `{}`)
	now.Store(base.Add(25 * time.Hour).UnixNano())
	post(h, "new", `{}`) // triggers the sweep (more than 10 min since the last)
	// Looking the key up as of before its expiry finds it until the sweep deleted it.
	early := base.Add(time.Hour)
	require.Eventually(t, func() bool {
		prior, err := s.idem.store.BeginIdempotency(context.Background(), &store.IdempotencyRecord{KeyID: "k1", Key: "old",
			Fingerprint: "probe", CreatedAt: early, LockedUntil: early, ExpiresAt: early.Add(time.Hour)}, early)
		return err == nil && prior == nil
	}, 5*time.Second, 10*time.Millisecond, "the expired key was swept")
	w := post(h, "old", `{}`)
	require.Empty(t, w.Header().Get("Idempotent-Replayed"), "an expired key is free again")
}
