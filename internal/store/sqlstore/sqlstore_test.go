package sqlstore

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/task"
)

// The claim's status term is spelled out in SQL; keep it in step with the
// domain (each adapter checks its partial index spells it the same).
func TestLiveStatusMatchesDomain(t *testing.T) {
	t.Parallel()
	var inSQL []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(LiveStatus, -1) {
		inSQL = append(inSQL, m[1])
	}
	var terminal []string
	for _, st := range task.Statuses {
		if st.Terminal() {
			terminal = append(terminal, string(st))
		}
	}
	slices.Sort(inSQL)
	slices.Sort(terminal)
	require.Equal(t, terminal, inSQL)
}

func TestPageLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{-5: 20, 0: 20, 1: 1, 20: 20, 999: 999, 1000: 1000, 1001: 1000, 1 << 30: 1000} {
		require.Equal(t, want, PageLimit(in), "PageLimit(%d)", in)
	}
}

// UpdateTaskSQL writes every column but id and created_at, and numbers them
// as TaskArgs orders them.
func TestUpdateTaskSQL(t *testing.T) {
	t.Parallel()
	require.Contains(t, UpdateTaskSQL, "status = "+TaskArgStatus+",")
	require.Contains(t, UpdateTaskSQL, "progress = "+TaskArgProgress+",")
	require.Contains(t, UpdateTaskSQL, "updated_at = "+TaskArgUpdatedAt+",")
	require.Contains(t, UpdateTaskSQL, "version = version + 1")
	require.Contains(t, UpdateTaskSQL, "prompt_lower = $28, request_id = $29 WHERE id = $1 AND version = "+TaskArgVersion)
	require.NotContains(t, UpdateTaskSQL, "created_at =")
	args, err := TaskArgs(&task.Task{ID: "x", Status: task.StatusRunning, Progress: 7}, 3)
	require.NoError(t, err)
	require.Len(t, args, TaskArgCount)
	require.Equal(t, "running", args[5])
	require.Equal(t, 7, args[20])
	require.EqualValues(t, 3, args[21])
}
