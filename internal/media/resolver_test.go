package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

type resolverSetup struct {
	resolver *Resolver
	srv      *httptest.Server // serves /img.png, /big, /text, /missing
	png      []byte
}

// setup builds a Resolver for https://gw.example.com/base with one stored file
// (file_ok, holding png), an httptest server, and the given private allow list.
func setup(t *testing.T, allow []netip.Prefix, maxBytes int64) resolverSetup {
	t.Helper()
	png := encodeImage(t, "png", testImage(64, 48))
	blobs, err := disk.New(t.TempDir())
	require.NoError(t, err)
	_, err = blobs.Put(context.Background(), "uploads/file_ok", bytes.NewReader(png))
	require.NoError(t, err)
	files := map[string]*task.File{
		"file_ok":   {ID: "file_ok", BlobKey: "uploads/file_ok", Size: int64(len(png))},
		"file_gone": {ID: "file_gone", BlobKey: "uploads/file_gone", Size: 10},
		"file_huge": {ID: "file_huge", BlobKey: "uploads/file_huge", Size: 1 << 40},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, _ *http.Request) { w.Write(png) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { w.Write(make([]byte, 4096)) })
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>hello</html>") })
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	r, err := NewResolver(ResolverConfig{
		PublicURL: "https://gw.example.com/base",
		GetFile: func(_ context.Context, id string) (*task.File, error) {
			if id == "file_other_tenant" {
				return nil, task.Errorf(task.CodeForbidden, "", "not yours")
			}
			if f, ok := files[id]; ok {
				return f, nil
			}
			return nil, task.Errorf(task.CodeNotFound, "", "no such file")
		},
		Blobs:           blobs,
		VerifySignature: func(id, sig string) bool { return sig == "good-"+id },
		HTTP:            safehttp.New(safehttp.Options{AllowPrivate: allow}),
		MaxBytes:        maxBytes,
	})
	require.NoError(t, err)
	return resolverSetup{resolver: r, srv: srv, png: png}
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func TestResolverOpen(t *testing.T) {
	t.Parallel()
	s := setup(t, loopback, 1024)
	pngData := "data:image/png;base64," + base64.StdEncoding.EncodeToString(s.png)

	tests := []struct {
		name    string
		url     string
		want    []byte // nil when an error is expected
		wantErr string
	}{
		{"gateway file", "https://gw.example.com/base/v1/files/file_ok/content?sig=good-file_ok", s.png, ""},
		{"gateway host is case-insensitive", "https://GW.example.com/base/v1/files/file_ok/content?sig=good-file_ok", s.png, ""},
		{"gateway file bad signature", "https://gw.example.com/base/v1/files/file_ok/content?sig=forged", nil, "file URL of file_ok has a missing or invalid signature"},
		{"gateway file unknown", "https://gw.example.com/base/v1/files/file_nope/content?sig=good-file_nope", nil, "file file_nope does not exist"},
		{"gateway file of another tenant", "https://gw.example.com/base/v1/files/file_other_tenant/content?sig=good-file_other_tenant", nil, "file file_other_tenant does not exist"},
		{"gateway file without blob", "https://gw.example.com/base/v1/files/file_gone/content?sig=good-file_gone", nil, "the content of file file_gone is gone"},
		{"gateway file too large", "https://gw.example.com/base/v1/files/file_huge/content?sig=good-file_huge", nil, "file file_huge is 1048576 MB, more than the limit of 1 KB"},
		{"data URL", pngData, s.png, ""},
		{"data URL too large", "data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString(make([]byte, 2000)), nil, "the data URL holds 2 KB, more than the limit of 1 KB"},
		{"data URL invalid", "data:image/png;base64,%%%", nil, "invalid data URL"},
		{"http", s.srv.URL + "/img.png", s.png, ""},
		{"http too large", s.srv.URL + "/big?token=secret", nil, "/big is larger than the limit of 1 KB"},
		{"http not found", s.srv.URL + "/missing", nil, "the server answered 404 Not Found"},
		{"unsupported scheme", "ftp://example.com/a.png", nil, `unsupported URL scheme "ftp"`},
		{"not a URL", "just some words", nil, "is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.resolver.ReadAll(context.Background(), tt.url)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err), "%v", err)
				require.Contains(t, err.Error(), tt.wantErr)
				require.NotContains(t, err.Error(), "secret", "query strings stay out of messages")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestResolverSSRF(t *testing.T) {
	t.Parallel()
	s := setup(t, nil, MaxImageBytes)
	_, err := s.resolver.ReadAll(context.Background(), s.srv.URL+"/img.png")
	require.Error(t, err)
	require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err))
	require.Contains(t, err.Error(), "refused: 127.0.0.1 is a loopback address (only public internet addresses are allowed)")

	// Gateway file URLs never touch the network, so the guard does not apply.
	_, err = s.resolver.ReadAll(context.Background(), "https://gw.example.com/base/v1/files/file_ok/content?sig=good-file_ok")
	require.NoError(t, err)
}

func TestResolverFileID(t *testing.T) {
	t.Parallel()
	r := setup(t, nil, 0).resolver
	tests := []struct {
		url    string
		wantID string // "" when not a gateway file URL
	}{
		{"https://gw.example.com/base/v1/files/file_1/content", "file_1"},
		{"https://gw.example.com/base/v1/files/file_1/content?sig=x&download=1", "file_1"},
		{"https://gw.example.com/base/v1/files/a%20b/content", "a b"},
		{"http://gw.example.com/base/v1/files/file_1/content", ""},    // other scheme
		{"https://evil.example.com/base/v1/files/file_1/content", ""}, // other host
		{"https://gw.example.com:8443/base/v1/files/file_1/content", ""},
		{"https://gw.example.com/v1/files/file_1/content", ""}, // missing base path
		{"https://gw.example.com/base/v1/files/file_1", ""},
		{"https://gw.example.com/base/v1/files//content", ""},
		{"https://gw.example.com/base/v1/files/a/b/content", ""},
		{"data:image/png;base64,AAAA", ""},
	}
	for _, tt := range tests {
		id, ok := r.FileID(tt.url)
		require.Equal(t, tt.wantID != "", ok, tt.url)
		require.Equal(t, tt.wantID, id, tt.url)
	}
}

func TestProbeImage(t *testing.T) {
	t.Parallel()
	s := setup(t, loopback, MaxImageBytes)
	ctx := context.Background()

	info, err := s.resolver.ProbeImage(ctx, s.srv.URL+"/img.png")
	require.NoError(t, err)
	require.Equal(t, ImageInfo{Format: "png", Width: 64, Height: 48, Size: int64(len(s.png))}, info)

	_, err = s.resolver.ProbeImage(ctx, s.srv.URL+"/text?sig=secret")
	require.Error(t, err)
	require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err))
	require.Contains(t, err.Error(), s.srv.URL+"/text: not an image in a supported format")
	require.NotContains(t, err.Error(), "secret")

	_, err = s.resolver.ProbeImage(ctx, "data:text/plain,hello")
	require.ErrorContains(t, err, "the data URL: not an image")
}

func TestNewResolverValidates(t *testing.T) {
	t.Parallel()
	_, err := NewResolver(ResolverConfig{PublicURL: "gw.example.com"})
	require.ErrorContains(t, err, "not an absolute http(s) URL")
	_, err = NewResolver(ResolverConfig{PublicURL: "https://gw.example.com"})
	require.ErrorContains(t, err, "needs GetFile and Blobs")
	r, err := NewResolver(ResolverConfig{})
	require.NoError(t, err)
	require.Equal(t, int64(MaxImageBytes), r.MaxBytes())
	_, ok := r.FileID("https://gw.example.com/v1/files/x/content")
	require.False(t, ok, "no public URL, no gateway files")
	require.True(t, strings.HasPrefix(describeURL("data:image/png;base64,AAAA"), "the data URL"))
}
