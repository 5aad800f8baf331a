package arkemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/task"
)

// rawCreate posts a create and returns the transport error, if any.
func rawCreate(t *testing.T, b *bundle) (*http.Response, []byte, error) {
	t.Helper()
	body, err := json.Marshal(textBody(pro10, "x", nil))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, b.base+"/contents/generations/tasks", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := b.http.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       arkemu.Fault
		wantTask    bool // the upstream task exists afterwards
		check       func(t *testing.T, resp *http.Response, body []byte, err error)
		minDuration time.Duration
	}{
		{
			name:  "429 with code and Retry-After",
			fault: arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultHTTPError, Status: 429, Code: "ServerOverloaded", RetryAfter: 2 * time.Second},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
				require.Equal(t, "2", resp.Header.Get("Retry-After"))
				require.Contains(t, string(body), `"code":"ServerOverloaded"`)
				require.Contains(t, string(body), `"type":"TooManyRequests"`)
			},
		},
		{
			name:  "500 by default",
			fault: arkemu.Fault{Kind: arkemu.FaultHTTPError},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
				require.Contains(t, string(body), `"code":"InternalServiceError"`)
			},
		},
		{
			name:  "code alone picks its status",
			fault: arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultHTTPError, Code: "AccountOverdueError"},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusForbidden, resp.StatusCode)
			},
		},
		{
			name:        "slow answer",
			fault:       arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultSlow, Delay: 100 * time.Millisecond},
			wantTask:    true,
			minDuration: 100 * time.Millisecond,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			},
		},
		{
			name:  "dropped connection",
			fault: arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultDrop},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.Error(t, err)
			},
		},
		{
			name:     "created, then the connection drops",
			fault:    arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultDropAfter},
			wantTask: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.Error(t, err)
			},
		},
		{
			name:     "malformed JSON",
			fault:    arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultMalformedJSON},
			wantTask: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.False(t, json.Valid(body), "%s", body)
			},
		},
		{
			name:     "truncated JSON",
			fault:    arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultTruncatedJSON},
			wantTask: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.False(t, json.Valid(body), "%s", body)
				require.True(t, strings.HasPrefix(string(body), `{"id":"cgt-`), "%s", body)
			},
		},
		{
			name:     "another key's fault does not apply",
			fault:    arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultHTTPError, APIKey: otherKey},
			wantTask: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			},
		},
		{
			name:     "another operation's fault does not apply",
			fault:    arkemu.Fault{Op: arkemu.OpGet, Kind: arkemu.FaultDrop},
			wantTask: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, arkemu.Options{}, true)
			b.srv.InjectFault(tc.fault)
			start := time.Now()
			resp, body, err := rawCreate(t, b)
			require.GreaterOrEqual(t, time.Since(start), tc.minDuration)
			tc.check(t, resp, body, err)
			if tc.wantTask {
				require.Len(t, b.srv.CreatedIDs(), 1)
			} else {
				require.Empty(t, b.srv.CreatedIDs())
			}
			// Faults hit once by default: the next call is normal.
			resp, _, err = rawCreate(t, b)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestFaultCountAndProbability(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	id := b.create(testKey, textBody(pro10, "x", nil))

	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpGet, Kind: arkemu.FaultHTTPError, Status: 503, Count: 2})
	path := "/contents/generations/tasks/" + id
	require.Equal(t, 503, b.do(http.MethodGet, path, testKey, nil).status)
	require.Equal(t, 503, b.do(http.MethodGet, path, testKey, nil).status)
	require.Equal(t, 200, b.do(http.MethodGet, path, testKey, nil).status)

	// Probability 1 without a count: every call, until cleared.
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpList, Kind: arkemu.FaultHTTPError, Probability: 1})
	for range 5 {
		require.Equal(t, 500, b.do(http.MethodGet, "/contents/generations/tasks", testKey, nil).status)
	}
	b.srv.ClearFaults()
	require.Equal(t, 200, b.do(http.MethodGet, "/contents/generations/tasks", testKey, nil).status)

	// Probability 0.5: some calls hit, some not.
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpGet, Kind: arkemu.FaultHTTPError, Probability: 0.5})
	hits := 0
	for range 200 {
		if b.do(http.MethodGet, path, testKey, nil).status == 500 {
			hits++
		}
	}
	require.Greater(t, hits, 40)
	require.Less(t, hits, 160)
}

func TestFailedTasks(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	marked := b.create(testKey, textBody(pro10, "x [ark:fail=OutputVideoSensitiveContentDetected.PolicyViolation]", nil))
	b.srv.FailNext("InternalServiceError")
	next := b.create(testKey, textBody(pro10, "y", nil))
	fine := b.create(testKey, textBody(pro10, "z", nil))
	b.advance(time.Hour)

	for id, code := range map[string]string{
		marked: "OutputVideoSensitiveContentDetected.PolicyViolation",
		next:   "InternalServiceError",
	} {
		got := b.get(testKey, id)
		require.Equal(t, "failed", got["status"])
		e := got["error"].(map[string]any)
		require.Equal(t, code, e["code"])
		require.NotEmpty(t, e["message"])
		require.NotContains(t, got, "usage", "failed tasks are not billed")
		require.NotContains(t, got, "content")
	}
	require.Equal(t, "succeeded", b.status(fine), "FailNext applies to one task")
}

func TestLyingCallbacks(t *testing.T) {
	t.Parallel()
	sink := newCallbackSink(t, nil)
	b := setup(t, fastCallbacks(), false)
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpCallback, Kind: arkemu.FaultLieStatus, Count: 2})
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpCallback, Kind: arkemu.FaultLieStatus, CallbackStatus: task.StatusExpired})
	id := b.create(testKey, textBody(pro10, "x", map[string]any{"callback_url": sink.srv.URL}))
	b.waitStatus(id, "succeeded")
	require.Eventually(t, func() bool { return len(sink.statuses()) == 3 }, 5*time.Second, 5*time.Millisecond)
	// queued and running claim succeeded; succeeded claims expired.
	require.Equal(t, []string{"succeeded", "succeeded", "expired"}, sink.statuses())
	require.Equal(t, "succeeded", b.status(id), "the task itself is unaffected")
}

func TestDroppedAndSlowCallbacks(t *testing.T) {
	t.Parallel()
	sink := newCallbackSink(t, nil)
	b := setup(t, fastCallbacks(), false)
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpCallback, Kind: arkemu.FaultDrop})
	b.srv.InjectFault(arkemu.Fault{Op: arkemu.OpCallback, Kind: arkemu.FaultSlow, Delay: 50 * time.Millisecond})
	id := b.create(testKey, textBody(pro10, "x", map[string]any{"callback_url": sink.srv.URL}))
	b.waitStatus(id, "succeeded")
	require.Eventually(t, func() bool { return len(sink.statuses()) == 2 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"running", "succeeded"}, sink.statuses(), "the queued callback was dropped")
}
