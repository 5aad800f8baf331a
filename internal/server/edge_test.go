package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawRequest opens a connection to g and sends head (a request's head, CRLFs
// added) and then body, leaving the connection open.
func rawRequest(t *testing.T, g *testGateway, head []string, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, strings.Join(head, "\r\n")+"\r\n\r\n"+body)
	require.NoError(t, err)
	return c
}

// answerAndClose reads c until the server closes it (within limit) and
// returns what it sent.
func answerAndClose(t *testing.T, c net.Conn, limit time.Duration) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(limit)))
	b, err := io.ReadAll(c)
	require.NoError(t, err, "the connection was not answered and closed within %s; got %q", limit, b)
	return string(b)
}

// A caller without a key who sends a body slowly gets its 401 at once, and
// the connection is closed rather than its body drained.
func TestSlowBodyWithoutKeyIsAnsweredAtOnce(t *testing.T) {
	g := newTestGateway(t, nil)
	for name, framing := range map[string]string{
		"content-length": "Content-Length: 200000", // under the 256 KiB Go drains before answering
		"chunked":        "Transfer-Encoding: chunked",
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			c := rawRequest(t, g, []string{"POST /v1/jobs HTTP/1.1", "Host: localhost", "Content-Type: application/json", framing}, "")
			// The body trickles in a byte at a time, as long as the connection lasts.
			go func() {
				for i := 0; ; i++ {
					chunk := "{"
					if name == "chunked" {
						chunk = "1\r\n{\r\n"
					}
					if _, err := io.WriteString(c, chunk); err != nil {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
			}()
			got := answerAndClose(t, c, 5*time.Second)
			require.True(t, strings.HasPrefix(got, "HTTP/1.1 401 "), "%s", got)
			require.Contains(t, got, "unauthorized")
			require.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

// The connection timeouts are settings: slow headers, and an authenticated
// body slower than SEEDGATE_BODY_TIMEOUT, lose their connection.
func TestSlowConnectionsTimeOut(t *testing.T) {
	g := newTestGateway(t, map[string]string{"SEEDGATE_READ_HEADER_TIMEOUT": "1s", "SEEDGATE_BODY_TIMEOUT": "1s"})

	c := rawRequest(t, g, []string{"GET /v1/jobs HTTP/1.1", "Host: localhost"}, "") // the blank line never comes...
	_, _ = c.Write([]byte("X-Slow: 1\r\n"))
	start := time.Now()
	answerAndClose(t, c, 5*time.Second)
	require.Less(t, time.Since(start), 4*time.Second, "slow headers were not cut off after SEEDGATE_READ_HEADER_TIMEOUT")

	c = rawRequest(t, g, []string{"POST /v1/jobs HTTP/1.1", "Host: localhost", "Authorization: Bearer " + keyA,
		"Content-Type: application/json", "Content-Length: 1000"}, "{")
	start = time.Now()
	answerAndClose(t, c, 5*time.Second)
	require.Less(t, time.Since(start), 4*time.Second, "a slow body was not cut off after SEEDGATE_BODY_TIMEOUT")
}

// Waits and streams outlast the read and write timeouts: a "Prefer: wait"
// get holds for its N seconds, and an event stream stays open and delivers.
func TestWaitsAndStreamsOutlastTimeouts(t *testing.T) {
	g := newTestGateway(t, map[string]string{"SEEDGATE_READ_TIMEOUT": "1s", "SEEDGATE_WRITE_TIMEOUT": "1s",
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "1h"})
	j := g.createJob(`"prompt":"a queued job"`)

	start := time.Now()
	var got jobAnswer
	resp, body := g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=3"), &got)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.GreaterOrEqual(t, time.Since(start), 2900*time.Millisecond, "the wait was cut short")
	require.Equal(t, "processing", got.Status)

	s := g.openEvents(j.ID, "")
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	<-time.After(2500 * time.Millisecond) // past both timeouts
	resp, body = g.call("POST", "/v1/jobs/"+j.ID+"/cancel", "", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var types []string
	for {
		ev, _, ok := s.next(t)
		if !ok {
			break
		}
		types = append(types, ev.Data)
	}
	require.Contains(t, strings.Join(types, ","), `"cancelled"`, "the stream ended before the job did: %v", types)
}

// SEEDGATE_MAX_CONNS_PER_CLIENT caps one address's connections with a clear 503.
func TestConnsPerClientCap(t *testing.T) {
	g := newTestGateway(t, map[string]string{"SEEDGATE_MAX_CONNS_PER_CLIENT": "2"})
	addr := strings.TrimPrefix(g.url, "http://")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		held = append(held, c)
		// Each connection is in use: a request answered over it keeps it open.
		_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	c := rawRequest(t, g, []string{"GET /healthz HTTP/1.1", "Host: localhost"}, "")
	got := answerAndClose(t, c, 5*time.Second)
	require.True(t, strings.HasPrefix(got, "HTTP/1.1 503 "), "%s", got)
	require.Contains(t, got, "SEEDGATE_MAX_CONNS_PER_CLIENT")

	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(g.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "a freed slot was not reused")
		time.Sleep(20 * time.Millisecond)
	}
	held[1].Close()
}

// On an open gateway, web pages cannot drive it through a browser: JSON needs
// a JSON Content-Type, cross-site requests that change something are refused
// (multipart uploads too), and a foreign Host is refused (DNS rebinding).
func TestOpenGatewayRefusesWebPages(t *testing.T) {
	g := newTestGateway(t, map[string]string{"SEEDGATE_API_KEYS": ""})
	job := `{"model":"seedance-1-0-pro","input":{"prompt":"x",` + tiny + `}}`

	t.Run("content type", func(t *testing.T) {
		for _, c := range []struct {
			path, ct, body, want string
			status               int
		}{
			{"/v1/jobs", "text/plain", job, `"code":"unsupported_media_type"`, 415},
			{"/v1/jobs", "", job, `"code":"unsupported_media_type"`, 415},
			{"/v1/jobs", "application/x-www-form-urlencoded", job, `"code":"unsupported_media_type"`, 415},
			// Ark's own table answers every bad request 400 InvalidParameter.
			{"/api/v3/contents/generations/tasks", "text/plain;charset=UTF-8", `{"model":"seedance-1-0-pro","content":[{"type":"text","text":"x"}]}`, `"code":"InvalidParameter"`, 400},
			{"/v1/videos", "text/plain", `{"model":"sora-2","prompt":"x"}`, `"type":"invalid_request_error"`, 415},
		} {
			req, err := http.NewRequest("POST", g.url+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, c.status, resp.StatusCode, "%s %q: %s", c.path, c.ct, b)
			require.Contains(t, string(b), "application/json", "%s", b)
			require.Contains(t, string(b), c.want, "%s", b)
		}
		resp, body := g.call("POST", "/v1/jobs", "", job, http.Header{"Content-Type": {"application/vnd.api+json"}}, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "+json types are JSON: %s", body)
	})

	t.Run("cross-site", func(t *testing.T) {
		for _, h := range []http.Header{
			{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
			{"Sec-Fetch-Site": {"same-site"}},
			{"Origin": {"https://evil.example"}}, // a browser without Sec-Fetch-Site
		} {
			code, body := upload(t, g, h)
			require.Equal(t, http.StatusForbidden, code, "%v: %s", h, body)
			require.Contains(t, body, "SEEDGATE_CORS_ORIGINS")
			resp, b := g.call("POST", "/v1/jobs", "", job, h, nil)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%v: %s", h, b)
		}
		// The console's own requests, and clients that are not browsers, pass.
		for _, h := range []http.Header{{"Sec-Fetch-Site": {"same-origin"}, "Origin": {g.url}}, {"Origin": {g.url}}, {}} {
			code, body := upload(t, g, h)
			require.Equal(t, http.StatusOK, code, "%v: %s", h, body)
		}
		// Reading is not refused (browsers keep the answer from a foreign page without CORS).
		resp, _ := g.call("GET", "/v1/jobs", "", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("host", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(g.url, "http://"))
		for host, want := range map[string]int{
			"rebound.evil.example:" + port: http.StatusMisdirectedRequest,
			"localhost:" + port:            http.StatusOK,
			"127.0.0.1:" + port:            http.StatusOK,
			"[::1]:" + port:                http.StatusOK,
		} {
			req, err := http.NewRequest("GET", g.url+"/v1/jobs", nil)
			require.NoError(t, err)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, want, resp.StatusCode, "%s: %s", host, b)
			if want != http.StatusOK {
				require.Contains(t, string(b), "SEEDGATE_ALLOWED_HOSTS")
			}
		}
		req, _ := http.NewRequest("GET", g.url+"/healthz", nil)
		req.Host = "pod-name.internal"
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "health checks answer any host")
	})
}

// upload posts a small PNG to /v1/files/upload with header h and returns the status and body.
func upload(t *testing.T, g *testGateway, h http.Header) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("kind", "image"))
	fw, err := mw.CreateFormFile("file", "a.png")
	require.NoError(t, err)
	_, err = fw.Write(pngBytes(t, 400, 400))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest("POST", g.url+"/v1/files/upload", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+keyA)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// SEEDGATE_CORS_ORIGINS lets the named origins' pages call the gateway:
// preflights are answered for them only, and their requests pass the
// cross-origin check; SEEDGATE_ALLOWED_HOSTS replaces the default names.
func TestCORSOriginsAndAllowedHosts(t *testing.T) {
	g := newTestGateway(t, map[string]string{"SEEDGATE_CORS_ORIGINS": "https://app.example",
		"SEEDGATE_ALLOWED_HOSTS": "gw.example,*.gw.example"})

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", g.url+"/v1/jobs", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://app.example")
	require.Less(t, resp.StatusCode, 300)
	require.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "idempotency-key")
	require.Empty(t, preflight("https://evil.example").Header.Get("Access-Control-Allow-Origin"))

	h := http.Header{"Origin": {"https://app.example"}, "Sec-Fetch-Site": {"cross-site"}}
	code, body := upload(t, g, h)
	require.Equal(t, http.StatusOK, code, "%s", body)
	resp, body2 := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"x",`+tiny+`}}`, h, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body2)
	require.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id")
	code, _ = upload(t, g, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	require.Equal(t, http.StatusForbidden, code)

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(g.url, "http://"))
	for host, want := range map[string]int{"gw.example": 200, "eu.gw.example:" + port: 200, "localhost:" + port: 421, "127.0.0.1": 200} {
		req, _ := http.NewRequest("GET", g.url+"/v1/jobs", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+keyA)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, host)
	}
}

// A broken file store is the server's fault: a 5xx in the dialect's shape with
// the request id and no server path, the cause in the log with the request
// id, and /readyz failing until it is repaired.
func TestStorageFailureIsA5xxAndNotReady(t *testing.T) {
	dataDir := t.TempDir()
	g := newTestGateway(t, map[string]string{"SEEDGATE_DATA_DIR": dataDir, "SEEDGATE_ADMIN_KEY": "admin-key-0123456789"})
	uploads := filepath.Join(dataDir, "files", "uploads")
	require.NoError(t, os.RemoveAll(uploads))
	require.NoError(t, os.WriteFile(uploads, []byte("not a directory"), 0o644))

	check := func(name string, code int, body []byte, rid string) {
		t.Helper()
		require.GreaterOrEqual(t, code, 500, "%s: %s", name, body)
		require.NotEmpty(t, rid)
		require.Contains(t, string(body), rid, "%s: the answer names the request id", name)
		require.NotContains(t, string(body), dataDir, name)
		require.NotContains(t, string(body), "files/uploads", name)
		require.Contains(t, g.logs.String(), rid, "%s: the cause is logged with the request id", name)
		require.Contains(t, logLine(g.logs.String(), rid), "not a directory", name)
	}

	// jobs: an upload.
	code, body := upload(t, g, nil)
	var e struct {
		Error struct{ Code, Message, RequestID string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	require.Equal(t, "internal", e.Error.Code, body)
	check("jobs upload", code, []byte(body), requestID(body))

	// openai: a create with an input_reference file.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("model", "sora-2")
	_ = mw.WriteField("prompt", "x")
	fw, _ := mw.CreateFormFile("input_reference", "a.png")
	_, _ = fw.Write(pngBytes(t, 1280, 720))
	require.NoError(t, mw.Close())
	req, _ := http.NewRequest("POST", g.url+"/v1/videos", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+keyA)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var oe struct {
		Error struct{ Type, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(b, &oe), "%s", b)
	require.Equal(t, "server_error", oe.Error.Type, "%s", b)
	check("openai create", resp.StatusCode, b, resp.Header.Get("X-Request-Id"))

	// /readyz: not ready, what failed only for the admin key.
	resp, b = g.call("GET", "/readyz", "none", "", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", b)
	require.JSONEq(t, `{"status":"not ready"}`, string(b))
	resp, b = g.call("GET", "/readyz", "admin-key-0123456789", "", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, string(b), "not a directory")

	require.NoError(t, os.Remove(uploads))
	resp, b = g.call("GET", "/readyz", "none", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	code, body = upload(t, g, nil)
	require.Equal(t, http.StatusOK, code, body)
}

func requestID(body string) string {
	var e struct {
		Error struct {
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.RequestID
}

// logLine is the log line that names the request id rid and an error.
func logLine(logs, rid string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, rid) && strings.Contains(l, "err=") {
			return l
		}
	}
	return ""
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}
