package assetmirror_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/config"
)

// The asset path end to end: a gateway whose Ark channel has OpenAPI keys,
// against the Ark emulator (its task API and its asset library).

type gateway struct {
	t   *testing.T
	emu *arkemu.Server
	app *app.App
	url string
}

func startGateway(t *testing.T, emuOpts arkemu.Options, channel string) *gateway {
	t.Helper()
	emu := arkemu.New(emuOpts)
	ts := httptest.NewServer(emu)
	t.Cleanup(func() { ts.Close(); emu.Close() })
	dir := t.TempDir()
	path := filepath.Join(dir, "channels.yaml")
	channels := "checks: {min_interval: 20ms, max_interval: 1s, expected_time: 250ms, reconcile_after: 100ms}\n" +
		"channels:\n  - name: main\n    base_url: " + ts.URL + arkemu.BasePath + "\n    keys: [sk-main]\n" +
		strings.ReplaceAll(channel, "{{openapi}}", ts.URL)
	require.NoError(t, os.WriteFile(path, []byte(channels), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	env := map[string]string{
		"SEEDGATE_DATA_DIR":           filepath.Join(dir, "data"),
		"SEEDGATE_CHANNELS_FILE":      path,
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8",
		// The upstream's asset library fetches the asset from the gateway.
		"SEEDGATE_PUBLIC_URL": "http://" + ln.Addr().String(),
		"SEEDGATE_WORKERS":    "8",
	}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Start(context.Background(), c, log, app.WithListener(ln))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = a.Shutdown(5 * time.Second)
		if t.Failed() {
			mu.Lock()
			t.Logf("gateway logs:\n%s", logs.String())
			mu.Unlock()
		}
	})
	return &gateway{t: t, emu: emu, app: a, url: "http://" + ln.Addr().String()}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (g *gateway) do(method, path string, body io.Reader, ctype string) (int, map[string]any) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+path, body)
	require.NoError(g.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	var out map[string]any
	require.NoError(g.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	return resp.StatusCode, out
}

func (g *gateway) json(method, path, body string, want int) map[string]any {
	g.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	status, out := g.do(method, path, rd, "application/json")
	require.Equal(g.t, want, status, "%s %s: %v", method, path, out)
	return out
}

func (g *gateway) upload(name string, data []byte) map[string]any {
	g.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(g.t, mw.WriteField("kind", "image"))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(g.t, err)
	_, _ = fw.Write(data)
	require.NoError(g.t, mw.Close())
	status, out := g.do("POST", "/v1/files/upload", &body, mw.FormDataContentType())
	require.Equal(g.t, http.StatusOK, status, "%v", out)
	return out
}

func (g *gateway) job(firstFrame string) string {
	g.t.Helper()
	return g.json("POST", "/v1/jobs", `{"model":"seedance-2-0","strict":true,"input":{"prompt":"a portrait","duration":4,"resolution":"480p","first_frame_url":"`+firstFrame+`"}}`, http.StatusOK)["id"].(string)
}

func (g *gateway) wait(id string) map[string]any {
	g.t.Helper()
	var j map[string]any
	require.Eventually(g.t, func() bool {
		j = g.json("GET", "/v1/jobs/"+id, "", http.StatusOK)
		return j["status"] != "processing"
	}, 60*time.Second, 20*time.Millisecond, "job %s never finished", id)
	return j
}

const openAPIKeys = "    access_key_id: " + arkemu.TestAccessKeyID + "\n    secret_access_key: " + arkemu.TestSecretAccessKey + "\n    openapi_url: {{openapi}}\n"

// A face image sent plainly is refused upstream, and the client sees the
// upstream's code; the same image as an asset is accepted, and however many
// tasks use an asset, the upstream's library is asked to create it once.
func TestFaceImageThroughTheAssetLibrary(t *testing.T) {
	t.Parallel()
	g := startGateway(t, arkemu.Options{APIKeys: []string{"sk-main"}, StrictImages: true}, openAPIKeys)
	face := g.upload("face.png", arkemu.FaceImage(640, 480))

	// Plainly: the task fails with the upstream's privacy code.
	j := g.wait(g.job(face["url"].(string)))
	require.Equal(t, "failed", j["status"], "%v", j)
	e := j["error"].(map[string]any)
	require.Equal(t, arkemu.CodeFacePrivacy, e["upstream_code"], "%v", e)
	require.Zero(t, g.emu.Calls(arkemu.OpCreateAsset))

	// As an asset: accepted, ten tasks at once, one upstream create.
	a := g.json("POST", "/v1/assets", `{"file_id":"`+face["id"].(string)+`","group":"people","name":"Ada"}`, http.StatusOK)
	ref := a["url"].(string)
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = g.job(ref)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		j := g.wait(id)
		require.Equal(t, "succeeded", j["status"], "%s: %v", id, j["error"])
	}
	require.Equal(t, 1, g.emu.Calls(arkemu.OpCreateAsset), "one CreateAsset for the asset")
	require.Equal(t, 1, g.emu.Calls(arkemu.OpCreateAssetGroup))
	lib := g.emu.Assets()
	require.Len(t, lib, 1)
	require.Equal(t, "Active", lib[0].Status)
	require.Equal(t, "Ada", lib[0].Name)
	// Every task was sent the upstream's asset, not the image.
	for _, id := range ids {
		tk, err := g.app.Store.GetTask(t.Context(), id)
		require.NoError(t, err)
		info, ok := g.emu.TaskByID(tk.UpstreamID)
		require.True(t, ok)
		require.Equal(t, "asset://"+lib[0].ID, info.Request.FirstFrame)
	}
	// The gateway's asset shows its copy and the upstream's state.
	got := g.json("GET", "/v1/assets/"+a["id"].(string), "", http.StatusOK)
	require.Equal(t, "Active", got["status"])
	require.Equal(t, []any{map[string]any{"channel": "main", "upstream_id": lib[0].ID, "status": "Active",
		"updated": got["mirrors"].([]any)[0].(map[string]any)["updated"]}}, got["mirrors"])

	// A second asset: one more create, in the same upstream group.
	b := g.json("POST", "/v1/assets", `{"file_id":"`+face["id"].(string)+`","group":"people"}`, http.StatusOK)
	for range 3 {
		require.Equal(t, "succeeded", g.wait(g.job(b["url"].(string)))["status"])
	}
	require.Equal(t, 2, g.emu.Calls(arkemu.OpCreateAsset), "one CreateAsset per asset")
	require.Equal(t, 1, g.emu.Calls(arkemu.OpCreateAssetGroup))

	// Deleting the asset deletes its upstream copy too.
	g.json("DELETE", "/v1/assets/"+a["id"].(string), "", http.StatusOK)
	require.Equal(t, 1, g.emu.Calls(arkemu.OpDeleteAsset))
	require.Len(t, g.emu.Assets(), 1)
}

// A channel whose secret is wrong: the library refuses the signature, the
// copy is recorded as failed, and the task fails saying so.
func TestWrongSecretFailsTheCopy(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(openAPIKeys, arkemu.TestSecretAccessKey, "not-the-secret", 1)
	g := startGateway(t, arkemu.Options{APIKeys: []string{"sk-main"}}, bad)
	face := g.upload("face.png", arkemu.FaceImage(640, 480))
	a := g.json("POST", "/v1/assets", `{"file_id":"`+face["id"].(string)+`"}`, http.StatusOK)
	j := g.wait(g.job(a["url"].(string)))
	require.Equal(t, "failed", j["status"])
	require.Contains(t, fmt.Sprint(j["error"]), "SignatureDoesNotMatch")
	require.Zero(t, g.emu.Calls(arkemu.OpCreateAsset), "refused before the action ran")
	got := g.json("GET", "/v1/assets/"+a["id"].(string), "", http.StatusOK)
	require.Equal(t, "Failed", got["status"])
}

// Without OpenAPI keys an asset goes upstream as its content, like an upload.
func TestChannelWithoutKeysSendsTheContent(t *testing.T) {
	t.Parallel()
	g := startGateway(t, arkemu.Options{APIKeys: []string{"sk-main"}}, "")
	f := g.upload("plain.png", plainPNG(640, 480))
	a := g.json("POST", "/v1/assets", `{"file_id":"`+f["id"].(string)+`"}`, http.StatusOK)
	id := g.job(a["url"].(string))
	require.Equal(t, "succeeded", g.wait(id)["status"])
	tk, err := g.app.Store.GetTask(t.Context(), id)
	require.NoError(t, err)
	info, ok := g.emu.TaskByID(tk.UpstreamID)
	require.True(t, ok)
	require.True(t, strings.HasPrefix(info.Request.FirstFrame, "data:image/png;base64,"), "inlined: the gateway is not public")
	require.Zero(t, g.emu.Calls(arkemu.OpCreateAsset)+g.emu.Calls(arkemu.OpCreateAssetGroup))
	require.Empty(t, g.json("GET", "/v1/assets/"+a["id"].(string), "", http.StatusOK)["mirrors"])
}

func plainPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
