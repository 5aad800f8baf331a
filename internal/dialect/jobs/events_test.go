package jobs

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/service/servicetest"
	"github.com/seedgate/seedgate/internal/task"
)

// A quiet stream sends keep-alive comments, and one for a finished job the
// client has fully seen answers 204.
func TestEventsKeepAlive(t *testing.T) {
	t.Parallel()
	st := servicetest.SQLite(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for id, status := range map[string]task.Status{"cgt-quiet": task.StatusQueued, "cgt-done": task.StatusSucceeded} {
		require.NoError(t, st.CreateTask(context.Background(), &task.Task{ID: id, Dialect: Dialect, Model: "seedance-1-0-pro",
			ModelAlias: "seedance-1-0-pro", Status: status, Request: task.Request{Prompt: "p"}, Provider: "sandbox",
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	h := New(service.New(service.Config{Store: st}), Options{KeepAlive: 50 * time.Millisecond})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		h.Events(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{KeyID: "k"})))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/jobs/cgt-quiet/events", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	keepAlives := 0
	for keepAlives < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == ": keep-alive" {
			keepAlives++
		}
	}
	require.Equal(t, 3, keepAlives, "%v", lines)
	require.Equal(t, "retry: 2000", lines[0])
	require.Contains(t, strings.Join(lines, "\n"), "id: 1000\nevent: status\ndata: {\"id\":\"cgt-quiet\"")

	resp2, err := http.Get(srv.URL + "/v1/jobs/cgt-done/events?last_event_id=3100")
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusNoContent, resp2.StatusCode)
}
