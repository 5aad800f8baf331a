// Package blobtest is the one test suite every blob.Store must pass (disk and
// S3 run it), like store/storetest for the database.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
)

// Large is the size of the suite's big object. Stores that upload in parts
// should be configured with a part size below it, so it takes several.
const Large = 12<<20 + 12345

// Run runs the suite. newStore must return a new, empty store on every call;
// subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutOpenRoundTrip", testRoundTrip},
		{"PutReplaces", testReplace},
		{"OpenMissing", testOpenMissing},
		{"Delete", testDelete},
		{"Seek", testSeek},
		{"ServeContentRanges", testServeContent},
		{"LargeObject", testLarge},
		{"FailedPutLeavesNothing", testFailedPut},
		{"CancelledPut", testCancelledPut},
		{"InvalidKeys", testInvalidKeys},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// Data returns n deterministic pseudo-random bytes.
func Data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	n, err := s.Put(t.Context(), key, bytes.NewReader(data))
	require.NoError(t, err, "put %s", key)
	require.EqualValues(t, len(data), n, "put %s returns the bytes written", key)
}

func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(t.Context(), key)
	require.NoError(t, err, "open %s", key)
	defer o.Close()
	b, err := io.ReadAll(o)
	require.NoError(t, err)
	require.EqualValues(t, len(b), o.Size())
	return b
}

func testRoundTrip(t *testing.T, s blob.Store) {
	for _, tc := range []struct {
		key  string
		data []byte
	}{
		{"uploads/f1.png", Data(1000, 1)},
		{"empty", nil},
		{"results/cgt-1/video.mp4", Data(70_000, 2)},
		{"odd name/with spaces & ünïcode+plus=eq?.bin", []byte("odd")},
	} {
		before := time.Now().Add(-time.Minute)
		put(t, s, tc.key, tc.data)
		o, err := s.Open(t.Context(), tc.key)
		require.NoError(t, err)
		require.EqualValues(t, len(tc.data), o.Size())
		require.True(t, o.ModTime().After(before), "mod time %v", o.ModTime())
		b, err := io.ReadAll(o)
		require.NoError(t, err)
		require.NoError(t, o.Close())
		require.True(t, bytes.Equal(tc.data, b), "%s: content differs", tc.key)
	}
}

func testReplace(t *testing.T, s blob.Store) {
	put(t, s, "a/b", []byte("first version, longer"))
	put(t, s, "a/b", []byte("second"))
	require.Equal(t, "second", string(read(t, s, "a/b")))
}

func testOpenMissing(t *testing.T, s blob.Store) {
	_, err := s.Open(t.Context(), "no/such/key")
	require.ErrorIs(t, err, blob.ErrNotFound)
	put(t, s, "dir/file", []byte("x"))
	_, err = s.Open(t.Context(), "dir/fil")
	require.ErrorIs(t, err, blob.ErrNotFound, "a prefix of a key is not an object")
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "keep", []byte("k"))
	put(t, s, "drop", []byte("d"))
	require.NoError(t, s.Delete(t.Context(), "drop"))
	require.NoError(t, s.Delete(t.Context(), "drop"), "deleting a missing object is fine")
	require.NoError(t, s.Delete(t.Context(), "never-existed"))
	_, err := s.Open(t.Context(), "drop")
	require.ErrorIs(t, err, blob.ErrNotFound)
	require.Equal(t, "k", string(read(t, s, "keep")))
}

func testSeek(t *testing.T, s blob.Store) {
	data := Data(100_000, 3)
	put(t, s, "seek", data)
	o, err := s.Open(t.Context(), "seek")
	require.NoError(t, err)
	defer o.Close()

	buf := make([]byte, 10)
	_, err = io.ReadFull(o, buf)
	require.NoError(t, err)
	require.Equal(t, data[:10], buf)

	pos, err := o.Seek(50_000, io.SeekStart)
	require.NoError(t, err)
	require.EqualValues(t, 50_000, pos)
	_, err = io.ReadFull(o, buf)
	require.NoError(t, err)
	require.Equal(t, data[50_000:50_010], buf)

	pos, err = o.Seek(-5, io.SeekEnd)
	require.NoError(t, err)
	require.EqualValues(t, len(data)-5, pos)
	rest, err := io.ReadAll(o)
	require.NoError(t, err)
	require.Equal(t, data[len(data)-5:], rest)

	pos, err = o.Seek(-20, io.SeekCurrent)
	require.NoError(t, err)
	require.EqualValues(t, len(data)-20, pos)
	_, err = io.ReadFull(o, buf)
	require.NoError(t, err)
	require.Equal(t, data[len(data)-20:len(data)-10], buf)

	// Back to the start after reading: a fresh read from 0.
	_, err = o.Seek(0, io.SeekStart)
	require.NoError(t, err)
	all, err := io.ReadAll(o)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, all))
}

// http.ServeContent is how the gateway answers downloads: Range must work on
// every store.
func testServeContent(t *testing.T, s blob.Store) {
	data := Data(300_000, 4)
	put(t, s, "video.mp4", data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Open(r.Context(), "video.mp4")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer o.Close()
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "", o.ModTime(), o)
	}))
	defer srv.Close()

	get := func(rng string) (*http.Response, []byte) {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
		require.NoError(t, err)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	resp, b := get("")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, bytes.Equal(data, b))

	for _, tc := range []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-99", 0, 99},
		{"bytes=123456-223455", 123456, 223455},
		{"bytes=-500", len(data) - 500, len(data) - 1},
		{"bytes=299000-", 299000, len(data) - 1},
	} {
		resp, b := get(tc.rng)
		require.Equal(t, http.StatusPartialContent, resp.StatusCode, tc.rng)
		require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, len(data)), resp.Header.Get("Content-Range"))
		require.True(t, bytes.Equal(data[tc.start:tc.end+1], b), "%s: content differs", tc.rng)
	}

	resp, b = get("bytes=0-9,100-109")
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "multipart/byteranges")
	require.True(t, bytes.Contains(b, data[100:110]))

	resp, _ = get(fmt.Sprintf("bytes=%d-", len(data)+10))
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode)
}

// testLarge puts an object bigger than a part from a reader of unknown size.
func testLarge(t *testing.T, s blob.Store) {
	data := Data(Large, 5)
	n, err := s.Put(t.Context(), "large.bin", io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:])))
	require.NoError(t, err)
	require.EqualValues(t, len(data), n)
	got := read(t, s, "large.bin")
	require.Equal(t, sha256.Sum256(data), sha256.Sum256(got))
}

// failingReader returns n bytes, then an error.
type failingReader struct {
	r io.Reader
}

var errBroken = errors.New("the source broke")

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errBroken
	}
	return n, err
}

func testFailedPut(t *testing.T, s blob.Store) {
	for _, size := range []int{1000, Large} { // one request, and several parts
		key := fmt.Sprintf("broken-%d", size)
		_, err := s.Put(t.Context(), key, &failingReader{r: bytes.NewReader(Data(size, 6))})
		require.Error(t, err, "size %d", size)
		_, err = s.Open(t.Context(), key)
		require.ErrorIs(t, err, blob.ErrNotFound, "a failed put leaves no object (size %d)", size)
	}
	// Nor does it damage an object already there.
	put(t, s, "kept", []byte("good"))
	_, err := s.Put(t.Context(), "kept", &failingReader{r: strings.NewReader("bad bytes")})
	require.Error(t, err)
	require.Equal(t, "good", string(read(t, s, "kept")))
}

func testCancelledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Put(ctx, "cancelled", bytes.NewReader(Data(1000, 7)))
	require.Error(t, err)
	_, err = s.Open(t.Context(), "cancelled")
	require.ErrorIs(t, err, blob.ErrNotFound)
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	for _, key := range []string{"", "../x", "a/../../x", "/etc/passwd", `a\..\x`, "a//b", "a/./b", "."} {
		_, err := s.Put(t.Context(), key, strings.NewReader("x"))
		require.Error(t, err, "put %q", key)
		_, err = s.Open(t.Context(), key)
		require.Error(t, err, "open %q", key)
		require.NotErrorIs(t, err, blob.ErrNotFound, "open %q is refused, not missing", key)
		require.Error(t, s.Delete(t.Context(), key), "delete %q", key)
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), fmt.Sprintf("c/%02d", i), bytes.NewReader(Data(10_000+i, uint64(i))))
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for i := range n {
		require.True(t, bytes.Equal(Data(10_000+i, uint64(i)), read(t, s, fmt.Sprintf("c/%02d", i))))
	}
}
