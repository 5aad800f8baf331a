package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func idemKey(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }

func TestIdempotencyReplayAndMismatch(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m"})
	body := `{"model":"seedance-1-0-pro","input":{"prompt":"only once"}}`

	var first, second jobAnswer
	resp1, raw1 := g.call("POST", "/v1/jobs", "", body, idemKey("order-42"), &first)
	require.Equal(t, http.StatusOK, resp1.StatusCode, "%s", raw1)
	require.Empty(t, resp1.Header.Get("Idempotent-Replayed"))
	resp2, raw2 := g.call("POST", "/v1/jobs", "", body, idemKey("order-42"), &second)
	require.Equal(t, http.StatusOK, resp2.StatusCode)
	require.Equal(t, "true", resp2.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first.ID, second.ID, "the same task")
	require.Equal(t, string(raw1), string(raw2), "the same answer, byte for byte")
	require.Equal(t, resp1.Header.Get("Content-Type"), resp2.Header.Get("Content-Type"))

	var list struct {
		Data []jobAnswer `json:"data"`
	}
	g.call("GET", "/v1/jobs", "", "", nil, &list)
	require.Len(t, list.Data, 1, "one task for two calls")

	// The same key with another body is refused, naming the header.
	var e jobAnswer
	resp, raw := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"something else"}}`, idemKey("order-42"), &e)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	require.Equal(t, "Idempotency-Key", e.Error.Field)
	require.Contains(t, e.Error.Message, "different request body")

	// Keys are per API key: another key may use the same one for its own task.
	var other jobAnswer
	resp, _ = g.call("POST", "/v1/jobs", keyB, body, idemKey("order-42"), &other)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEqual(t, first.ID, other.ID)

	// A rejected create is replayed too (it is the answer to that body), a new key creates anew.
	bad := `{"model":"seedance-1-0-pro","input":{"duration":5}}` // no prompt
	r1, b1 := g.call("POST", "/v1/jobs", "", bad, idemKey("bad-1"), nil)
	r2, b2 := g.call("POST", "/v1/jobs", "", bad, idemKey("bad-1"), nil)
	require.Equal(t, http.StatusBadRequest, r1.StatusCode)
	require.Equal(t, http.StatusBadRequest, r2.StatusCode)
	require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(b1), string(b2))

	// A key that is not printable ASCII or too long is a 400 naming it.
	resp, raw = g.call("POST", "/v1/jobs", "", body, idemKey(strings.Repeat("k", 300)), &e)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "Idempotency-Key", e.Error.Field)
}

func TestIdempotencyArkShape(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m"})
	path := "/api/v3/contents/generations/tasks"
	var a, b map[string]any
	body := `{"model":"seedance-1-0-pro-250528","content":[{"type":"text","text":"ark once"}]}`
	g.call("POST", path, "", body, idemKey("ark-1"), &a)
	resp, _ := g.call("POST", path, "", body, idemKey("ark-1"), &b)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	require.Equal(t, a["id"], b["id"])

	var e struct {
		Error struct {
			Code, Message, Param string
		} `json:"error"`
	}
	resp, raw := g.call("POST", path, "", `{"model":"seedance-1-0-pro-250528","content":[{"type":"text","text":"other"}]}`, idemKey("ark-1"), &e)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	require.Equal(t, "Idempotency-Key", e.Error.Param, "Ark's error shape: %s", raw)
}
