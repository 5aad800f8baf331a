package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofrs/flock"
)

// lockFile is the file in the data dir whose lock one serving process holds.
const lockFile = "seedgate.lock"

// lockDataDir takes the data dir for this process alone (a SQLite gateway): a
// second `seedgate serve` on it fails. The lock goes with the process, however
// it ends.
func lockDataDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("SEEDGATE_DATA_DIR %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockFile)
	l := flock.New(path)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("SEEDGATE_DATA_DIR %s: lock %s: %w", dir, path, err)
	}
	if !ok {
		return nil, fmt.Errorf("the data dir %s is in use by another seedgate process (it holds %s): a SQLite gateway has its data dir to itself", dir, path)
	}
	return l.Unlock, nil
}

// within reports whether file lies in dir (or below): then the lock on dir
// makes this process the database's only one.
func within(dir, file string) bool {
	d, err1 := filepath.Abs(dir)
	f, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
