package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// testGateway is a whole gateway process (app.Start) on a free port, with the
// sandbox provider, for the tests of events, Prefer: wait, webhooks and
// idempotency keys.
type testGateway struct {
	t    *testing.T
	url  string
	app  *app.App
	logs *syncBuffer
}

const (
	keyA = "gateway-key-a"
	keyB = "gateway-key-b"
)

func newTestGateway(t *testing.T, env map[string]string) *testGateway {
	t.Helper()
	all := map[string]string{
		"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": keyA + "," + keyB,
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "200ms", "SEEDGATE_SANDBOX_RUN_TIME": "500ms",
	}
	for k, v := range env {
		all[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return all[k] }, io.Discard)
	require.NoError(t, err)
	logs := &syncBuffer{}
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = a.Shutdown(5 * time.Second)
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	})
	return &testGateway{t: t, url: "http://" + a.Addr, app: a, logs: logs}
}

// call sends a request with key (keyA when ""), decodes a JSON answer into out
// (when not nil) and returns the response with its body read.
func (g *testGateway) call(method, path, key, body string, header http.Header, out any) (*http.Response, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+path, strings.NewReader(body))
	require.NoError(g.t, err)
	if key == "" {
		key = keyA
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	if out != nil {
		require.NoError(g.t, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
	return resp, data
}

type jobAnswer struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Progress int    `json:"progress"`
	Output   struct {
		Status string `json:"status"`
		Videos []struct {
			URL string `json:"url"`
		} `json:"videos"`
	} `json:"output"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// tiny keeps sandbox renders cheap: 2 s at 480p.
const tiny = `"resolution":"480p","duration":2`

// createJob creates a job from the fields of input (a JSON object's inside).
func (g *testGateway) createJob(fields string) jobAnswer {
	g.t.Helper()
	var j jobAnswer
	resp, body := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{`+fields+`,`+tiny+`}}`, nil, &j)
	require.Equal(g.t, http.StatusOK, resp.StatusCode, "%s", body)
	return j
}

func (g *testGateway) waitJob(id string) jobAnswer {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var j jobAnswer
		g.call("GET", "/v1/jobs/"+id, "", "", nil, &j)
		if j.Status != "processing" {
			return j
		}
		require.True(g.t, time.Now().Before(deadline), "job %s did not finish", id)
		time.Sleep(50 * time.Millisecond)
	}
}

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct {
	ID, Type string
	Data     string
}

// sseStream is an open event stream.
type sseStream struct {
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

func (g *testGateway) openEvents(id, lastEventID string) *sseStream {
	g.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", g.url+"/v1/jobs/"+id+"/events", nil)
	require.NoError(g.t, err)
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	g.t.Cleanup(func() { cancel(); resp.Body.Close() })
	return &sseStream{resp: resp, sc: bufio.NewScanner(resp.Body), cancel: cancel}
}

// next returns the next event, skipping comments; ok is false at the end of the stream.
func (s *sseStream) next(t *testing.T) (ev sseEvent, comments int, ok bool) {
	t.Helper()
	var data []string
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if data != nil || ev.ID != "" || ev.Type != "" {
				ev.Data = strings.Join(data, "\n")
				return ev, comments, true
			}
		case strings.HasPrefix(line, ":"):
			comments++
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case strings.HasPrefix(line, "retry: "):
		}
	}
	return ev, comments, false
}

func (s *sseStream) close() { s.cancel(); s.resp.Body.Close() }

// syncBuffer collects the gateway's log for a failing test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
