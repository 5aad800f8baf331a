package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/client"
	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// The browser test drives the console in headless Chromium (Debian's chromium
// package: scripts/ensure-browser.sh installs it, and CI runs that). Without a
// browser it is skipped, except under CI, where a missing browser is a failure.

const key = "console-test-key"

func chromiumPath(t *testing.T) string {
	if p := os.Getenv("SEEDGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: CI must run scripts/ensure-browser.sh first")
	}
	t.Skip("no Chromium found: run scripts/ensure-browser.sh (or make browser-test) to run the browser test")
	return ""
}

// artifacts is where screenshots go: SEEDGATE_ARTIFACTS_DIR, or a temp dir.
func artifacts(t *testing.T) string {
	dir := os.Getenv("SEEDGATE_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "seedgate-console-artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	t.Logf("screenshots in %s", dir)
	return dir
}

// startGateway runs a gateway in this process; keys "" leaves it open.
func startGateway(t *testing.T, keys string) string {
	t.Helper()
	env := map[string]string{
		"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": keys,
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "500ms", "SEEDGATE_SANDBOX_RUN_TIME": "2500ms",
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8", // the webhook receiver below
	}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	return "http://" + a.Addr
}

// frame draws a test picture: a sunset-like gradient with a disc.
func frame(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(250 - y*120/h), uint8(120 + x*60/w - y*60/h), uint8(90 + y*140/h), 255}
			dx, dy := x-w*2/3, y-h/2
			if dx*dx+dy*dy < (h/5)*(h/5) {
				c = color.RGBA{255, 226, 140, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// seed fills the list with a few jobs through the public client, as another
// app would: succeeded ones (the first with a webhook to a local receiver) and
// a failure; the second is adjusted to fit its model, with a warning. It
// returns the jobs' ids.
func seed(t *testing.T, base string) []string {
	ctx := context.Background()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	c := client.New(client.WithBaseURL(base), client.WithAPIKey(key))
	var ids []string
	for _, in := range []client.Input{
		{Prompt: "A lighthouse on a cliff at dusk, waves breaking below", Resolution: "480p", Duration: client.Int(2), Seed: client.Int64(3), ReturnLastFrame: client.Bool(true), CallbackURL: receiver.URL + "/hook"},
		{Prompt: "Macro shot of dew drops on a spider web at sunrise", Resolution: "480p", Duration: client.Int(2), Seed: client.Int64(11), ExecutionExpiresAfter: client.Int(600)},
		{Prompt: "City street in the rain [sandbox:fail=OutputVideoSensitiveContentDetected]", Resolution: "480p", Duration: client.Int(2)},
	} {
		j, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-0-pro-fast", Input: in})
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		_, err := c.Wait(ctx, id, client.WaitOptions{PollInterval: 100 * time.Millisecond})
		require.NoError(t, err)
	}
	return ids
}

func TestBrowserPlaygroundToVideo(t *testing.T) {
	browser := chromiumPath(t)
	out := artifacts(t)
	base := startGateway(t, key)
	seeded := seed(t, base)
	hooked, adjusted := seeded[0], seeded[1]
	dir := t.TempDir()
	firstFrame := filepath.Join(dir, "first.png")
	require.NoError(t, os.WriteFile(firstFrame, frame(t, 1280, 720), 0o644))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 150*time.Second)
	defer cancelTimeout()

	// Any script error in the page fails the test.
	var mu sync.Mutex
	var jsErrors []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			jsErrors = append(jsErrors, fmt.Sprintf("%s %s at %s:%d", d.Text, desc, d.URL, d.LineNumber+1))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				jsErrors = append(jsErrors, strings.Join(parts, " "))
			}
		}
	}))
	pngShot := func(name string) {
		t.Helper()
		// From the top: a scrolled page would show the sticky header mid-picture.
		require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, name), b, 0o644))
		t.Logf("screenshot %s", filepath.Join(out, name))
	}

	// Sign in: the gateway needs a key, so the console asks for one.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-key")),
	))
	pngShot("0-signin.png")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#signin-key"), "wrong-key"),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	))
	msg, err := chromedp.Run(ctx, chromedp.Poll[string](`(document.querySelector('#signin-error')||{}).textContent`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	require.Contains(t, msg, "not valid")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#signin-key').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#signin-key"), key),
		chromedp.Click(chromedp.CSS("#signin-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#task-grid .card[data-status="succeeded"]`)),
	))
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem('seedgate.key')`))
	require.NoError(t, err)
	require.Equal(t, key, stored)

	// The playground: upload a first frame, submit, watch the progress, play the result.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/new"),
		chromedp.WaitVisible(chromedp.CSS("#pg-prompt")),
		chromedp.SetUploadFiles(chromedp.CSS("#pg-first-frame"), []string{firstFrame}),
		chromedp.WaitVisible(chromedp.CSS("#pg-first-frame-preview")),
		chromedp.SendKeys(chromedp.CSS("#pg-prompt"), "The sun sinks slowly; the camera pushes in"),
		chromedp.SetValue(chromedp.CSS("#pg-resolution"), "480p"),
		chromedp.SetValue(chromedp.CSS("#pg-duration"), "4"),
		chromedp.SetValue(chromedp.CSS("#pg-seed"), "42"),
	))
	pngShot("1-playground-filled.png")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#pg-submit"))))

	// Record what the progress display shows until the video is there.
	seen := map[string]bool{}
	var order []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		require.True(t, time.Now().Before(deadline), "no video after 90 s; saw %v", order)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
			(document.querySelector('#pg-pct')||{}).textContent||'',
			(document.querySelector('#pg-status')||{}).textContent||'',
			document.querySelector('#pg-video') ? 'video' : '',
			(document.querySelector('#pg-error')||{}).textContent||'']`))
		require.NoError(t, err)
		require.Empty(t, v[3], "the playground reported an error")
		if v[2] == "video" {
			break
		}
		state := v[0] + " " + strings.Fields(v[1] + " ")[0]
		if !seen[state] {
			seen[state] = true
			order = append(order, state)
			var pct int
			_, _ = fmt.Sscanf(state, "%d%%", &pct)
			if strings.Contains(state, "running") && pct >= 20 && !seen["shot"] {
				seen["shot"] = true
				pngShot("2-playground-progress.png")
			}
		}
		time.Sleep(80 * time.Millisecond)
	}
	t.Logf("progress shown: %v", order)
	require.GreaterOrEqual(t, len(order), 2, "the progress changed while waiting: %v", order)
	var sawRunning bool
	for _, s := range order {
		sawRunning = sawRunning || strings.Contains(s, "running")
	}
	require.True(t, sawRunning, "the running phase was shown: %v", order)

	// The video element loads and plays (Chromium decodes the sandbox's H.264/AAC MP4).
	playing, err := chromedp.Run(ctx, chromedp.Poll[[]float64](`(() => {
		const v = document.querySelector('#pg-video');
		if (!v || v.readyState < 2 || !(v.duration > 0)) return null;
		if (v.paused) v.play();
		return v.currentTime > 0.2 ? [v.readyState, v.duration, v.currentTime, v.videoWidth, v.videoHeight] : null;
	})()`, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	require.NoError(t, err)
	t.Logf("video: readyState %v, duration %.2f s, played to %.2f s, %v×%v", playing[0], playing[1], playing[2], playing[3], playing[4])
	require.GreaterOrEqual(t, playing[0], 2.0)
	require.InDelta(t, 4.0, playing[1], 0.2)
	require.EqualValues(t, 864, playing[3])
	pngShot("3-playground-done.png")
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#pg-result').dataset.id`))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(id, "cgt-"), id)

	// The list shows it, done, with a thumbnail.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#task-grid .card[data-id=%q][data-status="succeeded"] .thumb img`, id))),
	))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#task-grid .card').length`))
	require.NoError(t, err)
	require.Equal(t, 4, n)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll('#task-grid img')].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	pngShot("4-task-list.png")

	// Filters: failed only, then a search.
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#f-status"), "failed"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#f-status').dispatchEvent(new Event('change'))`)))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#task-grid .card').length === 1 && !!document.querySelector('#task-grid .card[data-status="failed"]')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/?q=lighthouse")))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#task-grid .card').length === 1 && document.querySelector('#task-grid .card .prompt').textContent.includes('lighthouse')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)

	// The task page: player, parameters, usage, deliveries.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/tasks/"+id),
		chromedp.WaitVisible(chromedp.CSS("#task-video")),
		chromedp.WaitVisible(chromedp.CSS("#task-usage")),
	))
	ready, err := chromedp.Run(ctx, chromedp.Poll[float64](`(() => { const v = document.querySelector('#task-video'); return v.readyState >= 2 && v.duration > 0 ? v.duration : 0 })()`, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)
	require.Greater(t, ready, 3.5)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	for _, want := range []string{"the sun sinks slowly", "480p", "42", "total tokens", "first frame (input)", "webhook deliveries"} {
		require.Contains(t, strings.ToLower(text), want)
	}
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector('#task-deliveries').textContent.includes('Loading')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	pngShot("5-task-page.png")

	// A task with a callback_url lists its webhook deliveries (where the gateway records them).
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/tasks/"+hooked), chromedp.WaitVisible(chromedp.CSS("#task-deliveries"))))
	deliveries, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const t = document.querySelector('#task-deliveries').textContent; return t.includes('Loading') ? '' : t })()`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	if strings.Contains(deliveries, "Not available") {
		t.Log("this gateway records no webhook deliveries")
	} else {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('#deliveries-table tbody tr')`, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, "deliveries: %s", deliveries)
		pngShot("5b-task-deliveries.png")
	}

	// A job the gateway adjusted says so.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/tasks/"+adjusted), chromedp.WaitVisible(chromedp.CSS("#job-warnings"))))
	warn, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#job-warnings")))
	require.NoError(t, err)
	require.Contains(t, warn, "execution_expires_after 600")

	// Admin: the placeholders say what is missing rather than failing.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#admin-models table"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector('#admin-keys').textContent.includes('Loading')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	pngShot("6-admin.png")

	// A narrow window (a phone): the list and the task page still read well.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/#/"),
		chromedp.WaitVisible(chromedp.CSS(`#task-grid .card`))))
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	require.LessOrEqual(t, width, 390.0, "no horizontal scrolling in a narrow window")
	pngShot("7-narrow-list.png")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/tasks/"+id), chromedp.WaitVisible(chromedp.CSS("#task-video"))))
	width, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	require.LessOrEqual(t, width, 390.0)
	pngShot("8-narrow-task.png")
	for _, page := range []struct{ hash, ready, shot string }{
		{"#/new", "#pg-prompt", "8b-narrow-playground.png"},
		{"#/admin", "#admin-models table", "8c-narrow-admin.png"},
	} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"+page.hash), chromedp.WaitVisible(chromedp.CSS(page.ready))))
		width, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		require.LessOrEqual(t, width, 390.0, page.hash)
		pngShot(page.shot)
	}

	// Dark mode follows the system.
	dark := func(on bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			p := emulation.SetEmulatedMediaParams{}
			if on {
				p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
			}
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, p)
			return err
		})
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1360, 900), dark(true), chromedp.Navigate(base+"/#/tasks/"+id),
		chromedp.WaitVisible(chromedp.CSS("#task-video"))))
	pngShot("5c-task-page-dark.png")
	require.NoError(t, chromedp.Do(ctx, dark(false)))

	// An open gateway (no keys) needs no sign-in.
	open := startGateway(t, "")
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1360, 900), chromedp.Navigate(open+"/"),
		chromedp.WaitVisible(chromedp.CSS("#task-grid .empty"))))
	who, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[document.querySelector('#who-label').textContent, document.querySelector('#signout').hidden]`))
	require.NoError(t, err)
	require.Equal(t, []any{"open gateway", true}, who)
	pngShot("9-open-gateway-empty.png")

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, jsErrors, "script errors in the console")
}
