package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TakeRequest skips the fsync of its own commit only: the writer connection
// is back to synchronous=FULL afterwards, whatever happened.
func TestTakeRequestKeepsCommitsDurable(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	sync := func() int {
		var v int
		require.NoError(t, s.d.write.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&v))
		return v
	}
	require.Equal(t, 2, sync(), "FULL to begin with")
	w := base.Truncate(time.Minute)
	for range 3 {
		_, err := s.TakeRequest(t.Context(), "key_a", w, 2)
		require.NoError(t, err)
		require.Equal(t, 2, sync())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.TakeRequest(ctx, "key_a", w, 2)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 2, sync())
}
