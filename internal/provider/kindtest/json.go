package kindtest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Field reads a string at path in a JSON object ("error", "param").
func Field(t testing.TB, body []byte, path ...string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s: no object at %q", body, p)
		v = m[p]
	}
	s, ok := v.(string)
	require.True(t, ok, "%s: %v is no string", body, path)
	return s
}
