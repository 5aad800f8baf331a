// Package dialecttest is the harness the client dialects' tests share: an
// in-process gateway (app.Start on a temp data dir with a fast sandbox),
// request helpers, seed fixtures, and golden-file and answer-shape checks.
package dialecttest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// Key is the API key every test gateway accepts.
const Key = "sk-dialect-test"

var update = flag.Bool("update", false, "rewrite the golden files")

// Gateway is a running in-process gateway.
type Gateway struct {
	t   testing.TB
	URL string
	App *app.App
	// Client is the HTTP client the helpers use (never http.DefaultClient: the
	// Ark SDK replaces its Transport).
	Client *http.Client
}

// Start runs a gateway on a free loopback port with its own data dir. env
// overrides settings ("SEEDGATE_SANDBOX_RUN_TIME=1s").
func Start(t testing.TB, env ...string) *Gateway {
	t.Helper()
	vars := map[string]string{
		"SEEDGATE_LISTEN":              "127.0.0.1:0", // the gateway reports the port it bound (App.Addr)
		"SEEDGATE_DATA_DIR":            t.TempDir(),
		"SEEDGATE_API_KEYS":            Key,
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "20ms",
		"SEEDGATE_SANDBOX_RUN_TIME":    "50ms",
		"SEEDGATE_WORKERS":             "4",
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return vars[k] }, io.Discard)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.Start(context.Background(), c, log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	return &Gateway{t: t, URL: "http://" + a.Addr, App: a, Client: &http.Client{Timeout: 2 * time.Minute}}
}

// Do sends a request with the test key as "Bearer <key>" (header "Authorization"
// in h overrides it; "" removes it) and returns the answer and its body.
func (g *Gateway) Do(method, path string, body io.Reader, h map[string]string) (*http.Response, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.URL+path, body)
	require.NoError(g.t, err)
	req.Header.Set("Authorization", "Bearer "+Key)
	for k, v := range h {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := g.Client.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	return resp, b
}

// JSON sends a JSON body (or none, for "") and decodes the answer into a map.
func (g *Gateway) JSON(method, path, body string) (int, map[string]any, []byte) {
	g.t.Helper()
	var rd io.Reader
	h := map[string]string{}
	if body != "" {
		rd = strings.NewReader(body)
		h["Content-Type"] = "application/json"
	}
	resp, b := g.Do(method, path, rd, h)
	var out map[string]any
	if len(bytes.TrimSpace(b)) > 0 {
		require.NoError(g.t, json.Unmarshal(b, &out), "%s %s answered %d: %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out, b
}

// Upload stores a file through /v1/files/upload and returns its signed URL.
func (g *Gateway) Upload(kind, name string, data []byte) string {
	g.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(g.t, mw.WriteField("kind", kind))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(g.t, err)
	_, _ = fw.Write(data)
	require.NoError(g.t, mw.Close())
	resp, b := g.Do("POST", "/v1/files/upload", &body, map[string]string{"Content-Type": mw.FormDataContentType()})
	require.Equal(g.t, http.StatusOK, resp.StatusCode, "%s", b)
	var f struct {
		URL string `json:"url"`
	}
	require.NoError(g.t, json.Unmarshal(b, &f))
	return f.URL
}

// UploadPNG uploads a w×h gradient PNG and returns its URL.
func (g *Gateway) UploadPNG(w, h int) string {
	return g.Upload("image", fmt.Sprintf("img-%dx%d.png", w, h), PNG(w, h))
}

// PNG returns a w×h gradient image.
func PNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Job is the native API's view of a task, which every dialect's task has.
type Job struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Model  string `json:"model"`
	Output struct {
		Status string `json:"status"`
		Videos []struct {
			URL      string  `json:"url"`
			Width    int     `json:"width"`
			Height   int     `json:"height"`
			Duration float64 `json:"duration"`
		} `json:"videos"`
	} `json:"output"`
	Warnings []string `json:"warnings"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Wait polls the native API until the task is finished and returns it.
func (g *Gateway) Wait(id string) Job {
	g.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var j Job
	for time.Now().Before(deadline) {
		resp, b := g.Do("GET", "/v1/jobs/"+id, nil, nil)
		require.Equal(g.t, http.StatusOK, resp.StatusCode, "%s", b)
		j = Job{}
		require.NoError(g.t, json.Unmarshal(b, &j))
		if j.Status != "processing" {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatalf("task %s still %s after 90s", id, j.Output.Status)
	return j
}

// Fixture reads testdata/<name> and applies the replacements (old, new, …):
// the seeds' example hosts and unreachable image URLs become the gateway's.
func Fixture(t testing.TB, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, s, replace[i], "fixture %s has no %q to replace", name, replace[i])
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	return s
}

// Corpus returns the contents of the testdata files matching pattern, for fuzz seeds.
func Corpus(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no testdata matches %s", pattern)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

var (
	sigParam  = regexp.MustCompile(`sig=[A-Za-z0-9_-]+`)
	idPattern = regexp.MustCompile(`cgt-\d{14}-[a-z2-7]{10}|file-[a-z2-7]{24}|req_[0-9a-f]{24}|(resp|msg)_[0-9a-z]{8,}`)
)

// Normalize makes an answer comparable across runs: the gateway's base URL
// becomes {gateway}, URL signatures, task/file/request ids become placeholders,
// and the values of the volatile keys become "{key}". Objects are re-encoded
// with sorted keys and indentation.
func (g *Gateway) Normalize(b []byte, volatile ...string) []byte {
	g.t.Helper()
	s := strings.ReplaceAll(string(b), g.URL, "{gateway}")
	s = sigParam.ReplaceAllString(s, "sig={sig}")
	ids := map[string]string{}
	s = idPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			prefix := id[:strings.IndexAny(id, "-_")]
			n := 0
			for k := range ids {
				if strings.HasPrefix(k, prefix) {
					n++
				}
			}
			ids[id] = fmt.Sprintf("{%s%d}", prefix, n+1)
		}
		return ids[id]
	})
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	require.NoError(g.t, dec.Decode(&v), "%s", b)
	v = blank(v, volatile)
	out, err := json.MarshalIndent(v, "", "  ")
	require.NoError(g.t, err)
	return append(out, '\n')
}

func blank(v any, volatile []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if slices.Contains(volatile, k) && e != nil {
				x[k] = "{" + k + "}"
				continue
			}
			x[k] = blank(e, volatile)
		}
	case []any:
		for i, e := range x {
			x[i] = blank(e, volatile)
		}
	}
	return v
}

// Golden compares a normalized answer with testdata/golden/<name>.json
// (go test -update rewrites it).
func (g *Gateway) Golden(name string, got []byte, volatile ...string) {
	g.t.Helper()
	norm := g.Normalize(got, volatile...)
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(g.t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(g.t, os.WriteFile(path, norm, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(g.t, err, "run go test -update to create %s", path)
	require.JSONEq(g.t, string(want), string(norm), "answer differs from %s", path)
}

// RequireShape checks got against an answer documented in a seed: every key
// of the documented JSON is in got with a value of the same JSON kind, down to
// the leaves (array elements are checked against the documented first element).
// Documented nulls match anything.
func RequireShape(t testing.TB, documented string, got []byte) {
	t.Helper()
	var doc, val any
	require.NoError(t, json.Unmarshal([]byte(documented), &doc), "documented answer")
	require.NoError(t, json.Unmarshal(got, &val), "answer: %s", got)
	var problems []string
	shape("$", doc, val, &problems)
	sort.Strings(problems)
	require.Empty(t, problems, "answer does not have the documented shape:\n%s", got)
}

func shape(path string, doc, got any, problems *[]string) {
	if doc == nil {
		return
	}
	kind := func(v any) string { return fmt.Sprintf("%T", v) }
	if got == nil || kind(doc) != kind(got) {
		*problems = append(*problems, fmt.Sprintf("%s: documented %s, got %s (%v)", path, kind(doc), kind(got), got))
		return
	}
	switch d := doc.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, dv := range d {
			gv, ok := g[k]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			shape(path+"."+k, dv, gv, problems)
		}
	case []any:
		g := got.([]any)
		if len(d) == 0 {
			return
		}
		if len(g) == 0 {
			*problems = append(*problems, fmt.Sprintf("%s: documented a non-empty array, got []", path))
			return
		}
		for i, gv := range g {
			shape(fmt.Sprintf("%s[%d]", path, i), d[0], gv, problems)
		}
	}
}
