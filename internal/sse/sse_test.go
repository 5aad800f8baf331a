package sse

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w, err := Start(rec, 2*time.Second)
	require.NoError(t, err)
	require.NoError(t, w.Event("1001", "status", []byte(`{"a":1}`)))
	require.NoError(t, w.Event("", "", []byte("two\nlines")))
	require.NoError(t, w.Event("x\ny", "bad\nname", []byte("z")))
	require.NoError(t, w.Comment("keep-alive"))
	require.Equal(t, "text/event-stream; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	require.True(t, rec.Flushed)
	require.Equal(t, "retry: 2000\n\n"+
		"id: 1001\nevent: status\ndata: {\"a\":1}\n\n"+
		"data: two\ndata: lines\n\n"+
		"id: xy\nevent: badname\ndata: z\n\n"+
		": keep-alive\n\n", rec.Body.String())
}
