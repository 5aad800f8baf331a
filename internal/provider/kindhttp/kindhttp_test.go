package kindhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
)

func TestRetryAfter(t *testing.T) {
	require.Equal(t, 3*time.Second, kindhttp.RetryAfter("3"))
	require.Equal(t, 10*time.Minute, kindhttp.RetryAfter("86400"))
	require.Zero(t, kindhttp.RetryAfter("soon"))
	require.Zero(t, kindhttp.RetryAfter("-4"))
	d := kindhttp.RetryAfter(time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat))
	require.InDelta(t, 90, d.Seconds(), 2)
}

func TestMarker(t *testing.T) {
	require.Equal(t, "sg-cgt-1", kindhttp.Marker("cgt-1"))
	long := kindhttp.Marker(strings.Repeat("x", 300))
	require.Equal(t, long, kindhttp.Marker(strings.Repeat("x", 300)), "the same task, the same marker")
	require.LessOrEqual(t, len(long), 64)
}

func TestDo(t *testing.T) {
	var got http.Header
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"e":{"f":"Idempotency-Key"}}`))
		case "/limited":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"e":{"f":"x"}}`))
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer s.Close()
	var observed []int
	c := kindhttp.Client{
		DecodeError: func(data []byte) (code, param, message string, ok bool) {
			if strings.Contains(string(data), "Idempotency-Key") {
				return "conflict", "Idempotency-Key", "still running", true
			}
			return "rate_limited", "", "slow down", true
		},
		Observe: func(_, _, _ string, status int, _ time.Duration) { observed = append(observed, status) },
	}
	call := upstream.Call{Channel: &routing.Channel{Name: "c", BaseURL: s.URL + "/"}, Key: &routing.Key{ID: "k", Secret: "sk-1"}}
	ctx := context.Background()

	status, data, err := c.Do(ctx, call, kindhttp.Request{Op: "create", Method: "POST", Path: "/ok", Body: map[string]int{"a": 1}, Marker: "sg-t"})
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.JSONEq(t, `{"ok":true}`, string(data))
	require.Equal(t, "Bearer sk-1", got.Get("Authorization"))
	require.Equal(t, "sg-t", got.Get("Idempotency-Key"))
	require.Equal(t, "sg-t", got.Get("X-Client-Request-Id"))
	require.Equal(t, "application/json", got.Get("Content-Type"))

	// The same create still in flight upstream: not a refusal, an unknown outcome.
	_, _, err = c.Do(ctx, call, kindhttp.Request{Method: "POST", Path: "/busy", Marker: "sg-t"})
	ce := err.(*upstream.CallError)
	require.Zero(t, ce.Status)
	require.True(t, ce.Sent)
	require.Equal(t, 2*time.Second, ce.RetryAfter)

	_, _, err = c.Do(ctx, call, kindhttp.Request{Method: "GET", Path: "/limited"})
	ce = err.(*upstream.CallError)
	require.Equal(t, http.StatusTooManyRequests, ce.Status)
	require.True(t, ce.FromUpstream)
	require.Equal(t, "rate_limited", ce.Code)
	require.Equal(t, 7*time.Second, ce.RetryAfter)
	require.Equal(t, []int{200, 409, 429}, observed)
}
