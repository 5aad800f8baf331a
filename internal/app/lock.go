package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// lockFile is the file in the data dir whose lock one serving process holds.
const lockFile = "seedgate.lock"

// lockDataDir takes the data dir for this process alone (a SQLite gateway),
// and the SQLite file's directory when that is elsewhere: a second `seedgate
// serve` on it fails, and so whoever holds the lock knows that every process
// that ran there before is dead. The lock goes with the process, however it
// ends.
func lockDataDir(dataDir, dbDir string) (unlock func() error, err error) {
	var held []*flock.Flock
	unlock = func() error {
		var errs []error
		for _, l := range held {
			errs = append(errs, l.Unlock())
		}
		return errors.Join(errs...)
	}
	dirs := []string{dataDir}
	if a, b := absDir(dataDir), absDir(dbDir); a != b {
		dirs = append(dirs, dbDir)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			_ = unlock()
			return nil, fmt.Errorf("SEEDGATE_DATA_DIR %s: %w", dir, err)
		}
		path := filepath.Join(dir, lockFile)
		l := flock.New(path)
		ok, err := l.TryLock()
		if err != nil {
			_ = unlock()
			return nil, fmt.Errorf("SEEDGATE_DATA_DIR %s: lock %s: %w", dir, path, err)
		}
		if !ok {
			_ = unlock()
			return nil, fmt.Errorf("the data dir %s is in use by another seedgate process (it holds %s): a SQLite gateway has its data dir to itself", dir, path)
		}
		held = append(held, l)
	}
	return unlock, nil
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return filepath.Clean(dir)
}
