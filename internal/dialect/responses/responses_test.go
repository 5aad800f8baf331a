package responses_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

const path = "/v1/responses"

func seed(t *testing.T, name string) string { return dialecttest.Fixture(t, "seed/"+name) }

// bare sends the key the way the dialect's reference scripts do: without "Bearer ".
var bare = map[string]string{"Authorization": dialecttest.Key, "Content-Type": "application/json"}

type event struct {
	name string
	data map[string]any
}

// readSSE parses an event stream: event/data pairs, and whether it ended in [DONE].
func readSSE(t *testing.T, body []byte) (events []event, done bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var name string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case line == "data: [DONE]":
			done = true
		case strings.HasPrefix(line, "data: "):
			var d map[string]any
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d), line)
			require.Equal(t, name, d["type"], "event name and data type agree")
			events = append(events, event{name, d})
		}
	}
	return events, done
}

func completedText(t *testing.T, resp map[string]any) string {
	out := resp["output"].([]any)[0].(map[string]any)
	return out["content"].([]any)[0].(map[string]any)["text"].(string)
}

// Seed 000: the submit example as written (bare key, image URLs replaced by
// uploads), then the query with stream true and false.
func TestSeed000(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	first, last := g.UploadPNG(1280, 720), g.UploadPNG(1280, 720)
	body := dialecttest.Fixture(t, "000_submit.json",
		"https://ark-project.tos-cn-beijing.volces.com/doc_image/seepro_first_frame.jpeg", first,
		"https://ark-project.tos-cn-beijing.volces.com/doc_image/seepro_last_frame.jpeg", last)
	resp, raw := g.Do("POST", path, strings.NewReader(body), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	dialecttest.RequireShape(t, seed(t, "000_submit_answer.json"), raw)
	g.Golden("000_submit", raw)
	var sub struct {
		ID    string `json:"id"`
		Usage struct {
			TotalTokens int64 `json:"total_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(raw, &sub))
	require.EqualValues(t, 1920*1080*121/1024, sub.Usage.TotalTokens, "1080p 16:9 5 s on 1.5 pro")

	// Streamed query: waits for the result, then the Responses-API events.
	query := dialecttest.Fixture(t, "000_query.json", "cgt-20260119222114-2r292", sub.ID)
	resp, raw = g.Do("POST", path, strings.NewReader(query), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	events, done := readSSE(t, raw)
	require.True(t, done, "the stream ends with data: [DONE]")
	var names []string
	for _, e := range events {
		if len(names) == 0 || names[len(names)-1] != e.name {
			names = append(names, e.name)
		}
	}
	require.Equal(t, []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.completed"}, names)
	final := events[len(events)-1].data["response"].(map[string]any)
	require.Equal(t, "completed", final["status"])
	text := completedText(t, final)
	j := g.Wait(sub.ID)
	require.Equal(t, "succeeded", j.Status)
	require.Contains(t, text, "视频URL: "+j.Output.Videos[0].URL)
	require.Regexp(t, regexp.MustCompile(`(?m)^状态: succeeded$`), text)

	// Unstreamed: one Responses object with the same text.
	query = strings.Replace(query, `"stream": true`, `"stream": false`, 1)
	resp, raw = g.Do("POST", path, strings.NewReader(query), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(raw, &obj))
	require.Equal(t, "response", obj["object"])
	require.Equal(t, "seedance-get", obj["model"])
	require.Equal(t, text, completedText(t, obj))
	g.Golden("000_query_unstreamed", raw, "created_at")

	// The task reads in the model name the client used.
	require.Equal(t, "doubao-seedance-1-5-pro-responses", j.Model)
}

// A streamed query on a task that is still queued reports progress and, when
// SEEDGATE_SYNC_WAIT runs out, completes with the current status.
func TestQueryWaitBounded(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SYNC_WAIT=300ms", "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")
	resp, raw := g.Do("POST", path, strings.NewReader(`{"model":"doubao-seedance-1-5-pro-responses","input":"a quiet lake","resolution":"480p"}`), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var sub struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &sub))
	// The task stays queued for 30 s: the answer below comes when the sync wait runs out.
	resp, raw = g.Do("POST", path, strings.NewReader(`{"model":"seedance-get","input":"`+sub.ID+`","stream":true}`), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events, done := readSSE(t, raw)
	require.True(t, done)
	text := completedText(t, events[len(events)-1].data["response"].(map[string]any))
	require.Contains(t, text, "状态: queued")
	require.NotContains(t, text, "视频URL")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	img := g.UploadPNG(640, 640)
	text := `{"type":"text","text":"a cat"}`
	m := `"model":"doubao-seedance-1-5-pro-responses",`
	cases := []struct {
		name, body string
		status     int
		param      string
		msg        string
	}{
		{"bad field", `{` + m + `"input":[` + text + `],"duration":"five"}`, 400, "duration", "integer"},
		{"string image_url", `{` + m + `"input":[` + text + `,{"type":"image_url","image_url":"` + img + `"}]}`, 400, "input[1].image_url", "not a string"},
		{"both image forms", `{` + m + `"input":[` + text + `,{"type":"image_url","image_url":{"url":"` + img + `"},"role":"first_frame"},{"type":"image_url","image_url":{"url":"` + img + `"},"role":"reference_image"}]}`,
			400, "input", "reference images cannot be combined"},
		{"unknown model", `{"model":"gpt-4o","input":"hi"}`, 400, "model", "doubao-seedance-1-5-pro-responses"},
		{"out-of-range duration", `{` + m + `"input":[` + text + `],"duration":3}`, 400, "duration", "4–12 or -1"},
		{"missing input", `{` + m + `"duration":5}`, 400, "input", "input"},
		{"query without id", `{"model":"seedance-get","input":""}`, 400, "input", "task id"},
		{"query unknown task", `{"model":"seedance-get","input":"cgt-nope","stream":true}`, 404, "id", "not found"},
	}
	for _, c := range cases {
		resp, raw := g.Do("POST", path, strings.NewReader(c.body), bare)
		require.Equal(t, c.status, resp.StatusCode, "%s: %s", c.name, raw)
		var e struct {
			Error struct {
				Message, Type, Code string
				Param               *string
			}
		}
		require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
		require.NotNil(t, e.Error.Param, c.name)
		require.Equal(t, c.param, *e.Error.Param, "%s: %s", c.name, raw)
		require.Contains(t, e.Error.Message, c.msg, "%s: %s", c.name, raw)
		require.NotEmpty(t, e.Error.Type)
	}
	resp, raw := g.Do("POST", path, strings.NewReader(`{}`), map[string]string{"Authorization": "sk-wrong"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	g.Golden("error_wrong_key", raw, "message")
}

// The seed's own query script (its mis-encoded lines repaired), run against
// the gateway behind TLS, prints the video URL: it only matches https URLs.
func TestSeedQueryScript(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import requests").Run() != nil {
		t.Skip("python3 with requests is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	front := "https://" + ln.Addr().String()
	g := dialecttest.Start(t, "SEEDGATE_PUBLIC_URL="+front)
	target, _ := url.Parse(g.URL)
	ts := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	ts.Listener.Close()
	ts.Listener = ln
	ts.StartTLS()
	defer ts.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644))

	resp, raw := g.Do("POST", path, strings.NewReader(`{"model":"doubao-seedance-1-5-pro-responses","input":[{"type":"text","text":"茄子"}],"resolution":"480p","duration":4}`), bare)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var sub struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &sub))

	script := dialecttest.Fixture(t, "000_query.py",
		"https://www.dmxapi.cn/v1/responses", front+path,
		"sk-***********************************************", dialecttest.Key,
		"cgt-20260119222114-2r292", sub.ID)
	file := filepath.Join(dir, "query.py")
	require.NoError(t, os.WriteFile(file, []byte(script), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, file)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+ca, "PYTHONIOENCODING=utf-8")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	j := g.Wait(sub.ID)
	require.Equal(t, "succeeded", j.Status)
	require.True(t, strings.HasPrefix(j.Output.Videos[0].URL, front+"/v1/files/"), j.Output.Videos[0].URL)
	require.Contains(t, string(out), "100%")
	require.Contains(t, string(out), "视频地址: "+j.Output.Videos[0].URL, "%s", out)
}
