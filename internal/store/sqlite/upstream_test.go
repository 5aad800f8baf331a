package sqlite

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// KeyLoad runs on every create of an upstream task: it must use its partial index.
func TestKeyLoadUsesIndex(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+keyLoadSQL, "ark", "seedance-1-0-pro")
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(plan, "\n"), "tasks_key_load_idx")
}
