package ark_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/task"
)

// A data URL a client sent is kept as a gateway file, and goes upstream as
// the same bytes (inline, since the test gateway's URL is not public).
func TestDataURLGoesUpstreamAsSent(t *testing.T) {
	t.Parallel()
	g := start(t, setup{emu: arkemu.Options{StrictImages: true}, channels: oneChannel("")})
	img := pngImage(t, 640, 480)
	tk := g.create("seedance-1-0-pro", task.Request{Prompt: "a lighthouse",
		FirstFrame: "data:image/png;base64," + base64.StdEncoding.EncodeToString(img), Resolution: "480p", Duration: task.Int(2)})
	require.Contains(t, tk.Request.FirstFrame, "/v1/files/", "the task keeps a file")
	require.False(t, strings.HasPrefix(g.get(tk.ID).Request.FirstFrame, "data:"), "the stored task keeps a file")

	g.waitFor("created upstream", func() bool { return g.get(tk.ID).UpstreamID != "" })
	up := g.upstream(g.get(tk.ID))
	sent, err := media.ParseDataURL(up.Request.FirstFrame)
	require.NoError(t, err)
	require.Equal(t, "image/png", sent.MediaType)
	require.Equal(t, img, sent.Data, "the upstream got the image the client sent")
}
