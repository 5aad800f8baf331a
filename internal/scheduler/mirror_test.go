package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// fakeMirror hands each step to the test: the test sees the task as the step
// got it (claimed, leased) and says what the step found.
type fakeMirror struct {
	steps   chan *task.Task
	answers chan provider.Update
	thumbs  chan *task.Task // tasks a thumbnail was asked for, as recorded
}

func (m *fakeMirror) Step(ctx context.Context, t *task.Task) provider.Update {
	m.steps <- t
	return <-m.answers
}

func (m *fakeMirror) Thumbnail(ctx context.Context, t *task.Task) (*task.File, error) {
	m.thumbs <- t
	return &task.File{ID: "file-thumb", Kind: "image", Purpose: "output", ContentType: "image/jpeg", BlobKey: "results/" + t.ID + "/thumbnail.jpg",
		TaskID: t.ID, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}, nil
}

// A result left at upstream URLs is copied by a mirror step of its own: the
// task is claimed for it like any due work, stays running at 99% with the
// copy's problem shown until it works, and is never checked upstream again.
func TestMirrorIsAStepOfItsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.checkSteps = []task.Status{task.StatusSucceeded}
	m := &fakeMirror{steps: make(chan *task.Task), answers: make(chan provider.Update), thumbs: make(chan *task.Task)}
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": b.fake}, Hub: b.hub, Owner: "a",
		Workers: 4, Lease: time.Minute, PollInterval: 20 * time.Millisecond, CheckInterval: 5 * time.Millisecond, Mirror: m})
	b.addTask(t, "t1", time.Hour)
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	step := <-m.steps // the upstream succeeded: the mirror step claimed the task
	require.Equal(t, "https://up/up-1.mp4", step.Result.UpstreamVideoURL)
	require.Equal(t, "a", step.LeaseOwner, "claimed under a lease like any step")
	stored, err := b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, task.StatusRunning, stored.Status, "not succeeded before the copy exists")
	require.Equal(t, 99, stored.Progress)
	require.Empty(t, stored.Result.VideoFileID)
	require.EqualValues(t, 38800, stored.Usage.TotalTokens)

	m.answers <- provider.Update{Status: task.StatusRunning, Progress: 99, NextCheck: time.Millisecond,
		Error: &task.Error{Code: task.CodeUnavailable, Message: "copying failed (disk full); retrying"}}
	step = <-m.steps // retried as a step of its own
	require.Equal(t, task.CodeUnavailable, step.Error.Code, "the reason was recorded on the task")
	stored, err = b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, task.StatusRunning, stored.Status)
	require.Contains(t, stored.Error.Message, "disk full")

	res := *step.Result
	video := &task.File{ID: "file-video", Kind: "video", Purpose: "output", ContentType: "video/mp4", BlobKey: "results/t1/video.mp4",
		TaskID: "t1", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	m.answers <- provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: &res, Usage: step.Usage, Video: video}

	// The success is recorded before the thumbnail is made: clients get the
	// video without waiting for ffmpeg.
	asked := <-m.thumbs
	require.Equal(t, "file-video", asked.Result.VideoFileID)
	got, err := b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, task.StatusSucceeded, got.Status)
	require.Nil(t, got.Error)
	require.Equal(t, "file-video", got.Result.VideoFileID)
	require.EqualValues(t, 38800, got.Usage.TotalTokens)
	require.Eventually(t, func() bool {
		got, err = b.store.GetTask(context.Background(), "t1")
		return err == nil && got.Result.ThumbnailFileID == "file-thumb"
	}, 10*time.Second, 5*time.Millisecond, "the thumbnail is recorded on the task")
	require.Equal(t, task.StatusSucceeded, got.Status)
	for _, id := range []string{"file-video", "file-thumb"} {
		f, err := b.store.GetFile(context.Background(), id)
		require.NoError(t, err, id)
		require.Equal(t, "t1", f.TaskID)
	}
	b.fake.mu.Lock()
	require.Equal(t, 1, b.fake.checks["t1"], "one status check: the rest were mirror steps")
	b.fake.mu.Unlock()
}

// A copy that cannot work any more fails the task without a result.
func TestMirrorGivesUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.checkSteps = []task.Status{task.StatusSucceeded}
	m := &fakeMirror{steps: make(chan *task.Task, 1), answers: make(chan provider.Update, 1), thumbs: make(chan *task.Task)}
	m.answers <- provider.Update{Status: task.StatusFailed, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "ResultUnavailable", Message: "gone"}}
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": b.fake}, Hub: b.hub, Owner: "a",
		Workers: 4, Lease: time.Minute, PollInterval: 20 * time.Millisecond, CheckInterval: 5 * time.Millisecond, Mirror: m})
	b.addTask(t, "t1", time.Hour)
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	got := waitStatus(t, b.store, "t1", task.StatusFailed)
	require.Equal(t, "ResultUnavailable", got.Error.UpstreamCode)
	require.Nil(t, got.Result)
	require.Nil(t, got.Usage)
}
