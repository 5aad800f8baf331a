package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

const key = "openapi-test-key"

func startApp(t *testing.T) *app.App {
	t.Helper()
	env := map[string]string{"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": key}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(5 * time.Second) })
	return a
}

// documented reports whether a route pattern belongs to the API the OpenAPI
// document describes: the native jobs API, files, models, and the service routes.
func documented(path string) bool {
	for _, p := range []string{"/v1/jobs", "/v1/files", "/v1/models"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return slices.Contains([]string{"/openapi.json", "/healthz", "/readyz"}, path)
}

// The OpenAPI document and routes.go agree: every registered jobs/files/models
// route is documented, and every documented operation is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	a := startApp(t)

	var registered []string
	for _, p := range a.Server.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !documented(path) {
			continue
		}
		registered = append(registered, strings.ToLower(method)+" "+path)
	}
	sort.Strings(registered)
	require.NotEmpty(t, registered)

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPIDocument(t), &doc))
	var inDoc []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			inDoc = append(inDoc, method+" "+path)
		}
	}
	sort.Strings(inDoc)
	require.Equal(t, registered, inDoc, "routes.go (left) and openapi.json (right) differ")

	// Each documented operation reaches its own handler, not the catch-all.
	base := "http://" + a.Addr
	for _, op := range inDoc {
		method, path, _ := strings.Cut(op, " ")
		req, err := http.NewRequest(strings.ToUpper(method), base+strings.ReplaceAll(path, "{id}", "x"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NotContains(t, string(body), "no route for", op)
	}
}

// The console's page sits at exactly "/", its assets under /console/; API
// paths and unknown paths keep their JSON answers.
func TestConsoleAndOpenAPIServed(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	base := "http://" + a.Addr
	get := func(method, path string) (*http.Response, string) {
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}

	resp, body := get("GET", "/openapi.json")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.JSONEq(t, string(openAPIDocument(t)), body)

	resp, body = get("GET", "/")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, body, "<title>seedgate</title>")
	require.NotContains(t, body, "{{VERSION}}")
	i := strings.Index(body, "/console/app.js?v=")
	require.Positive(t, i)
	asset := body[i : i+len("/console/app.js?v=")+12]

	resp, body = get("GET", asset)
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	require.Contains(t, resp.Header.Get("Cache-Control"), "immutable")
	require.Contains(t, body, "watchJob")
	resp, _ = get("GET", "/console/style.css")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

	for _, p := range []string{"/console/nope.js", "/console/index.html", "/console/../go.mod"} {
		resp, _ = get("GET", p)
		require.Equal(t, 404, resp.StatusCode, p)
	}
	// Unknown paths, and other methods on "/", are the API's JSON 404.
	for _, c := range [][2]string{{"GET", "/v1/nothing"}, {"GET", "/index.html"}, {"POST", "/"}, {"GET", "/v1/"}} {
		resp, body = get(c[0], c[1])
		require.Equal(t, 404, resp.StatusCode, c)
		require.Contains(t, body, `"code":"not_found"`, c)
	}
	// The API still needs its key.
	resp, _ = get("GET", "/v1/jobs")
	require.Equal(t, 401, resp.StatusCode)
	resp, _ = get("GET", "/v1/models")
	require.Equal(t, 401, resp.StatusCode)
}

// openAPIDocument is the document the jobs dialect embeds and serves.
func openAPIDocument(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../dialect/jobs/openapi.json")
	require.NoError(t, err)
	return b
}
