package dialecttest_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
)

// download fetches a result URL of the gateway into a temp file.
func download(t *testing.T, g *dialecttest.Gateway, url, name string) (string, *http.Response) {
	t.Helper()
	resp, b := g.Do("GET", strings.TrimPrefix(url, g.URL), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, resp
}

// greyFrame decodes frame index of a video as a 32×18 grey thumbnail.
func greyFrame(t *testing.T, path string, index int) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", path,
		"-vf", fmt.Sprintf("select=eq(n\\,%d),scale=32:18:flags=area,format=gray", index),
		"-frames:v", "1", "-f", "rawvideo", "pipe:1").Output()
	require.NoError(t, err)
	require.Len(t, out, 32*18)
	return out
}

func greyDiff(a, b []byte) float64 {
	sum := 0.0
	for i := range a {
		sum += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return sum / float64(len(a))
}

// A draft, then its final through the native API: the final is 720p, has the
// draft's seed and shows the draft's scene; and each final that cannot be
// made is a 400 naming draft_task_id (content[].draft_task.id on Ark).
func TestDraftThenFinal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	acme := newKey(t, g, `{"name":"acme","tenant":"acme"}`)
	globex := newKey(t, g, `{"name":"globex","tenant":"globex"}`)

	draft := func(c client, prompt string, seed int) string {
		out := c.json("POST", "/v1/jobs", fmt.Sprintf(`{"model":"seedance-1.5-pro","strict":true,"input":{"prompt":%q,"draft":true,"duration":4,"ratio":"16:9","seed":%d}}`, prompt, seed), http.StatusOK)
		return out["id"].(string)
	}
	final := func(c client, draftID string, want int) map[string]any {
		return c.json("POST", "/v1/jobs", fmt.Sprintf(`{"model":"seedance-1.5-pro","strict":true,"input":{"prompt":"a lighthouse in a storm","draft_task_id":%q}}`, draftID), want)
	}

	d := draft(acme, "a lighthouse in a storm", 4242)
	other := draft(acme, "a lighthouse in a storm", 99)
	dj, oj := acme.wait(d), acme.wait(other)
	require.Equal(t, "succeeded", dj["status"], "%v", dj)
	require.Equal(t, "succeeded", oj["status"], "%v", oj)
	f := final(acme, d, http.StatusOK)
	fj := acme.wait(f["id"].(string))
	require.Equal(t, "succeeded", fj["status"], "%v", fj)

	task := func(id string) (seed int64, video string) {
		tk, err := g.App.Store.GetTask(context.Background(), id)
		require.NoError(t, err)
		return tk.Result.Seed, g.App.Service.FileURL(tk.Result.VideoFileID)
	}
	draftSeed, draftURL := task(d)
	finalSeed, finalURL := task(f["id"].(string))
	_, otherURL := task(other)
	require.Equal(t, int64(4242), draftSeed)
	require.Equal(t, draftSeed, finalSeed, "the final has its draft's seed")

	draftPath, _ := download(t, g, draftURL, "draft.mp4")
	finalPath, resp := download(t, g, finalURL, "final.mp4")
	otherPath, _ := download(t, g, otherURL, "other.mp4")
	require.Equal(t, "video/mp4", resp.Header.Get("Content-Type"))
	di, err := mediatest.ProbeVideo(context.Background(), draftPath)
	require.NoError(t, err)
	require.Equal(t, []int{864, 496}, []int{di.Width, di.Height}, "a draft is 480p")
	fi, err := mediatest.ProbeVideo(context.Background(), finalPath)
	require.NoError(t, err)
	require.Equal(t, []int{1280, 720}, []int{fi.Width, fi.Height}, "the final is 720p")
	require.InDelta(t, 97.0/24, fi.Duration, 1.0/24, "the draft's 4 s (97 frames)")
	same := greyDiff(greyFrame(t, draftPath, 24), greyFrame(t, finalPath, 24))
	differs := greyDiff(greyFrame(t, otherPath, 24), greyFrame(t, finalPath, 24))
	require.Less(t, same, 10.0, "the final shows the draft's scene")
	require.Greater(t, differs, 2*same, "another seed's draft shows another scene")

	// The four finals that cannot be made, in the native API's shape.
	notDraft := acme.json("POST", "/v1/jobs", `{"model":"seedance-1.5-pro","input":{"prompt":"plain","duration":4,"resolution":"480p"}}`, http.StatusOK)["id"].(string)
	acme.wait(notDraft)
	// A draft made 8 days ago: the draft above, recorded again with that age.
	st := g.App.Store
	old, err := st.GetTask(context.Background(), d)
	require.NoError(t, err)
	expired := "cgt-20261101000000-expireddra"
	old.ID, old.Version, old.CreatedAt = expired, 0, time.Now().Add(-8*24*time.Hour)
	require.NoError(t, st.CreateTask(context.Background(), old))

	slow := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h")
	unfinished := slow.JSON
	_, queued, _ := unfinished("POST", "/v1/jobs", `{"model":"seedance-1.5-pro","strict":true,"input":{"prompt":"slow","draft":true,"duration":4}}`)

	for _, tc := range []struct {
		name string
		c    client
		id   string
		want string
	}{
		{"missing", acme, "cgt-20260101000000-nosuchdraft", "does not exist"},
		{"another tenant's", globex, d, "does not exist"},
		{"not a draft", acme, notDraft, "is not a draft"},
		{"expired", acme, expired, "for 7 days"},
	} {
		out := final(tc.c, tc.id, http.StatusBadRequest)
		e := out["error"].(map[string]any)
		require.Equal(t, "input.draft_task_id", e["field"], "%s: %v", tc.name, out)
		require.Contains(t, e["message"], tc.want, tc.name)
	}
	status, out, _ := slow.JSON("POST", "/v1/jobs", fmt.Sprintf(`{"model":"seedance-1.5-pro","input":{"prompt":"x","draft_task_id":%q}}`, queued["id"]))
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	require.Equal(t, "input.draft_task_id", out["error"].(map[string]any)["field"])
	require.Contains(t, out["error"].(map[string]any)["message"], "is queued")

	// Ark names the content item.
	status, out, _ = g.JSON("POST", "/api/v3/contents/generations/tasks",
		`{"model":"doubao-seedance-1-5-pro-251215","content":[{"type":"draft_task","draft_task":{"id":"cgt-20260101000000-nosuchdraft"}}]}`)
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	require.Equal(t, "content[].draft_task.id", out["error"].(map[string]any)["param"])
}
