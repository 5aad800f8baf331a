package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/scheduler"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, time.Minute, 10*time.Millisecond, "timed out waiting for %s", what)
}

// hasWaiter reports whether tenant has a render waiting for a slot.
func (s *slots) hasWaiter(tenant string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[tenant] != nil
}

func TestSlotsTakeTurnsBetweenTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSlots(2)
	type grant struct {
		tenant  string
		release func()
	}
	granted := make(chan grant, 10)
	acquire := func(tenant string) {
		go func() {
			release, busy, err := s.acquire(ctx, tenant)
			if err == nil && !busy {
				granted <- grant{tenant, release}
			}
		}()
		waitFor(t, tenant+" to wait", func() bool { return s.hasWaiter(tenant) })
	}

	// Tenant a takes both slots and queues a third render; a fourth is told to come back.
	relA1, busy, err := s.acquire(ctx, "a")
	require.NoError(t, err)
	require.False(t, busy)
	relA2, _, _ := s.acquire(ctx, "a")
	acquire("a")
	_, busy, err = s.acquire(ctx, "a")
	require.NoError(t, err)
	require.True(t, busy, "a tenant has one render waiting at most")

	// b and c arrive after a's waiter; the freed slots go to them first.
	acquire("b")
	acquire("c")
	relA1()
	relA1() // twice: no extra slot
	g := receive(t, granted)
	require.Equal(t, "b", g.tenant)
	relA2()
	g2 := receive(t, granted)
	require.Equal(t, "c", g2.tenant)
	g.release()
	g3 := receive(t, granted)
	require.Equal(t, "a", g3.tenant)

	// A waiter whose context ends leaves the queue; the slot goes on to the next.
	cctx, cancel := context.WithCancel(ctx)
	errs := make(chan error, 1)
	go func() { _, _, err := s.acquire(cctx, "d"); errs <- err }()
	waitFor(t, "d to wait", func() bool { return s.hasWaiter("d") })
	acquire("e")
	cancel()
	require.ErrorIs(t, receive(t, errs), context.Canceled)
	require.False(t, s.hasWaiter("d"))
	g2.release()
	require.Equal(t, "e", receive(t, granted).tenant)
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// gatedFFmpeg writes an ffmpeg stand-in that, for a render of prompt P,
// records P in dir/starts and its pid in dir/pid-P, waits until the test
// writes to the FIFO dir/go-P (made here for each of names), then runs the
// real ffmpeg with the same arguments.
func gatedFFmpeg(t *testing.T, names ...string) (path, dir string) {
	t.Helper()
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir = t.TempDir()
	for _, n := range names {
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "go-"+n), 0o600))
	}
	script := fmt.Sprintf(`#!/bin/sh
name=$(cat prompt.txt)
echo "$name" >> %[1]s/starts
echo $$ > %[1]s/pid-"$name".tmp && mv %[1]s/pid-"$name".tmp %[1]s/pid-"$name"
read line < %[1]s/go-"$name"
exec %[2]s "$@"
`, dir, real)
	path = filepath.Join(dir, "ffmpeg")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path, dir
}

// starts lists the renders started so far, in order.
func starts(dir string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, "starts"))
	return strings.Fields(string(b))
}

// letGo lets the gated render of name run.
func letGo(t *testing.T, dir, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "go-"+name), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("go\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// pidOf is the process of name's gated render.
func pidOf(t *testing.T, dir, name string) int {
	t.Helper()
	var pid int
	waitFor(t, "the render of "+name+" to start", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "pid-"+name))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// rig is a sandbox run by a real scheduler on a SQLite store.
type rig struct {
	p     *Provider
	store store.Store
}

func startRig(t *testing.T, cfg Config, lease time.Duration) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(t.TempDir())
	require.NoError(t, err)
	cfg.WorkDir = t.TempDir()
	p := New(cfg, blobs, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s := scheduler.New(scheduler.Config{Store: st, Providers: map[string]provider.Provider{Name: p}, Hub: events.NewHub(),
		Owner: "test", Workers: 4, Lease: lease, PollInterval: 20 * time.Millisecond})
	s.Start(ctx)
	t.Cleanup(func() {
		cancel() // kills the renders still gated
		_ = s.Stop(context.Background())
	})
	return &rig{p: p, store: st}
}

// add stores a sandbox task of tenant whose run is over: its next check renders.
func (r *rig) add(t *testing.T, tenant, id, prompt string, expiresIn time.Duration) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	dispatched := now.Add(-time.Minute)
	tk := &task.Task{ID: id, Tenant: tenant, Dialect: "jobs", Model: "seedance-1-0-lite-t2v", ModelAlias: "seedance-1-0-lite-t2v",
		Status: task.StatusRunning, Provider: Name, UpstreamID: UpstreamID(id), DispatchedAt: &dispatched,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(expiresIn), NextCheckAt: &now,
		Request: task.Request{Prompt: prompt, Resolution: task.Res480p, Duration: task.Int(2)}}
	m, _, _ := task.LookupModel(tk.Model)
	require.NoError(t, m.Normalize(&tk.Request))
	require.NoError(t, r.store.CreateTask(context.Background(), tk))
}

func (r *rig) status(t *testing.T, id string) task.Status {
	t.Helper()
	got, err := r.store.GetTask(context.Background(), id)
	require.NoError(t, err)
	return got.Status
}

// Tenant a floods the renderer; tenant b's one render starts as soon as a
// slot frees, before a's backlog.
func TestRendersSharedFairly(t *testing.T) {
	t.Parallel()
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("a%d", i))
	}
	names = append(names, "b0")
	ffmpeg, dir := gatedFFmpeg(t, names...)
	r := startRig(t, Config{FFmpegPath: ffmpeg, MaxRenders: 2}, time.Minute)
	for _, n := range names[:20] {
		r.add(t, "a", "task-"+n, n, time.Hour)
	}
	waitFor(t, "two renders of a", func() bool { return len(starts(dir)) == 2 })
	waitFor(t, "a render of a waiting", func() bool { return r.p.renders.hasWaiter("a") })

	r.add(t, "b", "task-b0", "b0", time.Hour)
	waitFor(t, "b's render waiting", func() bool { return r.p.renders.hasWaiter("b") })
	first := starts(dir)[0]
	letGo(t, dir, first)
	waitFor(t, "a third render", func() bool { return len(starts(dir)) == 3 })
	require.Equal(t, "b0", starts(dir)[2], "the freed slot goes to the tenant that waited, not to the flood")
	waitFor(t, "a's first render to succeed", func() bool { return r.status(t, "task-"+first) == task.StatusSucceeded })
	letGo(t, dir, "b0")
	waitFor(t, "b's render to succeed", func() bool { return r.status(t, "task-b0") == task.StatusSucceeded })
}

// A render is killed when its task expires or is deleted meanwhile.
func TestRenderKilledWhenTaskEnds(t *testing.T) {
	t.Parallel()
	ffmpeg, dir := gatedFFmpeg(t, "expiring", "deleted")
	r := startRig(t, Config{FFmpegPath: ffmpeg}, 600*time.Millisecond)

	r.add(t, "a", "task-expiring", "expiring", 2*time.Second)
	pid := pidOf(t, dir, "expiring")
	waitFor(t, "the task to expire", func() bool { return r.status(t, "task-expiring") == task.StatusExpired })
	require.True(t, processGone(pid), "the render of the expired task was killed")

	r.add(t, "a", "task-deleted", "deleted", time.Hour)
	pid = pidOf(t, dir, "deleted")
	require.NoError(t, r.store.DeleteTask(context.Background(), "task-deleted"))
	waitFor(t, "the render to be killed", func() bool { return processGone(pid) })
}

// A render past its time limit is killed, and the task fails with RenderTimeout.
func TestRenderTimeout(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	ffmpeg := filepath.Join(dir, "ffmpeg")
	require.NoError(t, os.WriteFile(ffmpeg, []byte("#!/bin/sh\necho $$ > "+dir+"/pid.tmp && mv "+dir+"/pid.tmp "+dir+"/pid\nexec sleep 600\n"), 0o755))
	blobs, err := disk.New(t.TempDir())
	require.NoError(t, err)
	clock := &fakeClock{now: t0.Add(time.Hour)}
	p := New(Config{Clock: clock.Now, WorkDir: t.TempDir(), FFmpegPath: ffmpeg, RenderTimeout: 300 * time.Millisecond}, blobs, nil, nil)

	tk := newTask("slow", "seedance-1-0-lite-t2v", task.Request{Prompt: "a cat", Resolution: task.Res480p, Duration: task.Int(2)})
	start := time.Now()
	u, err := p.Check(context.Background(), tk)
	require.NoError(t, err)
	require.Equal(t, task.StatusFailed, u.Status)
	require.Equal(t, "RenderTimeout", u.Error.UpstreamCode)
	require.Contains(t, u.Error.Message, "300ms")
	require.Less(t, time.Since(start), 30*time.Second)
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.True(t, processGone(pid), "ffmpeg was killed")

	// The cap grows with the video: pixels × frames beyond 5 s of 720p.
	long := newTask("long", "seedance-2-0", task.Request{Prompt: "p", Resolution: task.Res4K, Duration: task.Int(15)})
	w, h, frames, _, err := task.Models()[5].Output(&long.Request, 0, 0)
	require.NoError(t, err)
	require.Equal(t, time.Duration(float64(300*time.Millisecond)*float64(w*h*frames)/(1280*720*120)), p.renderTimeout(long))
	require.Equal(t, 300*time.Millisecond, p.renderTimeout(tk), "never less than the setting")
}

// Render directories a crashed process left are removed when a sandbox
// starts on the directory, unless another live sandbox uses it.
func TestLeftoverRenderDirsSwept(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	leftover := func(name string) string {
		d := filepath.Join(work, name)
		require.NoError(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "sub", "video.mp4"), []byte("partial"), 0o600))
		return d
	}
	old1, old2 := leftover("sandbox-render-123"), leftover("sandbox-render-456")
	other := leftover("mirror-789") // not the sandbox's

	p := New(Config{WorkDir: work}, nil, nil, nil)
	require.NoDirExists(t, old1)
	require.NoDirExists(t, old2)
	require.DirExists(t, other)

	// While p lives, a second sandbox on the same directory leaves p's renders alone.
	live := leftover("sandbox-render-live")
	p2 := New(Config{WorkDir: work}, nil, nil, nil)
	require.DirExists(t, live)
	require.NoError(t, p.workLock.Close()) // the processes end
	require.NoError(t, p2.workLock.Close())
	New(Config{WorkDir: work}, nil, nil, nil)
	require.NoDirExists(t, live)
}
