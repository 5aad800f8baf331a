package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A store that cannot be opened stops `seedgate serve` with one line naming
// the setting and the cause, and exit code 1 (no panic, no stack).
func TestBadStoreExitsWithOneLine(t *testing.T) {
	corrupt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "seedgate.db"), []byte(strings.Repeat("not a database header ", 200)), 0o644))
	fileDir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.WriteFile(fileDir, []byte("a file, not a directory"), 0o644))

	for _, c := range []struct {
		name, setting, cause string
		env                  []string
	}{
		{"corrupt sqlite", "SEEDGATE_DATA_DIR", "file is not a database", []string{"SEEDGATE_DATA_DIR=" + corrupt}},
		{"data dir is a file", "SEEDGATE_DATA_DIR", "not a directory", []string{"SEEDGATE_DATA_DIR=" + fileDir}},
		{"postgres unreachable", "SEEDGATE_DATABASE_URL", "connection refused", []string{"SEEDGATE_DATA_DIR=" + t.TempDir(),
			"SEEDGATE_DATABASE_URL=postgres://seedgate:secret-pw@127.0.0.1:1/seedgate?connect_timeout=5"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve")
			cmd.Env = append(os.Environ(), append(c.env, "SEEDGATE_LISTEN=127.0.0.1:0")...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "serve did not fail: %v\n%s", err, out)
			require.Equal(t, 1, ee.ExitCode(), "%s", out)
			text := strings.TrimRight(string(out), "\n")
			require.NotContains(t, text, "\n", "one line, got:\n%s", out)
			require.NotContains(t, text, "panic")
			require.True(t, strings.HasPrefix(text, "seedgate: "+c.setting), "names %s: %s", c.setting, text)
			require.Contains(t, text, c.cause)
			require.NotContains(t, text, "secret-pw", "the password is not printed")
		})
	}
}
