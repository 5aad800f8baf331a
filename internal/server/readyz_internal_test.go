package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/dialect/ark"
	"github.com/seedgate/seedgate/internal/dialect/jobs"
	"github.com/seedgate/seedgate/internal/dialect/openai"
	"github.com/seedgate/seedgate/internal/dialect/openrouter"
	"github.com/seedgate/seedgate/internal/dialect/responses"
	"github.com/seedgate/seedgate/internal/dialect/seedance"
	"github.com/seedgate/seedgate/internal/dialect/videos"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
)

// downStore is a store whose database is unreachable, as pgx says it.
type downStore struct{ store.Store }

func (downStore) Ping(context.Context) error {
	return errors.New("failed to connect to `user=seedgate database=prod`: 10.1.2.3:5432 (db.internal): dial error: connection refused")
}

// /readyz tells everyone whether the gateway is ready, and only the admin key
// what failed: the store's error names database users, hosts and ports.
func TestReadyzDetailsOnlyForTheAdminKey(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	const admin = "readyz-admin-key-0123"
	keyring := auth.NewKeyring(auth.KeyringConfig{Store: st, Static: []string{"client-key"}, AdminKey: admin})
	s := New(Config{Keyring: keyring, FFmpegPath: "ffmpeg", FFprobePath: "ffprobe"}, nil, downStore{st}, slog.New(slog.DiscardHandler))

	get := func(key string) (int, string) {
		r := httptest.NewRequest("GET", "/readyz", nil)
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	for _, key := range []string{"", "client-key", "wrong"} {
		code, body := get(key)
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.JSONEq(t, `{"status":"not ready"}`, body, "key %q", key)
	}
	code, body := get(admin)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "user=seedgate database=prod")
}

// An internal error is logged with its request id and answered in every
// dialect's shape with the id and without the cause (paths, hosts).
func TestInternalErrorsLoggedNotSent(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := &Server{log: log}
	cause := errors.New("blob put uploads/f1: mkdir /srv/seedgate/data/files/uploads: permission denied")
	for name, write := range map[string]func(http.ResponseWriter, *http.Request, error){
		"jobs": jobs.WriteError, "ark": ark.WriteError, "openai": openai.WriteError,
		"videos": videos.WriteError, "seedance": seedance.WriteError, "responses": responses.WriteError,
		"openrouter": openrouter.WriteError,
	} {
		logs.Reset()
		h := s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { write(w, r, cause) }))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/x", nil))
		rid := w.Header().Get("X-Request-Id")
		require.GreaterOrEqual(t, w.Code, 500, name)
		require.Contains(t, w.Body.String(), rid, name)
		require.NotContains(t, w.Body.String(), "/srv/seedgate", name)
		require.True(t, strings.Contains(logs.String(), rid) && strings.Contains(logs.String(), "permission denied"), "%s: %s", name, logs.String())
	}
}
