package openrouteremu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/openrouteremu"
	orp "github.com/seedgate/seedgate/internal/protocol/openrouter"
)

const key = "sk-or-test"

// clock is a fake clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func call(t *testing.T, method, url, k, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if k != "" {
		req.Header.Set("Authorization", "Bearer "+k)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// A job goes pending → in_progress → completed on the emulator's clock; its
// content is a real MP4 served only with the owner's key; errors are in
// OpenRouter's shape and name the field.
func TestLifecycle(t *testing.T) {
	mp4, err := openrouteremu.TestVideo(context.Background(), "")
	require.NoError(t, err)
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{key, "sk-other"}, Video: mp4, Now: c.Now,
		QueueTime: time.Second, RunTime: 10 * time.Second})
	ts := httptest.NewServer(emu)
	defer ts.Close()
	base := ts.URL + openrouteremu.BasePath

	status, b := call(t, "POST", base+"/videos", key, `{"model":"bytedance/seedance-2.0","prompt":"a kite","duration":5,"resolution":"720p"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", b)
	var v orp.Video
	require.NoError(t, json.Unmarshal(b, &v))
	require.Regexp(t, `^gen-vid-1800000000-[A-Za-z0-9]{20}$`, v.ID)
	require.Equal(t, base+"/videos/"+v.ID, v.PollingURL)
	require.Equal(t, "pending", v.Status)

	get := func() orp.Video {
		status, b := call(t, "GET", v.PollingURL, key, "")
		require.Equal(t, http.StatusOK, status, "%s", b)
		var got orp.Video
		require.NoError(t, json.Unmarshal(b, &got))
		return got
	}
	c.add(2 * time.Second)
	require.Equal(t, "in_progress", get().Status)
	status, b = call(t, "GET", base+"/videos/"+v.ID+"/content?index=0", key, "")
	require.Equal(t, http.StatusConflict, status, "%s", b)
	c.add(10 * time.Second)
	done := get()
	require.Equal(t, "completed", done.Status)
	require.Equal(t, []string{base + "/videos/" + v.ID + "/content?index=0"}, done.UnsignedURLs)
	require.InDelta(t, 0.5, *done.Usage.Cost, 1e-9)

	status, b = call(t, "GET", done.UnsignedURLs[0], "", "")
	require.Equal(t, http.StatusUnauthorized, status, "the content needs the key: %s", b)
	status, b = call(t, "GET", done.UnsignedURLs[0], "sk-other", "")
	require.Equal(t, http.StatusNotFound, status, "another account's job: %s", b)
	status, b = call(t, "GET", done.UnsignedURLs[0], key, "")
	require.Equal(t, http.StatusOK, status)
	file := filepath.Join(t.TempDir(), "v.mp4")
	require.NoError(t, os.WriteFile(file, b, 0o644))
	info, err := mediatest.ProbeVideo(context.Background(), file)
	require.NoError(t, err)
	require.Equal(t, 320, info.Width)

	status, b = call(t, "POST", base+"/videos", key, `{"model":"bytedance/seedance-2.0","prompt":"x","duration":99}`)
	require.Equal(t, http.StatusBadRequest, status)
	var e orp.ErrorEnvelope
	require.NoError(t, json.Unmarshal(b, &e))
	require.Equal(t, 400, e.Error.Code)
	require.Equal(t, "duration", e.Error.Metadata["param"])
	status, _ = call(t, "POST", base+"/videos", key, `{"model":"seedance-2-0","prompt":"x"}`)
	require.Equal(t, http.StatusBadRequest, status, "only OpenRouter's ids")

	status, b = call(t, "GET", base+"/videos/models", key, "")
	require.Equal(t, http.StatusOK, status)
	var ml orp.ModelList
	require.NoError(t, json.Unmarshal(b, &ml))
	require.Len(t, ml.Data, 3)

	// A failing prompt, and a continuation of a completed job.
	status, b = call(t, "POST", base+"/videos", key, `{"model":"bytedance/seedance-2.0","prompt":"no `+openrouteremu.FailMarker+`"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", b)
	require.NoError(t, json.Unmarshal(b, &v))
	c.add(time.Minute)
	failed := get()
	require.Equal(t, "failed", failed.Status)
	require.NotEmpty(t, failed.Error)
	status, b = call(t, "POST", base+"/videos", key, `{"model":"bytedance/seedance-2.0","prompt":"more","previous_job_id":"`+done.ID+`"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", b)
	status, _ = call(t, "POST", base+"/videos", key, `{"model":"bytedance/seedance-2.0","prompt":"more","previous_job_id":"`+failed.ID+`"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Len(t, emu.Jobs(), 3)
}

// Faults: an HTTP error and a dropped connection create nothing; a drop
// after the create leaves a job the client never heard of.
func TestFaults(t *testing.T) {
	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{key}})
	ts := httptest.NewServer(emu)
	defer ts.Close()
	url := ts.URL + openrouteremu.BasePath + "/videos"
	body := `{"model":"bytedance/seedance-2.0","prompt":"a kite"}`

	emu.InjectFault(openrouteremu.Fault{Op: openrouteremu.OpCreate, Kind: openrouteremu.FaultHTTPError, Status: 503})
	status, b := call(t, "POST", url, key, body)
	require.Equal(t, http.StatusServiceUnavailable, status, "%s", b)
	require.Contains(t, string(b), `"code":503`)
	require.Empty(t, emu.Jobs())

	for _, kind := range []openrouteremu.FaultKind{openrouteremu.FaultDrop, openrouteremu.FaultDropAfter} {
		emu.InjectFault(openrouteremu.Fault{Op: openrouteremu.OpCreate, Kind: kind})
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		_, err := http.DefaultClient.Do(req)
		require.Error(t, err, kind)
	}
	require.Len(t, emu.Jobs(), 1, "the drop after the create created the job")
	require.Equal(t, 3, emu.Calls(openrouteremu.OpCreate))
}
