package dialecttest_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/task"
)

// noisePNG is a PNG of random pixels: it does not compress, so its data URL is
// as big as its pixels say.
func noisePNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	require.NoError(t, (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img))
	return b.Bytes()
}

var fileURL = regexp.MustCompile(`/v1/files/([^/]+)/content\?sig=`)

// A data URL in a create body is stored as a file at intake: the task keeps
// the file's URL, so its row and every answer that shows it stay small, and
// the file holds exactly the bytes sent. In every dialect.
func TestBigDataURLBecomesAFile(t *testing.T) {
	g := dialecttest.Start(t)
	img := noisePNG(t, 640, 480) // 1.2 MB, 1.6 MB as a data URL
	sum := sha256.Sum256(img)
	db, err := sql.Open("sqlite", "file:"+g.App.Config.SQLitePath()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()

	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			f := okFields()
			f.image = dataURL("image/png", img)
			status, _, b := g.JSON("POST", d.path, d.body(f))
			require.Less(t, status, 300, "%s", b)
			require.Less(t, len(b), 16<<10, "the create answer does not repeat the image")

			var id, reqJSON string
			require.NoError(t, db.QueryRow(`SELECT id, request_json FROM tasks ORDER BY rowid DESC LIMIT 1`).Scan(&id, &reqJSON))
			require.Less(t, len(reqJSON), 4<<10, "the task row keeps a reference: %.200s", reqJSON)
			var req task.Request
			require.NoError(t, json.Unmarshal([]byte(reqJSON), &req))
			m := fileURL.FindStringSubmatch(req.FirstFrame)
			require.NotNil(t, m, "the first frame is a gateway file: %s", req.FirstFrame)

			var size int64
			var sha, blobKey, kind, ctype string
			var width, height int
			require.NoError(t, db.QueryRow(`SELECT size, sha256, blob_key, kind, content_type, width, height FROM files WHERE id = ?`, m[1]).
				Scan(&size, &sha, &blobKey, &kind, &ctype, &width, &height))
			require.Equal(t, hex.EncodeToString(sum[:]), sha)
			require.EqualValues(t, len(img), size)
			require.Equal(t, []any{"image", "image/png", 640, 480}, []any{kind, ctype, width, height})

			// The file's content is the image, through its signed URL.
			resp, content := g.Do("GET", strings.TrimPrefix(req.FirstFrame, g.URL), nil, map[string]string{"Authorization": ""})
			require.Equal(t, 200, resp.StatusCode)
			require.True(t, bytes.Equal(img, content), "the stored file is the image sent")
		})
	}

	_, _, b := g.JSON("GET", "/v1/jobs?limit=100", "")
	require.Less(t, len(b), 64<<10, "listing tasks made from data URLs stays small")
}

// The sandbox renders with an image that came as a data URL.
func TestBigDataURLRenders(t *testing.T) {
	g := dialecttest.Start(t)
	img := dataURL("image/png", noisePNG(t, 640, 480))
	status, job, b := g.JSON("POST", "/v1/jobs", `{"model":"seedance-1-0-pro","input":{"prompt":"a kite","duration":2,"resolution":"480p","first_frame_url":`+img+`}}`)
	require.Less(t, status, 300, "%s", b)
	require.Less(t, len(b), 16<<10)
	j := g.Wait(job["id"].(string))
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	status, _, b = g.JSON("GET", "/v1/jobs/"+j.ID, "")
	require.Equal(t, 200, status)
	require.Less(t, len(b), 16<<10)
}

// A spooled data URL that is not valid base64 is a 400 naming the field, and
// leaves nothing stored; the temp files of every request are gone after it.
func TestBigDataURLInvalid(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	g := dialecttest.Start(t)
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			f := okFields()
			f.image = `"data:image/png;base64,` + strings.Repeat("QUJD", 100<<10) + `*"`
			status, _, b := g.JSON("POST", d.path, d.body(f))
			require.Equal(t, 400, status, "%s", b)
			require.Contains(t, string(b), "base64", "%s", b)
			d.shape(t, b)
			nothingStored(t, g)

			// Not a PNG at all.
			f.image = dataURL("image/png", bytes.Repeat([]byte("not an image "), 10<<10))
			status, _, b = g.JSON("POST", d.path, d.body(f))
			require.Equal(t, 400, status, "%s", b)
			nothingStored(t, g)
		})
	}
	left, err := filepath.Glob(filepath.Join(tmp, "seedgate-dataurl-*"))
	require.NoError(t, err)
	require.Empty(t, left, "spooled data URLs are removed when their request ends")
}

// Idempotency keys work on big bodies too (kept in a file, not in memory,
// while the fingerprint is taken).
func TestBigDataURLIdempotent(t *testing.T) {
	g := dialecttest.Start(t)
	d := dialects()[1] // ark
	f := okFields()
	f.image = dataURL("image/png", noisePNG(t, 640, 480))
	send := func(body string) (*http.Response, []byte) {
		return g.Do("POST", d.path, strings.NewReader(body), map[string]string{"Content-Type": "application/json", "Idempotency-Key": "big-1"})
	}
	resp, first := send(d.body(f))
	require.Equal(t, 200, resp.StatusCode, "%s", first)
	resp, again := send(d.body(f))
	require.Equal(t, 200, resp.StatusCode, "%s", again)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first), string(again))

	f.image = dataURL("image/png", noisePNG(t, 480, 640))
	resp, b := send(d.body(f))
	require.Equal(t, 422, resp.StatusCode, "another body under the same key: %s", b)
}

// A data URL counts toward the tenant's storage quota like an upload: past it
// the create is refused as any new task then is (402), and nothing is kept.
// Deleting a task deletes the file its data URL became.
func TestDataURLStorageQuota(t *testing.T) {
	img := noisePNG(t, 640, 480)
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	c := newKey(t, g, `{"name":"quota","tenant":"tq"}`)
	admin := client{t, g, adminKey}
	ark := `{"model":"seedance-1-0-lite-i2v-250428","content":[{"type":"text","text":"q --rs 480p --dur 2"},` +
		`{"type":"image_url","image_url":{"url":` + dataURL("image/png", img) + `},"role":"first_frame"}]}`

	id := c.json("POST", "/api/v3/contents/generations/tasks", ark, http.StatusOK)["id"].(string)
	require.Equal(t, "succeeded", c.wait(id)["status"])
	_, files, _ := counts(t, g)
	require.Positive(t, files)
	resp, b := c.do("DELETE", "/api/v3/contents/generations/tasks/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	_, files, _ = counts(t, g)
	require.Zero(t, files, "the task's data URL file went with it")

	admin.json("PUT", "/admin/v1/tenants/tq/storage", fmt.Sprintf(`{"quota":%d}`, len(img)/2), http.StatusOK)
	out := c.json("POST", "/api/v3/contents/generations/tasks", ark, http.StatusForbidden)
	require.Contains(t, fmt.Sprint(out), "storage quota exceeded")
	_, files, _ = counts(t, g)
	require.Zero(t, files)
}
