package ark

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeAPIError(t *testing.T) {
	t.Parallel()
	code, msg, param, ok := decodeAPIError([]byte(`{"error":{"code":"InvalidParameter","message":"bad duration","param":"duration","type":"BadRequest"}}`))
	require.True(t, ok)
	require.Equal(t, []string{"InvalidParameter", "bad duration", "duration"}, []string{code, msg, param})
	_, _, _, ok = decodeAPIError([]byte(`<html>502 Bad Gateway</html>`))
	require.False(t, ok)
}
