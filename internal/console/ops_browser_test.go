package console_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// The operations page after a run: every chart is drawn from
// /admin/v1/ops with data, it refreshes on its own, the CSP is not broken by
// the chart library, and a client key is told it needs an admin key.
func TestBrowserOps(t *testing.T) {
	browser := chromiumPath(t)
	out := artifacts(t)
	env := map[string]string{"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": key,
		"SEEDGATE_ADMIN_KEY": consoleAdminKey, "SEEDGATE_SANDBOX_QUEUE_DELAY": "500ms", "SEEDGATE_SANDBOX_RUN_TIME": "1s",
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8"}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	base := "http://" + a.Addr
	seed(t, base) // two successes (one with a webhook) and a failure

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 1100))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	poll := func(js string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, js)
	}
	signIn := func(k string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"),
			chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS("#signin-key")), chromedp.SendKeys(chromedp.CSS("#signin-key"), k),
			chromedp.Click(chromedp.CSS("#signin-submit")), chromedp.WaitVisible(chromedp.CSS("#nav"))))
	}

	signIn(consoleAdminKey)
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__csp = [];
		document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))`),
		chromedp.Click(chromedp.CSS(`#nav a[data-nav="ops"]`)), chromedp.WaitVisible(chromedp.CSS("#ops-tiles"))))
	for _, id := range []string{"ops-throughput", "ops-latency", "ops-result", "ops-errors", "ops-queue", "ops-webhooks", "ops-spend"} {
		poll(`!!document.querySelector('#` + id + ` canvas') && Number(document.querySelector('#` + id + `').dataset.points) > 0`)
	}
	// Non-zero values where the run must have left some.
	for _, id := range []string{"ops-throughput", "ops-latency", "ops-result", "ops-errors", "ops-spend"} {
		poll(`Number(document.querySelector('#` + id + `').dataset.nonzero) > 0`)
	}
	tiles, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ops-tiles")))
	require.NoError(t, err)
	require.Contains(t, tiles, "Created\n3")
	require.Contains(t, tiles, "Failed\n1")

	// Live: the page asks again on its own.
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ops-updated")))
	require.NoError(t, err)
	poll(`document.querySelector('#ops-updated').textContent !== ` + jsString(first))
	csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	require.NoError(t, err)
	require.Empty(t, csp, "CSP violations")

	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "10-ops.png"), b, 0o644))

	// A client key: the page says it needs an admin key.
	signIn(key)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/ops")))
	poll(`(document.querySelector('#ops-notice')||{dataset:{}}).dataset.na === '403'`)
}

func jsString(s string) string {
	b := []byte{'\''}
	for _, r := range s {
		if r == '\'' || r == '\\' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '\''))
}
