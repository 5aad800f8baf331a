package disk

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/blobtest"
)

func TestPutOpenDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := New(t.TempDir())
	require.NoError(t, err)

	n, err := s.Put(ctx, "results/t1/video.mp4", strings.NewReader("hello"))
	require.NoError(t, err)
	require.EqualValues(t, 5, n)

	o, err := s.Open(ctx, "results/t1/video.mp4")
	require.NoError(t, err)
	require.EqualValues(t, 5, o.Size())
	_, err = o.Seek(1, io.SeekStart)
	require.NoError(t, err)
	b, err := io.ReadAll(o)
	require.NoError(t, err)
	require.Equal(t, "ello", string(b))
	require.NoError(t, o.Close())

	// Replacing is atomic and leaves no temp files behind.
	_, err = s.Put(ctx, "results/t1/video.mp4", strings.NewReader("bye"))
	require.NoError(t, err)
	entries, err := os.ReadDir(filepath.Join(s.Root, "results", "t1"))
	require.NoError(t, err)
	require.Len(t, entries, 1)

	require.NoError(t, s.Delete(ctx, "results/t1/video.mp4"))
	require.NoError(t, s.Delete(ctx, "results/t1/video.mp4"))
	_, err = s.Open(ctx, "results/t1/video.mp4")
	require.True(t, errors.Is(err, blob.ErrNotFound))
}

func TestKeysCannotEscapeRoot(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir())
	require.NoError(t, err)
	for _, key := range []string{"", "../x", "a/../../x", "/etc/passwd", `a\..\x`, "a//b"} {
		_, err := s.Put(context.Background(), key, strings.NewReader("x"))
		require.Error(t, err, key)
		_, err = s.Open(context.Background(), key)
		require.Error(t, err, key)
	}
}

func TestCancelledPutLeavesNothing(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Put(ctx, "a/b", strings.NewReader("data"))
	require.Error(t, err)
	_, err = s.Open(context.Background(), "a/b")
	require.True(t, errors.Is(err, blob.ErrNotFound))
}

func TestSuite(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := New(t.TempDir())
		require.NoError(t, err)
		return s
	})
}

// A stored object survives a power loss: after the rename, Put syncs the
// directory that names the file, and the parents of the directories it made.
// Not parallel: it replaces syncDir.
func TestPutSyncsDirectories(t *testing.T) {
	root := t.TempDir()
	s, err := New(root)
	require.NoError(t, err)
	var synced []string
	orig := syncDir
	syncDir = func(dir string) error {
		synced = append(synced, dir)
		return orig(dir)
	}
	t.Cleanup(func() { syncDir = orig })

	_, err = s.Put(context.Background(), "results/t1/video.mp4", strings.NewReader("hello"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(root, "results", "t1"), filepath.Join(root, "results"), root}, synced,
		"the file's directory, then each created directory's parent")

	synced = nil
	_, err = s.Put(context.Background(), "results/t1/thumbnail.jpg", strings.NewReader("hi"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(root, "results", "t1")}, synced, "no directory was created")

	// A failing directory sync fails the Put: the object may not last.
	syncDir = func(string) error { return errors.New("disk gone") }
	_, err = s.Put(context.Background(), "results/t2/video.mp4", strings.NewReader("x"))
	require.ErrorContains(t, err, "disk gone")
}
