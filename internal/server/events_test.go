package server_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowSandbox gives the stream time to see every phase: 1 s queued, 2.5 s running.
var slowSandbox = map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1s", "SEEDGATE_SANDBOX_RUN_TIME": "2500ms"}

func TestEventsQueuedRunningProgressSucceeded(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, slowSandbox)
	j := g.createJob(`"prompt":"events from start to end"`)
	s := g.openEvents(j.ID, "")
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", s.resp.Header.Get("Content-Type"))

	var (
		seen     []string // "status:queued", "status:running", "progress:…", "status:succeeded"
		lastID   int64
		progress []int
		final    jobAnswer
	)
	for {
		ev, _, ok := s.next(t)
		if !ok {
			break
		}
		id, err := strconv.ParseInt(ev.ID, 10, 64)
		require.NoError(t, err, "every event has a numeric id")
		require.Greater(t, id, lastID, "ids grow")
		lastID = id
		var job jobAnswer
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &job), "the data is the job: %s", ev.Data)
		require.Equal(t, j.ID, job.ID)
		switch ev.Type {
		case "status":
			seen = append(seen, "status:"+job.Output.Status)
		case "progress":
			seen = append(seen, "progress")
			progress = append(progress, job.Progress)
		default:
			t.Fatalf("unexpected event type %q", ev.Type)
		}
		final = job
	}
	require.Equal(t, "status:queued", seen[0], "the stream starts with the current state: %v", seen)
	require.Contains(t, seen, "status:running")
	require.Equal(t, "status:succeeded", seen[len(seen)-1], "and ends with the final event: %v", seen)
	require.NotEmpty(t, progress, "progress events while running: %v", seen)
	iRunning := indexOf(seen, "status:running")
	iProgress := indexOf(seen, "progress")
	require.Less(t, iRunning, iProgress, "running comes before its progress: %v", seen)
	for i := 1; i < len(progress); i++ {
		require.Greater(t, progress[i], progress[i-1], "progress only grows: %v", progress)
	}
	for _, p := range progress {
		require.LessOrEqual(t, p, 99, "never past 99 before success")
	}
	require.Equal(t, "succeeded", final.Status)
	require.Equal(t, 100, final.Progress)
	require.NotEmpty(t, final.Output.Videos)

	// A reconnect after the end (EventSource does that) is told there is no more: 204.
	again := g.openEvents(j.ID, strconv.FormatInt(lastID, 10))
	require.Equal(t, http.StatusNoContent, again.resp.StatusCode)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestEventsResumeAfterDisconnectNeverMissesTheEnd(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, slowSandbox)
	j := g.createJob(`"prompt":"resume me"`)

	// Read the first event, then drop the connection while the job is still queued.
	s := g.openEvents(j.ID, "")
	first, _, ok := s.next(t)
	require.True(t, ok)
	require.Equal(t, "status", first.Type)
	s.close()

	// The job finishes while nobody listens.
	require.Equal(t, "succeeded", g.waitJob(j.ID).Status)

	// Resuming with Last-Event-ID gets what was missed: the final state, at once.
	r := g.openEvents(j.ID, first.ID)
	require.Equal(t, http.StatusOK, r.resp.StatusCode)
	ev, _, ok := r.next(t)
	require.True(t, ok)
	require.Equal(t, "status", ev.Type)
	var job jobAnswer
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &job))
	require.Equal(t, "succeeded", job.Status)
	require.Greater(t, mustParse(t, ev.ID), mustParse(t, first.ID))
	_, _, ok = r.next(t)
	require.False(t, ok, "the stream ends after the final event")
}

func TestEventsResumeMidwayGetsOnlyNewEvents(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, slowSandbox)
	j := g.createJob(`"prompt":"resume midway"`)
	s := g.openEvents(j.ID, "")
	var last sseEvent
	for {
		ev, _, ok := s.next(t)
		require.True(t, ok)
		last = ev
		if ev.Type == "progress" {
			break
		}
	}
	s.close()

	r := g.openEvents(j.ID, last.ID)
	var types []string
	for {
		ev, _, ok := r.next(t)
		if !ok {
			break
		}
		require.Greater(t, mustParse(t, ev.ID), mustParse(t, last.ID), "nothing the client already has")
		types = append(types, ev.Type)
		last = ev
	}
	require.NotEmpty(t, types)
	require.Equal(t, "status", types[len(types)-1])
	var job jobAnswer
	require.NoError(t, json.Unmarshal([]byte(last.Data), &job))
	require.Equal(t, "succeeded", job.Status)
}

func TestEventsErrors(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "30s"})
	resp, body := g.call("GET", "/v1/jobs/cgt-nope/events", "", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", body)
	require.Contains(t, string(body), `"code":"not_found"`)

	// Another API key's tenant is the same here (static keys share it), so use an unknown key.
	resp, _ = g.call("GET", "/v1/jobs/cgt-nope/events", "wrong-key", "", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func mustParse(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

// A graceful shutdown ends open event streams and Prefer: wait holds at once
// instead of waiting for them (clients resume with Last-Event-ID elsewhere).
func TestShutdownEndsStreamsAndWaits(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m"})
	j := g.createJob(`"prompt":"never starts"`)
	s := g.openEvents(j.ID, "")
	_, _, ok := s.next(t)
	require.True(t, ok)

	require.Equal(t, 1, g.app.Hub.Subscribers(j.ID), "the stream waits on the job")
	waited := make(chan *http.Response, 1)
	go func() {
		resp, _ := g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=60"), nil)
		waited <- resp
	}()
	require.Eventually(t, func() bool { return g.app.Hub.Subscribers(j.ID) == 2 }, 30*time.Second, time.Millisecond,
		"the hold has begun")

	// Held up by the stream or the wait, Shutdown would run out of time and fail.
	require.NoError(t, g.app.Shutdown(30*time.Second))
	_, _, ok = s.next(t)
	require.False(t, ok, "the stream ended")
	select {
	case resp := <-waited:
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "wait=60", resp.Header.Get("Preference-Applied"))
	case <-time.After(5 * time.Second):
		t.Fatal("the Prefer: wait request did not end")
	}
}
