package arkemu_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
)

const (
	testKey  = "sk-test"
	otherKey = "sk-other"
	pro10    = "doubao-seedance-1-0-pro-250528"
	pro15    = "doubao-seedance-1-5-pro-251215"
	lite     = "doubao-seedance-1-0-lite-t2v-250428"
	v20      = "doubao-seedance-2-0-260128"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 31, 9, 50, 19, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// bundle is one emulator under test and a way to call it.
type bundle struct {
	t     *testing.T
	srv   *arkemu.Server
	http  *httptest.Server
	base  string // <server>/api/v3
	clock *fakeClock
}

// setup starts an emulator. With fake set, it runs on a fake clock with
// QueueTime 10s and RunTime 60s unless opts say otherwise.
func setup(t *testing.T, opts arkemu.Options, fake bool) *bundle {
	t.Helper()
	b := &bundle{t: t}
	if opts.APIKeys == nil {
		opts.APIKeys = []string{testKey, otherKey}
	}
	if fake {
		b.clock = newFakeClock()
		opts.Now = b.clock.Now
		if opts.QueueTime == 0 {
			opts.QueueTime = 10 * time.Second
		}
		if opts.RunTime == 0 {
			opts.RunTime = 60 * time.Second
		}
	}
	b.srv = arkemu.New(opts)
	b.http = httptest.NewServer(b.srv)
	b.base = b.http.URL + arkemu.BasePath
	t.Cleanup(func() {
		b.http.Close()
		b.srv.Close()
	})
	return b
}

// advance moves the fake clock and runs the timeline.
func (b *bundle) advance(d time.Duration) {
	b.clock.Advance(d)
	b.srv.Tick()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// errorOf returns the Ark error envelope's fields.
func (r response) errorOf(t *testing.T) (code, param, typ string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "no error envelope in %s", r.body)
	require.Contains(t, e["message"], "Request ID: ")
	return e["code"].(string), e["param"].(string), e["type"].(string)
}

func (b *bundle) do(method, path, key string, body any) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			buf, err := json.Marshal(body)
			require.NoError(b.t, err)
			raw = string(buf)
		}
		rd = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	require.NoError(b.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Client().Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (b *bundle) create(key string, body any) string {
	b.t.Helper()
	r := b.do(http.MethodPost, "/contents/generations/tasks", key, body)
	require.Equal(b.t, http.StatusOK, r.status, "create: %s", r.body)
	id, _ := r.json(b.t)["id"].(string)
	require.Regexp(b.t, `^cgt-\d{14}-[0-9a-z]{5}$`, id)
	return id
}

func (b *bundle) get(key, id string) map[string]any {
	b.t.Helper()
	r := b.do(http.MethodGet, "/contents/generations/tasks/"+id, key, nil)
	require.Equal(b.t, http.StatusOK, r.status, "get: %s", r.body)
	return r.json(b.t)
}

func (b *bundle) status(id string) string {
	b.t.Helper()
	return b.get(testKey, id)["status"].(string)
}

// waitStatus polls (real clock) until the task reaches want.
func (b *bundle) waitStatus(id, want string) map[string]any {
	b.t.Helper()
	var last map[string]any
	require.Eventually(b.t, func() bool {
		last = b.get(testKey, id)
		return last["status"] == want
	}, 10*time.Second, 5*time.Millisecond, "task %s never became %s", id, want)
	return last
}

// textBody is a minimal create body.
func textBody(model, prompt string, extra map[string]any) map[string]any {
	m := map[string]any{
		"model":   model,
		"content": []any{map[string]any{"type": "text", "text": prompt}},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func imageItem(url, role string) map[string]any {
	it := map[string]any{"type": "image_url", "image_url": map[string]any{"url": url}}
	if role != "" {
		it["role"] = role
	}
	return it
}

// pngDataURL is a data URL of a w×h PNG.
func pngDataURL(t *testing.T, w, h int) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))))
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// callbackSink records callbacks; answer decides each response code.
type callbackSink struct {
	mu     sync.Mutex
	bodies []map[string]any
	answer func(n int, status string) int
	srv    *httptest.Server
}

func newCallbackSink(t *testing.T, answer func(n int, status string) int) *callbackSink {
	t.Helper()
	s := &callbackSink{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		s.mu.Lock()
		s.bodies = append(s.bodies, m)
		n := len(s.bodies)
		s.mu.Unlock()
		code := http.StatusOK
		if s.answer != nil {
			code = s.answer(n, m["status"].(string))
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *callbackSink) statuses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.bodies {
		out = append(out, b["status"].(string))
	}
	return out
}
