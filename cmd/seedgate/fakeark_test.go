package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/media/mediatest"
)

// `seedgate fake-ark` is an upstream a gateway can run on, as the README says:
// the real binary twice, a job through the emulator, the result copied into
// the gateway.
func TestFakeArkAsUpstream(t *testing.T) {
	t.Parallel()
	ln, addr := listener(t)
	var logs bytes.Buffer
	emu := exec.Command(binary, "fake-ark", "--listen-fd", listenFD, "--keys", "sk-e2e", "--queue-time", "100ms", "--run-time", "400ms")
	emu.ExtraFiles = []*os.File{ln}
	emu.Stdout, emu.Stderr = &logs, &logs
	require.NoError(t, emu.Start())
	t.Cleanup(func() {
		_ = emu.Process.Signal(syscall.SIGTERM)
		_ = emu.Wait()
		if t.Failed() {
			t.Logf("fake-ark output:\n%s", logs.String())
		}
	})
	base := "http://" + addr + "/api/v3"
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/contents/generations/tasks")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized // up, and wants its key
	}, 20*time.Second, 20*time.Millisecond)

	dir := t.TempDir()
	channels := filepath.Join(dir, "channels.yaml")
	require.NoError(t, os.WriteFile(channels, []byte(fmt.Sprintf(`checks: {min_interval: 50ms, expected_time: 600ms}
channels:
  - name: fake
    base_url: %s
    keys: [sk-e2e]
    models: [seedance-1-0-pro]
`, base)), 0o600))
	g := startGateway(t, filepath.Join(dir, "data"), "SEEDGATE_CHANNELS_FILE="+channels, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8")

	var created map[string]any
	resp := g.postJSON("/v1/jobs", `{"model":"seedance-1.0-pro","input":{"prompt":"a kite over the sea","resolution":"480p","duration":2,"return_last_frame":true}}`, &created)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", created)
	j := g.waitJob(created["id"].(string), 60*time.Second)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	v := j.Output.Videos[0]
	require.True(t, strings.HasPrefix(v.URL, g.url+"/v1/files/"), "the gateway's copy: %s", v.URL)
	require.Equal(t, []int{864, 480}, []int{v.Width, v.Height})
	require.EqualValues(t, 864*480*49/1024, j.Usage.TotalTokens)
	info, err := mediatest.ProbeVideo(context.Background(), download(t, v.URL))
	require.NoError(t, err)
	require.Equal(t, 864, info.Width)
	require.InDelta(t, 2.0, info.Duration, 0.1)

	// A model no channel serves is refused, not rendered by the sandbox.
	var refused map[string]any
	resp = g.postJSON("/v1/jobs", `{"model":"seedance-2.0","input":{"prompt":"x"}}`, &refused)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%v", refused)
}
