package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

const consoleAdminKey = "console-admin-key-0123456789"

// The admin page with the (global) admin key: create a key (shown once), top
// a tenant up, see the audit log, revoke the key; with a tenant's admin key:
// that tenant's keys only, no top-ups or limits; with a client key: a notice,
// and the key's own usage and balance.
func TestBrowserAdmin(t *testing.T) {
	browser := chromiumPath(t)
	out := artifacts(t)
	env := map[string]string{"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": key,
		"SEEDGATE_ADMIN_KEY": consoleAdminKey}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	base := "http://" + a.Addr

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 1000))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	shot := func(name string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, name), b, 0o644))
	}
	poll := func(js string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second)))
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
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#key-form"))))
	poll(`!!document.querySelector('#key-scope-global_admin') && !document.querySelector('#tenant-admin')`)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#key-name"), "mobile app"),
		chromedp.SendKeys(chromedp.CSS("#key-tenant"), "acme"),
		chromedp.SendKeys(chromedp.CSS("#key-rpm"), "30"),
		chromedp.Click(chromedp.CSS("#key-create"))))
	poll(`(document.querySelector('#new-key')||{textContent:''}).textContent.includes('sgk_')`)
	poll(`!!document.querySelector('#keys-table tr[data-status="active"]')`)
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#keys-table tbody tr")))
	require.NoError(t, err)
	require.Contains(t, row, "mobile app")
	require.Contains(t, row, "acme")
	require.Contains(t, row, "30 rpm")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#topup-tenant"), "acme"),
		chromedp.SendKeys(chromedp.CSS("#topup-amount"), "250000"),
		chromedp.SendKeys(chromedp.CSS("#topup-note"), "welcome credit"),
		chromedp.Click(chromedp.CSS("#topup-submit"))))
	poll(`(document.querySelector('#tenants-table tr[data-tenant="acme"] .balance')||{textContent:''}).textContent.includes('250')`)
	poll(`document.querySelector('#admin-audit').textContent.includes('tenants.balance')`)
	shot("9-admin-keys.png")

	// Revoke (the page asks first).
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`#keys-table tr[data-status="active"] .btn.danger`))))
	poll(`!!document.querySelector('#keys-table tr[data-status="revoked"]')`)
	poll(`document.querySelector('#admin-audit').textContent.includes('keys.revoke')`)

	// A tenant's admin key: its tenant only, and no balances or limits.
	adminCall := func(method, path, body string) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+consoleAdminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Less(t, resp.StatusCode, 300, "%v", out)
		return out
	}
	adminCall("POST", "/admin/v1/keys", `{"name":"globex app","tenant":"globex"}`)
	acmeAdmin := adminCall("POST", "/admin/v1/keys", `{"name":"acme admin","tenant":"acme","scopes":["admin"]}`)["key"].(string)
	signIn(acmeAdmin)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#key-form"))))
	poll(`(document.querySelector('#tenant-admin')||{textContent:''}).textContent.includes('tenant acme only')`)
	poll(`document.querySelector('#key-tenant').disabled && document.querySelector('#key-tenant').value === 'acme'`)
	poll(`!document.querySelector('#key-rpm') && !document.querySelector('#key-scope-global_admin')`)
	poll(`!!document.querySelector('#tenants-table tr[data-tenant="acme"]') && !document.querySelector('#topup-form')`)
	poll(`document.querySelectorAll('#tenants-table tbody tr').length === 1`)
	keysText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#keys-table")))
	require.NoError(t, err)
	require.Contains(t, keysText, "acme admin")
	require.NotContains(t, keysText, "globex", "another tenant's keys are not shown")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#key-name"), "acme worker"), chromedp.Click(chromedp.CSS("#key-create"))))
	poll(`(document.querySelector('#new-key')||{textContent:''}).textContent.includes('sgk_')`)
	poll(`document.querySelector('#keys-table').textContent.includes('acme worker')`)
	poll(`document.querySelector('#admin-audit').textContent.includes('keys.create')`)
	shot("9-admin-tenant.png")
	workers := adminCall("GET", "/admin/v1/keys?tenant=acme", "")["data"].([]any)
	require.Equal(t, "acme worker", workers[0].(map[string]any)["name"], "made in the admin's tenant")

	// A client key: the admin sections say what is missing; its own usage shows.
	signIn(key)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#admin-models table"))))
	poll(`!!document.querySelector('#admin-keys .notice[data-na="403"]')`)
	poll(`!!document.querySelector('#own-balance')`)
	bal, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#own-balance")))
	require.NoError(t, err)
	require.Equal(t, "unlimited", bal)
}
