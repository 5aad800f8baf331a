package service

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

type nopProvider struct{ cancelErr error }

func (nopProvider) Name() string { return "sandbox" }
func (nopProvider) Submit(context.Context, *task.Task) (string, error) {
	return "x", nil
}
func (nopProvider) Check(context.Context, *task.Task) (provider.Update, error) {
	return provider.Update{Status: task.StatusQueued}, nil
}
func (p nopProvider) Cancel(context.Context, *task.Task) error { return p.cancelErr }

const public = "http://gw.test"

func setup(t *testing.T, mod ...func(*Config)) (*Service, store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(filepath.Join(dir, "files"))
	require.NoError(t, err)
	urls := &URLSigner{PublicURL: public, Secret: []byte("secret")}
	res, err := media.NewResolver(media.ResolverConfig{PublicURL: public, GetFile: st.GetFile, Blobs: blobs, VerifySignature: urls.Valid})
	require.NoError(t, err)
	c := Config{Store: st, Blobs: blobs, Media: res, URLs: urls,
		Providers: map[string]provider.Provider{"sandbox": nopProvider{}}}
	for _, m := range mod {
		m(&c)
	}
	return New(c), st
}

func TestCreateAppliesAliasSuffixAndInlineParams(t *testing.T) {
	t.Parallel()
	svc, st := setup(t)
	ctx := context.Background()
	tk, err := svc.Create(ctx, CreateInput{Tenant: "t1", Dialect: "seedance", Model: "seedance-1.5-pro-1080p",
		Request: task.Request{Prompt: "A kitten yawning. --rt 9:16 --dur 6 --seed 11 --wm true --rs 480p"}})
	require.NoError(t, err)
	require.Equal(t, "seedance-1-5-pro", tk.Model)
	require.Equal(t, "seedance-1.5-pro-1080p", tk.ModelAlias)
	require.Equal(t, "A kitten yawning.", tk.Request.Prompt)
	require.Equal(t, "1080p", tk.Request.Resolution, "the name's resolution is a body field and wins over inline --rs")
	require.Equal(t, "9:16", tk.Request.Ratio)
	require.Equal(t, 6, *tk.Request.Duration)
	require.EqualValues(t, 11, *tk.Request.Seed)
	require.True(t, *tk.Request.Watermark)
	require.True(t, strings.HasPrefix(tk.ID, "cgt-"))
	require.Equal(t, task.StatusQueued, tk.Status)
	require.Equal(t, tk.CreatedAt.Add(172800*time.Second), tk.ExpiresAt)

	stored, err := st.GetTask(ctx, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Request, stored.Request)

	// Another tenant cannot see it, exactly like a missing task.
	_, err = svc.Get(ctx, "t2", tk.ID)
	require.Equal(t, task.CodeNotFound, task.ErrorCode(err))
	_, err2 := svc.Get(ctx, "t2", "cgt-missing")
	require.Equal(t, task.AsError(err2).Message[:5], task.AsError(err).Message[:5])
}

func TestCreateRejectsWithoutStoring(t *testing.T) {
	t.Parallel()
	svc, st := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		model string
		req   task.Request
		code  task.Code
		field string
	}{
		{"", task.Request{Prompt: "x"}, task.CodeMissingParameter, "model"},
		{"veo-3", task.Request{Prompt: "x"}, task.CodeUnknownModel, "model"},
		{"seedance-1-5-pro", task.Request{Prompt: "x", Duration: task.Int(13)}, task.CodeInvalidParameter, "duration"},
		{"seedance-1-5-pro", task.Request{Prompt: "x", FirstFrame: "gopher://x"}, task.CodeInvalidParameter, "first_frame"},
		{"seedance-1-5-pro", task.Request{Prompt: "x", FirstFrame: public + "/v1/files/file-nope/content"}, "", "first_frame"},
		{"seedance-1-5-pro", task.Request{Prompt: "x", CallbackURL: "mailto:x@y"}, task.CodeInvalidParameter, "callback_url"},
	} {
		_, err := svc.Create(ctx, CreateInput{Model: c.model, Request: c.req})
		require.Error(t, err, "%+v", c)
		e := task.AsError(err)
		if c.code != "" {
			require.Equal(t, c.code, e.Code, "%+v: %v", c, err)
		}
		require.Equal(t, c.field, e.Field, "%+v: %v", c, err)
	}
	page, err := st.ListTasks(ctx, store.TaskFilter{})
	require.NoError(t, err)
	require.Empty(t, page.Tasks)
}

func pngOf(t *testing.T, w, h int) []byte {
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))))
	return buf.Bytes()
}

func TestUploadAndUseAsFirstFrame(t *testing.T) {
	t.Parallel()
	svc, _ := setup(t)
	ctx := context.Background()
	f, err := svc.Upload(ctx, UploadInput{Tenant: "t1", Kind: "image", Name: "a/b.png", Body: bytes.NewReader(pngOf(t, 640, 480))})
	require.NoError(t, err)
	require.Equal(t, "image/png", f.ContentType)
	require.Equal(t, 640, f.Width)
	require.Equal(t, "ab.png", f.Name)
	url := svc.FileURL(f.ID)
	require.True(t, strings.HasPrefix(url, public+"/v1/files/"+f.ID+"/content?sig="))
	sig := url[strings.Index(url, "sig=")+4:]
	require.True(t, svc.ValidFileSignature(f.ID, sig))
	require.False(t, svc.ValidFileSignature(f.ID+"x", sig))
	require.False(t, svc.ValidFileSignature(f.ID, ""))

	_, err = svc.Create(ctx, CreateInput{Tenant: "t1", Model: "seedance-1-5-pro", Request: task.Request{Prompt: "x", FirstFrame: url}})
	require.NoError(t, err)

	// Too small an image, the wrong kind, an empty file.
	_, err = svc.Upload(ctx, UploadInput{Kind: "image", Body: bytes.NewReader(pngOf(t, 200, 200))})
	require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err))
	_, err = svc.Upload(ctx, UploadInput{Kind: "video", Body: bytes.NewReader(pngOf(t, 640, 480))})
	require.Equal(t, task.CodeUnsupportedMedia, task.ErrorCode(err))
	_, err = svc.Upload(ctx, UploadInput{Kind: "image", Body: strings.NewReader("")})
	require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err))
	_, err = svc.Upload(ctx, UploadInput{Kind: "pdf", Body: strings.NewReader("x")})
	require.Equal(t, "kind", task.AsError(err).Field)
}

func TestCancelAndWait(t *testing.T) {
	t.Parallel()
	// Only the hub can wake a waiter: it would re-read the store after an hour.
	svc, st := setup(t, func(c *Config) { c.WaitPoll = time.Hour })
	ctx := context.Background()
	tk, err := svc.Create(ctx, CreateInput{Model: "seedance-1-5-pro", Request: task.Request{Prompt: "x"}})
	require.NoError(t, err)

	// Wait returns the current state when the timeout passes.
	start := time.Now()
	got, err := svc.Wait(ctx, "", tk.ID, 100*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, task.StatusQueued, got.Status)
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)

	// A waiter wakes up as soon as the task is cancelled.
	done := make(chan *task.Task)
	go func() {
		w, _ := svc.Wait(ctx, "", tk.ID, time.Hour)
		done <- w
	}()
	require.Eventually(t, func() bool { return svc.Hub().Subscribers(tk.ID) == 1 }, 30*time.Second, time.Millisecond,
		"the waiter subscribed")
	c, err := svc.Cancel(ctx, "", tk.ID)
	require.NoError(t, err)
	require.Equal(t, task.StatusCancelled, c.Status)
	select {
	case w := <-done:
		require.Equal(t, task.StatusCancelled, w.Status)
	case <-time.After(30 * time.Second): // an hour's timeout and re-read: only the hub wakes it
		t.Fatal("waiter not woken by the cancel")
	}
	_, err = svc.Cancel(ctx, "", tk.ID)
	require.Equal(t, task.CodeConflict, task.ErrorCode(err))

	// A running task cannot be cancelled.
	tk2, err := svc.Create(ctx, CreateInput{Model: "seedance-1-5-pro", Request: task.Request{Prompt: "y"}})
	require.NoError(t, err)
	cur, err := st.GetTask(ctx, tk2.ID)
	require.NoError(t, err)
	cur.Status = task.StatusRunning
	require.NoError(t, st.UpdateTask(ctx, cur))
	_, err = svc.Cancel(ctx, "", tk2.ID)
	require.Equal(t, task.CodeConflict, task.ErrorCode(err))
	require.Contains(t, err.Error(), "running")

	// Finished tasks can be deleted; unfinished ones cannot.
	require.Equal(t, task.CodeConflict, task.ErrorCode(svc.Delete(ctx, "", tk2.ID)))
	require.NoError(t, svc.Delete(ctx, "", tk.ID))
	_, err = svc.Get(ctx, "", tk.ID)
	require.Equal(t, task.CodeNotFound, task.ErrorCode(err))
}

func TestTaskIDsAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	now := time.Now()
	for range 100000 {
		id := NewTaskID(now)
		require.False(t, seen[id])
		seen[id] = true
	}
}
