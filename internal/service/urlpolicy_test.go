package service

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// A callback URL is dialled, so looking like one of the gateway's own file
// URLs (read from storage when used as an input) must not exempt it from the
// submit-time check: on a gateway served from loopback that URL is loopback.
func TestCallbackShapedLikeFileURLIsChecked(t *testing.T) {
	t.Parallel()
	const loopback = "http://127.0.0.1:8080"
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(filepath.Join(dir, "files"))
	require.NoError(t, err)
	urls := &URLSigner{PublicURL: loopback, Secret: []byte("secret")}
	res, err := media.NewResolver(media.ResolverConfig{PublicURL: loopback, GetFile: st.GetFile, Blobs: blobs, VerifySignature: urls.Valid})
	require.NoError(t, err)
	svc := New(Config{Store: st, Blobs: blobs, Media: res, URLs: urls,
		Providers: map[string]provider.Provider{"sandbox": nopProvider{}}})

	for _, cb := range []string{
		urls.FileURL("file-x"),                      // signed, as the gateway makes them
		loopback + "/v1/files/file-x/content",       // unsigned
		loopback + "/v1/files/anything/content?n=1", // any id
	} {
		_, err := svc.Create(context.Background(), CreateInput{Tenant: "t", Dialect: "jobs", Model: "seedance-1-0-pro",
			Request: task.Request{Prompt: "a cat", CallbackURL: cb}})
		require.Error(t, err, cb)
		te := task.AsError(err)
		require.Equal(t, task.CodeInvalidParameter, te.Code, cb)
		require.Equal(t, "callback_url", te.Field, cb)
	}
	// The same loopback gateway's file URL as an input is read from storage, not dialled: it passes the URL check
	// and is refused only because no such file exists.
	_, err = svc.Create(context.Background(), CreateInput{Tenant: "t", Dialect: "jobs", Model: "seedance-1-0-pro",
		Request: task.Request{Prompt: "a cat", FirstFrame: urls.FileURL("file-missing")}})
	require.Error(t, err)
	require.NotContains(t, task.AsError(err).Message, "is refused")
}
