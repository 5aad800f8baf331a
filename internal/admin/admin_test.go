package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/admin"
	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
)

const adminKey = "the-admin-key-of-these-tests"

type gateway struct {
	t   *testing.T
	url string
	app *app.App
	dir string
}

// start runs a gateway; env overrides settings.
func start(t *testing.T, env ...string) *gateway {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": dir, "SEEDGATE_ADMIN_KEY": adminKey,
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "20ms", "SEEDGATE_SANDBOX_RUN_TIME": "50ms"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return vars[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(5 * time.Second) })
	return &gateway{t: t, url: "http://" + a.Addr, app: a, dir: dir}
}

func (g *gateway) do(key, method, path, body string) (int, []byte) {
	g.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	require.NoError(g.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	return resp.StatusCode, b
}

func (g *gateway) json(key, method, path, body string, want int) map[string]any {
	g.t.Helper()
	status, b := g.do(key, method, path, body)
	require.Equal(g.t, want, status, "%s %s: %s", method, path, b)
	var out map[string]any
	require.NoError(g.t, json.Unmarshal(b, &out), "%s", b)
	return out
}

func (g *gateway) newKey(body string) (id, key string) {
	g.t.Helper()
	out := g.json(adminKey, "POST", "/admin/v1/keys", body, http.StatusCreated)
	return out["id"].(string), out["key"].(string)
}

const createJob = `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"hello","resolution":"480p","duration":2}}`

// The database holds only hashes of the keys: the SQLite files (and their
// write-ahead log) never contain a key, nor its secret part.
func TestKeysStoredHashed(t *testing.T) {
	t.Parallel()
	g := start(t)
	var keys []string
	for _, body := range []string{`{"name":"one","tenant":"acme"}`, `{"name":"two","scopes":["read"]}`, `{"name":"three","scopes":["admin"],"expires_in":3600}`} {
		_, key := g.newKey(body)
		keys = append(keys, key)
	}
	// …and through `seedgate keys create`'s path, straight on the store.
	k, err := admin.CreateKey(t.Context(), g.app.Store, admin.KeyInput{Name: "cli", Tenant: "acme", Scopes: auth.ScopesClient, CreatedBy: "cli"}, time.Now())
	require.NoError(t, err)
	keys = append(keys, k.Key)
	for _, key := range keys {
		status, b := g.do(key, "GET", "/v1/models", "")
		require.Contains(t, []int{200, 403}, status, "the key is known (the admin-only one lacks read): %s", b)
	}
	files, err := filepath.Glob(filepath.Join(g.dir, "seedgate.db*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(all, b...)
	}
	for _, key := range keys {
		secret := key[strings.LastIndex(key, "_")+1:]
		require.False(t, bytes.Contains(all, []byte(key)), "a key is stored in clear")
		require.False(t, bytes.Contains(all, []byte(secret)), "a key's secret is stored in clear")
		require.True(t, bytes.Contains(all, []byte(auth.HashKey(key))), "its hash is what is kept")
	}
	// Listing never shows a key either.
	_, b := g.do(adminKey, "GET", "/admin/v1/keys", "")
	for _, key := range keys {
		require.NotContains(t, string(b), key)
	}
}

// Scopes: read for reads, submit for creates (and the POSTs that create),
// admin for /admin.
func TestScopes(t *testing.T) {
	t.Parallel()
	g := start(t, "SEEDGATE_API_KEYS=static-client-key")
	_, reader := g.newKey(`{"scopes":["read"]}`)
	_, submitter := g.newKey(`{"scopes":["submit"]}`)
	_, both := g.newKey(`{}`)
	_, admin2 := g.newKey(`{"scopes":["admin"]}`)

	j := g.json(submitter, "POST", "/v1/jobs", createJob, http.StatusOK)
	id := j["id"].(string)
	for _, c := range []struct {
		key, method, path, body string
		want                    int
	}{
		{reader, "GET", "/v1/jobs/" + id, "", 200},
		{reader, "POST", "/v1/jobs", createJob, 403},
		{reader, "POST", "/v1/jobs/" + id + "/cancel", "", 403},
		{reader, "POST", "/v1/seedance/tasks", `{"id":"` + id + `"}`, 200},
		{reader, "POST", "/v1/responses", `{"model":"seedance-get","input":"` + id + `"}`, 200},
		{reader, "POST", "/v1/responses", `{"model":"doubao-seedance-1-5-pro-responses","input":"a cat"}`, 403},
		{submitter, "GET", "/v1/jobs/" + id, "", 403},
		{submitter, "GET", "/v1/usage", "", 403},
		{both, "GET", "/admin/v1/keys", "", 403},
		{"static-client-key", "GET", "/admin/v1/keys", "", 403},
		{"static-client-key", "POST", "/admin/v1/keys", `{}`, 403},
		{admin2, "GET", "/admin/v1/keys", "", 200},
		{admin2, "GET", "/v1/jobs", "", 403},
		{adminKey, "GET", "/v1/jobs/" + id, "", 200},
		{"", "GET", "/v1/jobs", "", 401},
		{"sgk_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 52), "GET", "/v1/jobs", "", 401},
		{strings.Replace(both, "_", "x", 1), "GET", "/v1/jobs", "", 401},
	} {
		status, b := g.do(c.key, c.method, c.path, c.body)
		require.Equal(t, c.want, status, "%s %s with %.12s…: %s", c.method, c.path, c.key, b)
		if c.want == 403 {
			require.Contains(t, string(b), "scope")
		}
	}
	// A key whose secret part is wrong is refused, even with a real id.
	wrong := both[:len(both)-1] + map[bool]string{true: "b", false: "a"}[both[len(both)-1] == 'a']
	status, _ := g.do(wrong, "GET", "/v1/jobs", "")
	require.Equal(t, 401, status)
}

// A revoked key stops at once on the instance that revoked it and within
// the cache TTL on the others; an expired key stops at its expiry.
func TestRevokeAcrossInstancesSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	revokeAcross(t, "SEEDGATE_DATABASE_URL="+filepath.Join(dir, "shared.db"))
}

func TestRevokeAcrossInstancesPostgres(t *testing.T) {
	t.Parallel()
	revokeAcross(t, "SEEDGATE_DATABASE_URL="+pgtest.Schema(t))
}

func revokeAcross(t *testing.T, db string) {
	a := start(t, db, "SEEDGATE_KEY_CACHE_TTL=500ms")
	b := start(t, db, "SEEDGATE_KEY_CACHE_TTL=500ms")
	id, key := a.newKey(`{"tenant":"acme"}`)
	a.json(key, "GET", "/v1/jobs", "", http.StatusOK)
	b.json(key, "GET", "/v1/jobs", "", http.StatusOK) // cached on b now
	out := a.json(adminKey, "POST", "/admin/v1/keys/"+id+"/revoke", "", http.StatusOK)
	require.Equal(t, "revoked", out["status"])
	revoked := time.Now()
	status, body := a.do(key, "GET", "/v1/jobs", "")
	require.Equal(t, 401, status, "at once where it was revoked")
	require.Contains(t, string(body), "revoked")
	for {
		status, _ := b.do(key, "GET", "/v1/jobs", "")
		if status == 401 {
			break
		}
		require.Less(t, time.Since(revoked), 30*time.Second, "the other instance still takes the revoked key, long after its cache entry (500 ms) expired")
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("revocation reached the other instance in %s", time.Since(revoked).Round(10*time.Millisecond))

	_, short := a.newKey(`{"expires_in":1}`)
	a.json(short, "GET", "/v1/jobs", "", http.StatusOK)
	time.Sleep(1100 * time.Millisecond)
	status, body = a.do(short, "GET", "/v1/jobs", "")
	require.Equal(t, 401, status)
	require.Contains(t, string(body), "expired")
}

// Every admin change is in the audit log: who, what, when, and how it went.
func TestAudit(t *testing.T) {
	t.Parallel()
	g := start(t)
	id, _ := g.newKey(`{"name":"audited","tenant":"acme","rpm":5}`)
	g.json(adminKey, "PUT", "/admin/v1/keys/"+id+"/limits", `{"max_in_flight":2}`, http.StatusOK)
	g.json(adminKey, "POST", "/admin/v1/keys/"+id+"/webhook-secret/rotate", "", http.StatusOK)
	g.json(adminKey, "POST", "/admin/v1/tenants/acme/balance", `{"amount":500,"note":"welcome"}`, http.StatusOK)
	g.json(adminKey, "PUT", "/admin/v1/tenants/default/limits", `{"rpm":100}`, http.StatusOK)
	g.json(adminKey, "POST", "/admin/v1/tenants/acme/balance", `{"amount":"lots"}`, http.StatusBadRequest)
	g.json(adminKey, "DELETE", "/admin/v1/keys/"+id, "", http.StatusOK)
	g.json(adminKey, "GET", "/admin/v1/keys", "", http.StatusOK) // reads are not logged

	before := time.Now().Add(-time.Minute).Unix()
	out := g.json(adminKey, "GET", "/admin/v1/audit", "", http.StatusOK)
	var got []string
	for _, e := range out["data"].([]any) {
		e := e.(map[string]any)
		require.Equal(t, "admin", e["actor"])
		require.GreaterOrEqual(t, e["at"].(float64), float64(before))
		got = append(got, e["action"].(string)+" "+e["target"].(string)+" "+jsonOf(e["status"]))
	}
	require.Equal(t, []string{
		"keys.revoke " + id + " 200",
		"tenants.balance acme 400",
		"tenants.limits default 200",
		"tenants.balance acme 200",
		"keys.rotate_webhook_secret " + id + " 200",
		"keys.limits " + id + " 200",
		"keys.create " + id + " 201",
	}, got)
	first := out["data"].([]any)[3].(map[string]any)
	require.Equal(t, "welcome", first["detail"].(map[string]any)["body"].(map[string]any)["note"])
	page := g.json(adminKey, "GET", "/admin/v1/audit?limit=2", "", http.StatusOK)
	require.Len(t, page["data"], 2)
	next := g.json(adminKey, "GET", "/admin/v1/audit?limit=10&before="+jsonOf(page["data"].([]any)[1].(map[string]any)["id"]), "", http.StatusOK)
	require.Len(t, next["data"], 5)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A gateway without any key is open; the first stored key closes it (within
// the cache TTL on instances that did not create it), and the admin API is
// never open.
func TestOpenUntilTheFirstKey(t *testing.T) {
	t.Parallel()
	g := start(t, "SEEDGATE_ADMIN_KEY=", "SEEDGATE_KEY_CACHE_TTL=200ms")
	g.json("", "GET", "/v1/jobs", "", http.StatusOK)
	status, _ := g.do("", "GET", "/admin/v1/keys", "")
	require.Equal(t, 403, status, "an open gateway has no open admin API")
	k, err := admin.CreateKey(t.Context(), g.app.Store, admin.KeyInput{Name: "first", Scopes: auth.ScopesAll, CreatedBy: "cli"}, time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		status, _ := g.do("", "GET", "/v1/jobs", "")
		return status == 401
	}, 3*time.Second, 50*time.Millisecond, "the gateway closes once a key exists")
	g.json(k.Key, "GET", "/admin/v1/keys", "", http.StatusOK)
	g.json(k.Key, "POST", "/admin/v1/keys/"+k.ID+"/revoke", "", http.StatusOK)
	status, _ = g.do("", "GET", "/v1/jobs", "")
	require.Equal(t, 401, status, "revoking the last key does not open the gateway")
}

// A key stored straight in the database (`seedgate keys create`) works at
// once, even while the gateway has not yet noticed that it is no longer open.
func TestNewKeyWorksWhileOpenIsCached(t *testing.T) {
	t.Parallel()
	g := start(t, "SEEDGATE_ADMIN_KEY=", "SEEDGATE_KEY_CACHE_TTL=5m")
	g.json("", "GET", "/v1/jobs", "", http.StatusOK) // open, and known to be for the TTL
	k, err := admin.CreateKey(t.Context(), g.app.Store, admin.KeyInput{Name: "ops", Scopes: auth.ScopeGlobalAdmin | auth.ScopeAdmin, CreatedBy: "cli"}, time.Now())
	require.NoError(t, err)
	g.json(k.Key, "GET", "/admin/v1/keys", "", http.StatusOK)
	status, _ := g.do("", "GET", "/admin/v1/keys", "")
	require.Equal(t, 403, status, "no key is still not an admin")
	g.json("some-key-of-an-open-gateway", "GET", "/v1/jobs", "", http.StatusOK)
}

// Bad admin input is a clear 400 naming the field.
func TestAdminValidation(t *testing.T) {
	t.Parallel()
	g := start(t)
	for _, c := range []struct{ method, path, body, field string }{
		{"POST", "/admin/v1/keys", `{"scopes":["root"]}`, "scopes"},
		{"POST", "/admin/v1/keys", `{"scopes":[]}`, "scopes"},
		{"POST", "/admin/v1/keys", `{"tenant":"a b"}`, "tenant"},
		{"POST", "/admin/v1/keys", `{"rpm":-1}`, "rpm"},
		{"POST", "/admin/v1/keys", `{"expires_in":-5}`, "expires_in"},
		{"POST", "/admin/v1/keys", `{"expires_at":"2001-01-01"}`, "expires_at"},
		{"POST", "/admin/v1/keys", `{"expires_at":"soon"}`, ""},
		{"POST", "/admin/v1/keys", `{"colour":"red"}`, "colour"},
		{"PUT", "/admin/v1/tenants/acme/limits", `{"max_in_flight":2000000}`, "max_in_flight"},
		{"POST", "/admin/v1/tenants/acme/balance", `{}`, "amount"},
		{"POST", "/admin/v1/tenants/acme/balance", `{"amount":1,"unlimited":true}`, "amount"},
		{"POST", "/admin/v1/tenants/-x/balance", `{"amount":1}`, "id"},
	} {
		out := g.json(adminKey, c.method, c.path, c.body, http.StatusBadRequest)
		e := out["error"].(map[string]any)
		if c.field != "" {
			require.Equal(t, c.field, e["field"], "%s %s", c.path, c.body)
		}
		require.NotEmpty(t, e["message"])
	}
	status, _ := g.do(adminKey, "GET", "/admin/v1/keys/key_nothere", "")
	require.Equal(t, 404, status)
	status, _ = g.do(adminKey, "POST", "/admin/v1/keys/key_nothere/revoke", "")
	require.Equal(t, 404, status)
}

// An admin key of a tenant manages that tenant only: other tenants answer
// like missing ones (404), and its own balance and limits are a global
// admin's (403). The attack: tenant tb's admin key created keys in tenant ta,
// read ta's ledger and made its own tenant unlimited.
func TestTenantAdmin(t *testing.T) {
	t.Parallel()
	g := start(t)
	taID, taKey := g.newKey(`{"name":"ta client","tenant":"ta"}`)
	g.json(adminKey, "POST", "/admin/v1/tenants/ta/balance", `{"amount":1000000000,"note":"ta's money"}`, http.StatusOK)
	g.json(adminKey, "POST", "/admin/v1/tenants/tb/balance", `{"amount":100}`, http.StatusOK)
	job := g.json(taKey, "POST", "/v1/jobs", createJob, http.StatusOK)
	require.Eventually(t, func() bool { // ta's task settles: it has usage
		u := g.json(adminKey, "GET", "/admin/v1/usage?tenant=ta", "", http.StatusOK)
		return len(u["data"].([]any)) == 1
	}, 20*time.Second, 50*time.Millisecond)
	tbAdminID, tbAdmin := g.newKey(`{"name":"tb admin","tenant":"tb","scopes":["admin","read","submit"]}`)

	// The three moves of the attack, each on its own.
	t.Run("creates a key in another tenant", func(t *testing.T) {
		status, b := g.do(tbAdmin, "POST", "/admin/v1/keys", `{"name":"evil","tenant":"ta","scopes":["read","submit"]}`)
		require.Equal(t, http.StatusNotFound, status, "%s", b)
		keys := g.json(adminKey, "GET", "/admin/v1/keys?tenant=ta", "", http.StatusOK)["data"].([]any)
		require.Len(t, keys, 1, "ta has only its own key")
	})
	t.Run("reads another tenant's ledger", func(t *testing.T) {
		status, b := g.do(tbAdmin, "GET", "/admin/v1/ledger?tenant=ta", "")
		require.Equal(t, http.StatusNotFound, status, "%s", b)
		status, b = g.do(tbAdmin, "GET", "/admin/v1/ledger", "")
		require.Equal(t, http.StatusOK, status, "%s", b)
		require.NotContains(t, string(b), `"tenant":"ta"`)
		require.NotContains(t, string(b), "ta's money")
	})
	t.Run("makes its own tenant unlimited", func(t *testing.T) {
		status, b := g.do(tbAdmin, "POST", "/admin/v1/tenants/tb/balance", `{"unlimited":true}`)
		require.Equal(t, http.StatusForbidden, status, "%s", b)
		require.Contains(t, string(b), "needs a global admin")
		tb := g.json(adminKey, "GET", "/admin/v1/tenants/tb", "", http.StatusOK)
		require.EqualValues(t, 100, tb["balance"], "the balance is unchanged")
	})
	if t.Failed() {
		return
	}

	notFound := func(method, path, body, field string) {
		t.Helper()
		out := g.json(tbAdmin, method, path, body, http.StatusNotFound)
		e := out["error"].(map[string]any)
		require.Equal(t, field, e["field"], "%s %s", method, path)
		require.NotContains(t, e["message"], "global", "another tenant answers like a missing one")
	}
	forbidden := func(method, path, body, field string) {
		t.Helper()
		out := g.json(tbAdmin, method, path, body, http.StatusForbidden)
		e := out["error"].(map[string]any)
		require.Equal(t, field, e["field"], "%s %s", method, path)
		require.Contains(t, e["message"], "needs a global admin", "the answer says why")
		require.Contains(t, e["message"], "tenant tb only")
	}

	me := g.json(tbAdmin, "GET", "/admin/v1/me", "", http.StatusOK)
	require.Equal(t, "tb", me["tenant"])
	require.Equal(t, false, me["global"])
	require.Equal(t, tbAdminID, me["key_id"])
	require.Equal(t, true, g.json(adminKey, "GET", "/admin/v1/me", "", http.StatusOK)["global"])

	// Keys of another tenant: not made, not seen, not touched.
	notFound("POST", "/admin/v1/keys", `{"name":"evil","tenant":"ta","scopes":["read","submit"]}`, "tenant")
	notFound("POST", "/admin/v1/keys", `{"tenant":"default","scopes":["read"]}`, "tenant")
	notFound("GET", "/admin/v1/keys?tenant=ta", "", "tenant")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/admin/v1/keys/" + taID, ""},
		{"POST", "/admin/v1/keys/" + taID + "/revoke", ""},
		{"DELETE", "/admin/v1/keys/" + taID, ""},
		{"PUT", "/admin/v1/keys/" + taID + "/limits", `{"rpm":1}`},
		{"GET", "/admin/v1/keys/" + taID + "/webhook-secret", ""},
		{"POST", "/admin/v1/keys/" + taID + "/webhook-secret/rotate", ""},
	} {
		notFound(c.method, c.path, c.body, "id")
		missing := g.json(tbAdmin, c.method, strings.Replace(c.path, taID, "key_nothere", 1), c.body, http.StatusNotFound)["error"].(map[string]any)
		theirs := g.json(tbAdmin, c.method, c.path, c.body, http.StatusNotFound)["error"].(map[string]any)
		delete(missing, "request_id")
		delete(theirs, "request_id")
		missing["message"] = strings.ReplaceAll(missing["message"].(string), "key_nothere", taID)
		require.Equal(t, missing, theirs, "the same answer as a missing key")
	}
	g.json(taKey, "GET", "/v1/jobs", "", http.StatusOK) // ta's key still works
	keys := g.json(tbAdmin, "GET", "/admin/v1/keys", "", http.StatusOK)["data"].([]any)
	require.Len(t, keys, 1)
	require.Equal(t, tbAdminID, keys[0].(map[string]any)["id"])

	// Tenants, ledger, usage and audit: its own only.
	notFound("GET", "/admin/v1/tenants/ta", "", "id")
	notFound("GET", "/admin/v1/tenants/ta/balance", "", "id")
	notFound("POST", "/admin/v1/tenants/ta/balance", `{"amount":5}`, "id")
	notFound("PUT", "/admin/v1/tenants/ta/limits", `{"rpm":1}`, "id")
	notFound("PUT", "/admin/v1/tenants/ta/storage", `{"quota":1}`, "id")
	notFound("GET", "/admin/v1/ledger?tenant=ta", "", "tenant")
	notFound("GET", "/admin/v1/usage?tenant=ta", "", "tenant")
	tenants := g.json(tbAdmin, "GET", "/admin/v1/tenants", "", http.StatusOK)["data"].([]any)
	require.Len(t, tenants, 1)
	require.Equal(t, "tb", tenants[0].(map[string]any)["id"])
	require.EqualValues(t, 100, tenants[0].(map[string]any)["balance"])
	for _, q := range []string{"", "?tenant=tb", "?task_id=" + job["id"].(string)} {
		for _, e := range g.json(tbAdmin, "GET", "/admin/v1/ledger"+q, "", http.StatusOK)["data"].([]any) {
			require.Equal(t, "tb", e.(map[string]any)["tenant"], "ledger%s: %v", q, e)
		}
	}
	require.Empty(t, g.json(tbAdmin, "GET", "/admin/v1/usage", "", http.StatusOK)["data"])

	// Its own balance and limits are not its to set.
	forbidden("POST", "/admin/v1/tenants/tb/balance", `{"unlimited":true}`, "")
	forbidden("POST", "/admin/v1/tenants/tb/balance", `{"amount":1000000}`, "")
	forbidden("PUT", "/admin/v1/tenants/tb/limits", `{"rpm":0,"max_in_flight":0}`, "")
	forbidden("PUT", "/admin/v1/tenants/tb/storage", `{"quota":0}`, "")
	forbidden("POST", "/admin/v1/keys", `{"name":"fast","rpm":0}`, "rpm")
	forbidden("POST", "/admin/v1/keys", `{"name":"fast","max_in_flight":0}`, "max_in_flight")
	forbidden("POST", "/admin/v1/keys", `{"name":"root","scopes":["global_admin"]}`, "scopes")
	forbidden("PUT", "/admin/v1/keys/"+tbAdminID+"/limits", `{"rpm":0}`, "")
	tb := g.json(adminKey, "GET", "/admin/v1/tenants/tb", "", http.StatusOK)
	require.EqualValues(t, 100, tb["balance"], "the balance is unchanged")
	// Gateway-wide metrics show every tenant's traffic and spend.
	for _, path := range []string{"/metrics", "/admin/v1/ops"} {
		status, b := g.do(tbAdmin, "GET", path, "")
		require.Equal(t, http.StatusForbidden, status, "%s: %s", path, b)
		require.Contains(t, string(b), "global_admin")
		status, _ = g.do(adminKey, "GET", path, "")
		require.Equal(t, http.StatusOK, status, path)
	}

	// What it may do: keys of its own tenant (admin ones too), their secrets, revoking them.
	k := g.json(tbAdmin, "POST", "/admin/v1/keys", `{"name":"tb app"}`, http.StatusCreated)
	require.Equal(t, "tb", k["tenant"], "a tenant admin's keys are its tenant's")
	k2 := g.json(tbAdmin, "POST", "/admin/v1/keys", `{"name":"tb ops","tenant":"tb","scopes":["admin"]}`, http.StatusCreated)
	g.json(tbAdmin, "GET", "/admin/v1/keys/"+k["id"].(string)+"/webhook-secret", "", http.StatusOK)
	g.json(tbAdmin, "POST", "/admin/v1/keys/"+k2["id"].(string)+"/revoke", "", http.StatusOK)
	g.json(tbAdmin, "GET", "/admin/v1/tenants/tb", "", http.StatusOK)
	g.json(tbAdmin, "GET", "/admin/v1/prices", "", http.StatusOK)
	var audit []string
	for _, e := range g.json(tbAdmin, "GET", "/admin/v1/audit", "", http.StatusOK)["data"].([]any) {
		e := e.(map[string]any)
		tbs := []any{tbAdminID, k["id"], k2["id"]}
		require.True(t, slices.Contains(tbs, e["actor"]) || slices.Contains(tbs, e["target"]),
			"tb's audit log has what its keys did and what was done to them, nothing of ta's: %v", e)
		audit = append(audit, e["action"].(string)+" "+jsonOf(e["status"]))
	}
	require.Contains(t, audit, "keys.revoke 200")
	require.Contains(t, audit, "tenants.balance 403")
	require.Contains(t, audit, "keys.create 404")

	// A stored key of the default tenant with the admin scope is a tenant admin too.
	_, defAdmin := g.newKey(`{"scopes":["admin"]}`)
	status, _ := g.do(defAdmin, "GET", "/admin/v1/ledger?tenant=ta", "")
	require.Equal(t, 404, status)
	status, _ = g.do(defAdmin, "POST", "/admin/v1/tenants/default/balance", `{"unlimited":true}`)
	require.Equal(t, 403, status)
}

// The global_admin scope, granted by a global admin only, manages every
// tenant like SEEDGATE_ADMIN_KEY.
func TestGlobalAdminKey(t *testing.T) {
	t.Parallel()
	g := start(t)
	out := g.json(adminKey, "POST", "/admin/v1/keys", `{"name":"ops","tenant":"tb","scopes":["global_admin"]}`, http.StatusCreated)
	require.Equal(t, []any{"admin", "global_admin"}, out["scopes"], "global_admin implies admin")
	global := out["key"].(string)
	me := g.json(global, "GET", "/admin/v1/me", "", http.StatusOK)
	require.Equal(t, true, me["global"])
	require.Equal(t, "tb", me["tenant"], "its own tenant, though it manages all")
	k := g.json(global, "POST", "/admin/v1/keys", `{"name":"x","tenant":"ta","rpm":5}`, http.StatusCreated)
	require.Equal(t, "ta", k["tenant"])
	g.json(global, "GET", "/admin/v1/ledger?tenant=ta", "", http.StatusOK)
	status, _ := g.do(global, "GET", "/metrics", "")
	require.Equal(t, http.StatusOK, status)
	g.json(global, "POST", "/admin/v1/tenants/tb/balance", `{"unlimited":true}`, http.StatusOK)
	g.json(global, "PUT", "/admin/v1/tenants/ta/limits", `{"rpm":10}`, http.StatusOK)
	g.json(global, "POST", "/admin/v1/keys", `{"scopes":["global_admin"]}`, http.StatusCreated)
	all := g.json(global, "GET", "/admin/v1/keys", "", http.StatusOK)["data"].([]any)
	require.Len(t, all, 3)
	require.Len(t, g.json(global, "GET", "/admin/v1/audit", "", http.StatusOK)["data"], 5, "every tenant's entries")
}
