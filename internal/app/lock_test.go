package app

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLockDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	unlock, err := lockDataDir(dir)
	require.NoError(t, err)
	_, err = lockDataDir(dir)
	require.EqualError(t, err, "the data dir "+dir+" is in use by another seedgate process (it holds "+
		filepath.Join(dir, lockFile)+"): a SQLite gateway has its data dir to itself")
	require.NoError(t, unlock())
	unlock, err = lockDataDir(dir)
	require.NoError(t, err, "free again once released")
	require.NoError(t, unlock())
}

func TestWithin(t *testing.T) {
	for file, want := range map[string]bool{
		"/data/seedgate.db":       true,
		"/data/sub/seedgate.db":   true,
		"/data/../data/x.db":      true,
		"/elsewhere/seedgate.db":  false,
		"/data-other/seedgate.db": false,
		"/..data/x.db":            false,
	} {
		require.Equal(t, want, within("/data", file), file)
	}
}
