package sandbox

import (
	"os"
	"path/filepath"
	"syscall"
)

// renderDirPattern names a render's temporary directory in WorkDir.
const renderDirPattern = "sandbox-render-*"

// claimWorkDir removes the render directories a crashed process left in
// WorkDir (a render removes its own when it ends, but not when the process
// dies), then marks WorkDir as used by this process. The mark is a shared
// lock on WorkDir/sandbox.lock, held as long as the returned file is open:
// a starting sandbox sweeps only when it can lock the file exclusively, so
// never while another live process renders there.
func (p *Provider) claimWorkDir() *os.File {
	f, err := os.OpenFile(filepath.Join(p.cfg.WorkDir, "sandbox.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		p.log.Warn("render directories of earlier runs are not swept", "dir", p.cfg.WorkDir, "err", err)
		return nil
	}
	fd := int(f.Fd())
	if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		p.sweepRenderDirs()
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		p.log.Warn("cannot mark the render directory as used", "dir", p.cfg.WorkDir, "err", err)
	}
	return f
}

func (p *Provider) sweepRenderDirs() {
	dirs, err := filepath.Glob(filepath.Join(p.cfg.WorkDir, renderDirPattern))
	if err != nil {
		return // only a malformed pattern fails
	}
	removed := 0
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			p.log.Warn("cannot remove an old render directory", "dir", d, "err", err)
		} else {
			removed++
		}
	}
	if removed > 0 {
		p.log.Info("removed render directories left by an earlier run", "count", removed, "dir", p.cfg.WorkDir)
	}
}
