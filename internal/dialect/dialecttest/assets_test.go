package dialecttest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/store"
)

// The asset library: /v1/assets per tenant, and asset://<id> in the media
// URL fields of every dialect.

func uploadKindAs(t *testing.T, g *dialecttest.Gateway, key, kind, name string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("kind", kind))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = fw.Write(data)
	require.NoError(t, mw.Close())
	resp, b := g.Do("POST", "/v1/files/upload", &body, map[string]string{"Authorization": "Bearer " + key, "Content-Type": mw.FormDataContentType()})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out["id"].(string)
}

// mp4Head is the start of an MP4 file: enough for the gateway to know a video.
var mp4Head = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), make([]byte, 600)...)

func TestAssetLibrary(t *testing.T) {
	t.Parallel()
	png := dialecttest.PNG(640, 480)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/face.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(src.Close)
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8")
	acme := newKey(t, g, `{"name":"acme app","tenant":"acme"}`)
	globex := newKey(t, g, `{"name":"globex app","tenant":"globex"}`)

	// From an upload: a copy of the file, of the kind its content is.
	fileID := uploadKindAs(t, g, acme.key, "image", "portrait.png", png)
	a := acme.json("POST", "/v1/assets", `{"file_id":"`+fileID+`","group":"faces","name":"Ada"}`, http.StatusOK)
	id := a["id"].(string)
	require.Regexp(t, `^asset-[a-z2-7]{24}$`, id)
	require.Equal(t, "asset://"+id, a["url"])
	require.Equal(t, "image", a["kind"])
	require.Equal(t, "faces", a["group"])
	require.Equal(t, "Ada", a["name"])
	require.Equal(t, "Active", a["status"])
	require.EqualValues(t, 640, a["width"])
	require.EqualValues(t, len(png), a["bytes"])
	require.Empty(t, a["mirrors"])
	// Its content is served at its signed URL, byte for byte.
	resp, body := g.Do("GET", strings.TrimPrefix(a["content_url"].(string), g.URL), nil, map[string]string{"Authorization": ""})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, png, body)

	// From a URL, fetched through the SSRF guard.
	fromURL := acme.json("POST", "/v1/assets", `{"url":"`+src.URL+`/face.png"}`, http.StatusOK)
	require.Equal(t, "image", fromURL["kind"])
	require.Equal(t, "face.png", fromURL["name"])
	require.Equal(t, "", fromURL["group"])
	require.Equal(t, src.URL+"/face.png", fromURL["source_url"])
	// A video is a video.
	videoFile := uploadKindAs(t, g, acme.key, "video", "clip.mp4", mp4Head)
	video := acme.json("POST", "/v1/assets", `{"file_id":"`+videoFile+`","group":"faces"}`, http.StatusOK)
	require.Equal(t, "video", video["kind"])

	// Bad input: a clear 400 naming the field.
	for _, c := range []struct{ body, field string }{
		{`{}`, "file_id"},
		{`{"file_id":"file-abcdefghijklmnopqrstuvwx"}`, "file_id"},
		{`{"file_id":"` + fileID + `","url":"https://example.com/a.png"}`, "url"},
		{`{"url":"file:///etc/passwd"}`, "url"},
		{`{"url":"http://169.254.169.254/latest/meta-data"}`, "url"},
		{`{"url":"` + src.URL + `/missing.png"}`, "url"},
		{`{"file_id":"` + fileID + `","group":"no spaces please"}`, "group"},
		{`{"file_id":"` + fileID + `","colour":"red"}`, "colour"},
	} {
		resp, b := acme.do("POST", "/v1/assets", c.body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", c.body, b)
		require.Contains(t, string(b), `"field":"`+c.field+`"`, "%s: %s", c.body, b)
	}
	// Another tenant's file is no file.
	resp, b := globex.do("POST", "/v1/assets", `{"file_id":"`+fileID+`"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)

	// Lists: newest first, paged, by group; groups with their sizes.
	list := acme.json("GET", "/v1/assets?limit=2", "", http.StatusOK)
	require.Len(t, list["data"], 2)
	require.Equal(t, true, list["has_more"])
	require.Equal(t, video["id"], list["data"].([]any)[0].(map[string]any)["id"])
	next := acme.json("GET", "/v1/assets?limit=2&after="+list["next_after"].(string), "", http.StatusOK)
	require.Len(t, next["data"], 1)
	require.Equal(t, id, next["data"].([]any)[0].(map[string]any)["id"])
	faces := acme.json("GET", "/v1/assets?group=faces", "", http.StatusOK)
	require.Len(t, faces["data"], 2)
	noGroup := acme.json("GET", "/v1/assets?group=", "", http.StatusOK)
	require.Len(t, noGroup["data"], 1)
	groups := acme.json("GET", "/v1/asset-groups", "", http.StatusOK)
	require.Equal(t, []any{
		map[string]any{"object": "asset_group", "name": "", "assets": float64(1)},
		map[string]any{"object": "asset_group", "name": "faces", "assets": float64(2)},
	}, groups["data"])
	require.Empty(t, globex.json("GET", "/v1/assets", "", http.StatusOK)["data"])
	require.Empty(t, globex.json("GET", "/v1/asset-groups", "", http.StatusOK)["data"])

	// Another tenant's asset answers exactly like a missing one.
	missing := "asset-abcdefghijklmnopqrstuvwx"
	for _, method := range []string{"GET", "DELETE"} {
		r1, b1 := globex.do(method, "/v1/assets/"+id, "")
		r2, b2 := globex.do(method, "/v1/assets/"+missing, "")
		require.Equal(t, http.StatusNotFound, r1.StatusCode, "%s", b1)
		require.Equal(t, r2.StatusCode, r1.StatusCode)
		norm := func(b []byte, id string) string {
			return requestIDs.ReplaceAllString(strings.ReplaceAll(string(b), id, "{id}"), "{volatile}")
		}
		require.Equal(t, norm(b2, missing), norm(b1, id))
	}
	require.Equal(t, id, acme.json("GET", "/v1/assets/"+id, "", http.StatusOK)["id"])

	// Delete: gone, with its content.
	require.Equal(t, true, acme.json("DELETE", "/v1/assets/"+id, "", http.StatusOK)["deleted"])
	acme.json("GET", "/v1/assets/"+id, "", http.StatusNotFound)
	resp, _ = g.Do("GET", strings.TrimPrefix(a["content_url"].(string), g.URL), nil, map[string]string{"Authorization": ""})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	// The upload it was made from is the tenant's still.
	acme.json("GET", "/v1/files/"+fileID, "", http.StatusOK)
}

// asset://<id> is accepted in an image field of every dialect, for the
// caller's own assets only, and the sandbox renders from the asset's content.
func TestAssetInEveryDialect(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	acme := newKey(t, g, `{"name":"acme app","tenant":"acme"}`)
	globex := newKey(t, g, `{"name":"globex app","tenant":"globex"}`)
	asset := func(c client, kind, name string, data []byte) string {
		f := uploadKindAs(t, g, c.key, kind, name, data)
		return c.json("POST", "/v1/assets", `{"file_id":"`+f+`"}`, http.StatusOK)["id"].(string)
	}
	mine := asset(acme, "image", "frame.png", dialecttest.PNG(640, 480))
	theirs := asset(globex, "image", "frame.png", dialecttest.PNG(640, 480))
	video := asset(acme, "video", "clip.mp4", mp4Head)

	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			body := func(ref string) string {
				f := okFields()
				f.prompt, f.duration = `"a kite over the sea --rs 480p"`, `2` // quick to render
				f.image = `"asset://` + ref + `"`
				return d.body(f)
			}
			// Refused: another tenant's asset and a missing one alike, a
			// video where an image goes, and a malformed reference.
			for _, c := range []struct{ name, ref, says string }{
				{"another tenant's asset", theirs, "does not exist"},
				{"a missing asset", "asset-abcdefghijklmnopqrstuvwx", "does not exist"},
				{"a video asset as an image", video, "is a video"},
				{"no id", "", "not an asset reference"},
			} {
				resp, b := acme.do("POST", d.path, body(c.ref))
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", c.name, b)
				d.shape(t, b)
				require.Contains(t, string(b), c.says, "%s: %s", c.name, b)
				require.Contains(t, string(b), "first_frame", "%s names the field: %s", c.name, b)
			}
			// Accepted: the tenant's own asset, rendered by the sandbox.
			resp, b := acme.do("POST", d.path, body(mine))
			require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.StatusCode, "%s", b) // openrouter answers 202
			id := taskID(t, g, b)
			j := acme.wait(id)
			require.Equal(t, "succeeded", j["status"], "%v", j)
			stored, err := g.App.Store.GetTask(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, "asset://"+mine, stored.Request.FirstFrame, "the task keeps the reference, not a copy")
		})
	}
}

// taskID finds the task id in any dialect's create answer.
func taskID(t *testing.T, g *dialecttest.Gateway, b []byte) string {
	t.Helper()
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	if id, ok := out["id"].(string); ok && strings.HasPrefix(id, "cgt-") {
		return id
	}
	if rid, ok := out["task_id"].(string); ok { // seedance: the task is known by the request id
		page, err := g.App.Store.ListTasks(t.Context(), store.TaskFilter{RequestID: rid, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page.Tasks, 1)
		return page.Tasks[0].ID
	}
	switch d := out["data"].(type) {
	case []any:
		return d[0].(map[string]any)["task_id"].(string)
	case map[string]any:
		return d["task_id"].(string)
	}
	t.Fatalf("no task id in %s", b)
	return fmt.Sprint()
}
