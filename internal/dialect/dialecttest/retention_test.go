package dialecttest_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// signedPath is the path and query of a gateway file URL.
func signedPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.RequestURI()
}

// status GETs path without an API key when noKey (signed URLs) and returns the answer's status and body.
func status(g *dialecttest.Gateway, path string, noKey bool) (int, string) {
	h := map[string]string{}
	if noKey {
		h["Authorization"] = ""
	}
	resp, b := g.Do("GET", path, nil, h)
	return resp.StatusCode, string(b)
}

// eventuallyGone waits until the blob file under the data dir is gone.
func eventuallyGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still stored", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Deleting a task, in every dialect that deletes, deletes its results (the
// signed URL and the file record answer not found, the blobs go) and the
// upload it alone used, but not one another task uses.
func TestDeleteRemovesResultsAndUploads(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	files := filepath.Join(g.App.Config.DataDir, "files")
	alone, shared := g.UploadPNG(960, 720), g.UploadPNG(960, 720)
	arkBody := func(img string) string {
		return `{"model":"seedance-1-0-lite-i2v-250428","content":[{"type":"text","text":"ark --rs 480p --dur 2"},` +
			`{"type":"image_url","image_url":{"url":"` + img + `"},"role":"first_frame"}]}`
	}
	create := func(path, body string) string {
		status, out, raw := g.JSON("POST", path, body)
		require.Equal(t, http.StatusOK, status, "%s", raw)
		return out["id"].(string)
	}
	cases := []struct {
		dialect, id, del string
		deleted          func(status int, out map[string]any)
		uploads          []string // gone with the task
	}{
		{dialect: "openai", id: create("/v1/videos", `{"model":"seedance-1-0-pro-fast","prompt":"openai","seconds":"2","size":"864x480"}`),
			del: "/v1/videos/", deleted: func(status int, out map[string]any) {
				require.Equal(t, http.StatusOK, status)
				require.Equal(t, true, out["deleted"])
			}},
		{dialect: "ark", id: create("/api/v3/contents/generations/tasks", arkBody(alone)),
			del: "/api/v3/contents/generations/tasks/", deleted: func(status int, _ map[string]any) {
				require.Equal(t, http.StatusOK, status)
			}, uploads: []string{alone}},
	}
	keeper := create("/api/v3/contents/generations/tasks", arkBody(shared))
	sharer := create("/api/v3/contents/generations/tasks", arkBody(shared))
	for _, c := range cases {
		j := g.Wait(c.id)
		require.Equal(t, "succeeded", j.Status, "%s: %+v", c.dialect, j.Error)
		video := signedPath(t, j.Output.Videos[0].URL)
		record := "/v1/files/file_" + c.id + "_video"
		code, body := status(g, video, true)
		require.Equal(t, http.StatusOK, code, "%s %s before the delete: %s", c.dialect, video, body)
		code, body = status(g, record, false)
		require.Equal(t, http.StatusOK, code, "%s: %s", c.dialect, body)
		blob := filepath.Join(files, "results", c.id, "video.mp4")
		require.FileExists(t, blob)

		st, out, raw := g.JSON("DELETE", c.del+c.id, "")
		c.deleted(st, out)
		require.NotContains(t, string(raw), "error", c.dialect)

		for _, p := range []string{video, "/v1/files/file_" + c.id + "_thumbnail/content"} {
			code, body := status(g, p, strings.Contains(p, "sig="))
			require.Equal(t, http.StatusNotFound, code, "%s %s after the delete: %s", c.dialect, p, body)
		}
		code, body = status(g, record, false)
		require.Equal(t, http.StatusNotFound, code, "%s %s after the delete: %s", c.dialect, record, body)
		code, _ = status(g, "/v1/videos/"+c.id+"/content", false)
		require.Equal(t, http.StatusNotFound, code, c.dialect)
		for _, u := range c.uploads {
			code, body := status(g, signedPath(t, u), true)
			require.Equal(t, http.StatusNotFound, code, "%s: the upload only it used: %s", c.dialect, body)
		}
		eventuallyGone(t, blob)
		eventuallyGone(t, filepath.Join(files, "results", c.id, "thumbnail.jpg"))
	}

	// An upload two tasks use stays until the last of them is deleted.
	require.Equal(t, "succeeded", g.Wait(keeper).Status)
	require.Equal(t, "succeeded", g.Wait(sharer).Status)
	st, _, raw := g.JSON("DELETE", "/api/v3/contents/generations/tasks/"+sharer, "")
	require.Equal(t, http.StatusOK, st, "%s", raw)
	code, body := status(g, signedPath(t, shared), true)
	require.Equal(t, http.StatusOK, code, "still used by %s: %s", keeper, body)
	st, _, raw = g.JSON("DELETE", "/api/v3/contents/generations/tasks/"+keeper, "")
	require.Equal(t, http.StatusOK, st, "%s", raw)
	code, _ = status(g, signedPath(t, shared), true)
	require.Equal(t, http.StatusNotFound, code)
	eventuallyGone(t, filepath.Join(files, "uploads", fileID(t, shared)))
}

// fileID is the id in a gateway file URL.
func fileID(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return strings.TrimSuffix(strings.TrimPrefix(u.Path, "/v1/files/"), "/content")
}

// A result past the retention period: its task stays, and reading the
// result answers, in each dialect that serves result bytes, that it expired.
func TestExpiredResultAnswersExpired(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_RESULT_RETENTION=720h")
	status0, out, raw := g.JSON("POST", "/v1/videos", `{"model":"seedance-1-0-pro-fast","prompt":"openai","seconds":"2","size":"864x480"}`)
	require.Equal(t, http.StatusOK, status0, "%s", raw)
	id := out["id"].(string)
	j := g.Wait(id)
	require.Equal(t, "succeeded", j.Status)
	blob := filepath.Join(g.App.Config.DataDir, "files", "results", id, "video.mp4")
	require.FileExists(t, blob)

	// As if 720 h had passed: expire what was made before an hour from now.
	ctx := context.Background()
	now := time.Now()
	fs, err := g.App.Store.ExpireResults(ctx, now.Add(time.Hour), now, 100)
	require.NoError(t, err)
	require.NotEmpty(t, fs)
	_, deleted, err := g.App.Sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, deleted, 2, "the video and its thumbnail")
	require.NoFileExists(t, blob)

	code, body := status(g, "/v1/jobs/"+id, false)
	require.Equal(t, http.StatusOK, code, "the task stays: %s", body)
	for _, p := range []struct {
		path  string
		noKey bool
	}{
		{signedPath(t, j.Output.Videos[0].URL), true}, // the URL every dialect gives
		{"/v1/files/file_" + id + "_video/content", false},
		{"/v1/videos/" + id + "/content", false}, // openai
		{"/v1/videos/" + id + "/content?variant=thumbnail", false},
	} {
		code, body := status(g, p.path, p.noKey)
		require.Equal(t, http.StatusNotFound, code, "%s: %s", p.path, body)
		require.Contains(t, body, "expired", p.path)
		require.Contains(t, body, "720h0m0s", p.path)
	}
}

// A tenant's storage quota (set through the admin API, else
// SEEDGATE_STORAGE_QUOTA) refuses an upload that would pass it (413) and a
// task once it is used up (402), in the dialect's shape; deleting a task
// gives its room back.
func TestStorageQuota(t *testing.T) {
	t.Parallel()
	img := dialecttest.PNG(960, 720)
	n := int64(len(img))
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, fmt.Sprintf("SEEDGATE_STORAGE_QUOTA=%d", 1<<40))
	c := newKey(t, g, `{"name":"quota","tenant":"tq"}`)
	admin := client{t, g, adminKey}
	out := admin.json("PUT", "/admin/v1/tenants/tq/storage", fmt.Sprintf(`{"quota":%d}`, n+n/2), http.StatusOK)
	require.EqualValues(t, n+n/2, out["storage_quota"])
	require.EqualValues(t, n+n/2, admin.json("GET", "/admin/v1/tenants/tq", "", http.StatusOK)["storage_quota"])
	admin.json("PUT", "/admin/v1/tenants/tq/storage", `{"quota":-1}`, http.StatusBadRequest)

	first := uploadAs(t, g, c.key, img)["url"].(string)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("kind", "image"))
	fw, err := mw.CreateFormFile("file", "frame.png")
	require.NoError(t, err)
	_, _ = fw.Write(img)
	require.NoError(t, mw.Close())
	resp, b := g.Do("POST", "/v1/files/upload", &body, map[string]string{"Authorization": "Bearer " + c.key, "Content-Type": mw.FormDataContentType()})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s", b)
	require.Contains(t, string(b), "storage quota exceeded")

	// One task fits (its result may pass the quota); then new ones are refused.
	ark := `{"model":"seedance-1-0-lite-i2v-250428","content":[{"type":"text","text":"q --rs 480p --dur 2"},` +
		`{"type":"image_url","image_url":{"url":"` + first + `"},"role":"first_frame"}]}`
	id := c.json("POST", "/api/v3/contents/generations/tasks", ark, http.StatusOK)["id"].(string)
	require.Equal(t, "succeeded", c.wait(id)["status"])
	out = c.json("POST", "/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"jobs","resolution":"480p","duration":2}}`, http.StatusPaymentRequired)
	require.Contains(t, fmt.Sprint(out), "storage quota exceeded")
	out = c.json("POST", "/v1/videos/generations", `{"model":"doubao-seedance-1-0-lite-t2v","prompt":"videos","duration":2,"resolution":"480p"}`, http.StatusPaymentRequired)
	require.Contains(t, fmt.Sprint(out), "storage quota exceeded")

	// Deleting the task frees its result and its upload: there is room again.
	resp, b = c.do("DELETE", "/api/v3/contents/generations/tasks/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	c.json("POST", "/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"jobs","resolution":"480p","duration":2}}`, http.StatusOK)
	// null: the gateway default again.
	out = admin.json("PUT", "/admin/v1/tenants/tq/storage", `{"quota":null}`, http.StatusOK)
	require.Nil(t, out["storage_quota"])
}
