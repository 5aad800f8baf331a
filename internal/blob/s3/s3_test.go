package s3

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/blobtest"
)

// fakeS3 is an in-process S3-compatible server with one bucket, counting the
// requests it gets by kind.
type fakeS3 struct {
	URL    string
	Bucket string

	mu    sync.Mutex
	kinds map[string]int
	// partBytes is the largest body of one request (what a client had to hold).
	largestBody atomic.Int64
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	f := &fakeS3{Bucket: "seedgate-test", kinds: map[string]int{}}
	require.NoError(t, backend.CreateBucket(f.Bucket))
	faker := gofakes3.New(backend, gofakes3.WithAutoBucket(false))
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.count(r)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeS3) count(r *http.Request) {
	q := r.URL.Query()
	kind := r.Method
	switch {
	case q.Has("uploads"):
		kind = "create-multipart"
	case q.Has("partNumber"):
		kind = "upload-part"
	case q.Has("uploadId") && r.Method == "POST":
		kind = "complete-multipart"
	case q.Has("uploadId") && r.Method == "DELETE":
		kind = "abort-multipart"
	case r.Method == "GET" && r.Header.Get("Range") != "":
		kind = "GET-range"
	}
	f.mu.Lock()
	f.kinds[kind]++
	f.mu.Unlock()
	if r.ContentLength > f.largestBody.Load() {
		f.largestBody.Store(r.ContentLength)
	}
}

func (f *fakeS3) requests(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kinds[kind]
}

func (f *fakeS3) store(t *testing.T, mod func(*Config)) *Store {
	t.Helper()
	cfg := Config{Endpoint: f.URL, Bucket: f.Bucket, Region: "us-east-1", AccessKey: "AK", SecretKey: "SK",
		PathStyle: true, PartSize: minPartSize}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	return s
}

func TestSuite(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newFakeS3(t).store(t, nil)
	})
}

func TestSuiteWithPrefix(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newFakeS3(t).store(t, func(c *Config) { c.Prefix = "/gw-1/" })
	})
}

func TestPrefixesAreSeparate(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	a := f.store(t, func(c *Config) { c.Prefix = "a" })
	b := f.store(t, func(c *Config) { c.Prefix = "b" })
	plain := f.store(t, nil)
	_, err := a.Put(t.Context(), "k", strings.NewReader("from a"))
	require.NoError(t, err)
	_, err = b.Open(t.Context(), "k")
	require.ErrorIs(t, err, blob.ErrNotFound)
	o, err := plain.Open(t.Context(), "a/k")
	require.NoError(t, err)
	o.Close()
}

// Large objects go up in parts of the configured size: the gateway never holds
// more than about a part of an upload.
func TestMultipartStreaming(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	s := f.store(t, nil)

	_, err := s.Put(t.Context(), "small", bytes.NewReader(blobtest.Data(1000, 1)))
	require.NoError(t, err)
	require.Equal(t, 1, f.requests("PUT"), "a small object is one PUT")
	require.Zero(t, f.requests("create-multipart"))

	const size = 3*minPartSize + 777
	n, err := s.Put(t.Context(), "big", io.LimitReader(&counter{}, size))
	require.NoError(t, err)
	require.EqualValues(t, size, n)
	require.Equal(t, 1, f.requests("create-multipart"))
	require.Equal(t, 4, f.requests("upload-part"))
	require.Equal(t, 1, f.requests("complete-multipart"))
	require.LessOrEqual(t, f.largestBody.Load(), int64(minPartSize+64<<10), "no request carries more than a part")

	o, err := s.Open(t.Context(), "big")
	require.NoError(t, err)
	defer o.Close()
	require.EqualValues(t, size, o.Size())
	_, err = o.Seek(2*minPartSize+5, io.SeekStart)
	require.NoError(t, err)
	b := make([]byte, 3)
	_, err = io.ReadFull(o, b)
	require.NoError(t, err)
	want := byte((2*minPartSize + 5) % 251)
	require.Equal(t, []byte{want, want + 1, want + 2}, b)
	require.GreaterOrEqual(t, f.requests("GET-range"), 1, "a seek reads with a ranged GET")
}

// A failed multipart upload is aborted, not left to cost storage.
func TestFailedMultipartIsAborted(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	s := f.store(t, nil)
	_, err := s.Put(t.Context(), "broken", io.MultiReader(io.LimitReader(&counter{}, 2*minPartSize), &errReader{}))
	require.Error(t, err)
	require.Equal(t, 1, f.requests("abort-multipart"))
}

// counter yields 0, 1, …, 250, 0, … (so offsets can be checked).
type counter struct{ n int64 }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c.n % 251)
		c.n++
	}
	return len(p), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestRedirectURL(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	require.False(t, f.store(t, nil).Redirects(), "proxy mode streams through the gateway")

	s := f.store(t, func(c *Config) { c.Downloads = DownloadsRedirect; c.Prefix = "p" })
	require.True(t, s.Redirects())
	data := blobtest.Data(5000, 9)
	_, err := s.Put(t.Context(), "results/v.mp4", bytes.NewReader(data))
	require.NoError(t, err)
	u, err := s.RedirectURL(t.Context(), "results/v.mp4", "video/mp4", "lighthouse «1».mp4")
	require.NoError(t, err)
	require.Contains(t, u, "X-Amz-Signature=")
	require.Contains(t, u, "X-Amz-Expires=3600")
	require.Contains(t, u, "/p/results/v.mp4")
	require.Contains(t, u, "response-content-type=video%2Fmp4")
	require.Contains(t, u, "response-content-disposition=")

	// The URL works without credentials, Range included.
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	require.NoError(t, err)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, data[10:20], b)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	require.NoError(t, f.store(t, nil).Check(t.Context()))
	err := f.store(t, func(c *Config) { c.Bucket = "no-such-bucket" }).Check(t.Context())
	require.ErrorContains(t, err, "does not exist")

	dead, err := New(Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true})
	require.NoError(t, err)
	require.Error(t, dead.Check(t.Context()))
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	ok := Config{Endpoint: "https://s3.example.com", Bucket: "b"}
	for name, mod := range map[string]func(*Config){
		"no bucket":      func(c *Config) { c.Bucket = "" },
		"no endpoint":    func(c *Config) { c.Endpoint = "" },
		"ftp endpoint":   func(c *Config) { c.Endpoint = "ftp://x" },
		"endpoint path":  func(c *Config) { c.Endpoint = "https://s3.example.com/bucket" },
		"bad downloads":  func(c *Config) { c.Downloads = "sometimes" },
		"unparsable url": func(c *Config) { c.Endpoint = "http://[::1" },
	} {
		c := ok
		mod(&c)
		_, err := New(c)
		require.Error(t, err, name)
	}
	s, err := New(Config{Endpoint: "minio.local:9000", Bucket: "b"})
	require.NoError(t, err, "no scheme means https")
	require.Equal(t, DownloadsProxy, s.Downloads())
	require.Equal(t, "https", s.c.EndpointURL().Scheme)
}
