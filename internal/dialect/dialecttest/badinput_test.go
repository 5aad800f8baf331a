package dialecttest_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io/fs"
	"mime/multipart"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // to count the gateway's rows from outside

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// The bad-input table: every kind of malformed, hostile or impossible input,
// sent to the create endpoint of every dialect (and the upload and file
// endpoints), must get a clear 4xx in that dialect's own error shape — never a
// 500 — and leave nothing stored: no task row, no file row, no blob.

// fields are the parts of a create body; each dialect writes them its way.
// Values are raw JSON (already quoted where they are strings).
type fields struct {
	model, prompt, duration, seed string
	image                         string // raw JSON string of a first-frame URL, or ""
}

func okFields() fields {
	return fields{model: `"seedance-1-0-pro"`, prompt: `"a kite over the sea"`, duration: `5`, seed: `7`}
}

// dialect is one client API's create endpoint and error shape.
type dialect struct {
	name, path string
	body       func(f fields) string
	// shape checks an error answer is this dialect's.
	shape func(t *testing.T, b []byte)
}

func errorObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "not JSON: %s", b)
	e, ok := v["error"].(map[string]any)
	require.True(t, ok, "no error object: %s", b)
	msg, _ := e["message"].(string)
	require.NotEmpty(t, msg, "no message: %s", b)
	return e
}

func stringCode(t *testing.T, b []byte) {
	t.Helper()
	e := errorObject(t, b)
	code, _ := e["code"].(string)
	require.NotEmpty(t, code, "no string code: %s", b)
}

func dialects() []dialect {
	arkContent := func(f fields) string {
		c := `[{"type":"text","text":` + f.prompt + `}`
		if f.image != "" {
			c += `,{"type":"image_url","image_url":{"url":` + f.image + `}}`
		}
		return c + `]`
	}
	return []dialect{
		{name: "jobs", path: "/v1/jobs",
			body: func(f fields) string {
				img := ""
				if f.image != "" {
					img = `,"first_frame_url":` + f.image
				}
				return `{"model":` + f.model + `,"strict":true,"input":{"prompt":` + f.prompt + `,"duration":` + f.duration + `,"seed":` + f.seed + img + `}}`
			},
			shape: stringCode},
		{name: "ark", path: "/api/v3/contents/generations/tasks",
			body: func(f fields) string {
				return `{"model":` + f.model + `,"content":` + arkContent(f) + `,"duration":` + f.duration + `,"seed":` + f.seed + `}`
			},
			shape: func(t *testing.T, b []byte) {
				stringCode(t, b)
				e := errorObject(t, b)
				require.Contains(t, e, "type", "%s", b)
				require.Contains(t, e, "param", "%s", b)
			}},
		{name: "byteplus", path: "/byteplus/v3/contents/generations/tasks",
			body: func(f fields) string {
				return `{"model":` + f.model + `,"content":` + arkContent(f) + `,"duration":` + f.duration + `,"seed":` + f.seed + `}`
			},
			shape: stringCode},
		{name: "videos", path: "/v1/videos/generations",
			body: func(f fields) string {
				img := ""
				if f.image != "" {
					img = `,"image_urls":[` + f.image + `]`
				}
				return `{"model":` + f.model + `,"prompt":` + f.prompt + `,"duration":` + f.duration + `,"seed":` + f.seed + img + `}`
			},
			shape: func(t *testing.T, b []byte) {
				e := errorObject(t, b)
				code, ok := e["code"].(float64)
				require.True(t, ok && code >= 400 && code < 500, "code is the HTTP status: %s", b)
			}},
		{name: "seedance", path: "/v1/seedance/videos",
			body: func(f fields) string {
				return `{"model":` + f.model + `,"content":` + arkContent(f) + `,"duration":` + f.duration + `,"seed":` + f.seed +
					`,"callback_url":"https://example.com/hook"}`
			},
			shape: func(t *testing.T, b []byte) {
				stringCode(t, b)
				var v map[string]any
				require.NoError(t, json.Unmarshal(b, &v))
				require.NotEmpty(t, v["trace_id"], "%s", b)
			}},
		{name: "responses", path: "/v1/responses",
			body: func(f fields) string {
				in := `[{"type":"text","text":` + f.prompt + `}`
				if f.image != "" {
					in += `,{"type":"image_url","image_url":{"url":` + f.image + `},"role":"first_frame"}`
				}
				return `{"model":` + f.model + `,"input":` + in + `],"duration":` + f.duration + `,"seed":` + f.seed + `}`
			},
			shape: func(t *testing.T, b []byte) {
				stringCode(t, b)
				require.Contains(t, errorObject(t, b), "type", "%s", b)
			}},
		{name: "openai", path: "/v1/videos",
			body: func(f fields) string {
				img := ""
				if f.image != "" {
					img = `,"input_reference":{"image_url":` + f.image + `}`
				}
				secs := f.duration
				if !strings.HasPrefix(secs, `"`) {
					secs = `"` + secs + `"`
				}
				return `{"model":` + f.model + `,"prompt":` + f.prompt + `,"seconds":` + secs + img + `}`
			},
			shape: func(t *testing.T, b []byte) {
				stringCode(t, b)
				require.Contains(t, errorObject(t, b), "type", "%s", b)
			}},
		{name: "openrouter", path: "/api/v1/videos",
			body: func(f fields) string {
				img := ""
				if f.image != "" {
					img = `,"frame_images":[{"type":"image_url","image_url":{"url":` + f.image + `},"frame_type":"first_frame"}]`
				}
				return `{"model":` + f.model + `,"prompt":` + f.prompt + `,"duration":` + f.duration + `,"seed":` + f.seed + img + `}`
			},
			shape: func(t *testing.T, b []byte) {
				e := errorObject(t, b)
				code, ok := e["code"].(float64)
				require.True(t, ok && code >= 400 && code < 500, "code is the HTTP status: %s", b)
				md, _ := e["metadata"].(map[string]any)
				require.NotEmpty(t, md["error_code"], "metadata names the error: %s", b)
			}},
	}
}

// pngHeader is a PNG of w×h whose pixel data is a zlib stream of n zero bytes
// (a decompression bomb when n is large and the size claims much more).
func pngBomb(t testing.TB, w, h uint32, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = zw.Write(make([]byte, n))
	require.NoError(t, zw.Close())
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

func dataURL(mime string, b []byte) string {
	return `"data:` + mime + `;base64,` + base64.StdEncoding.EncodeToString(b) + `"`
}

func gzipBomb(t testing.TB, n int) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write([]byte(`{"model":"seedance-1-0-pro","prompt":"`))
	_, _ = zw.Write(bytes.Repeat([]byte("A"), n))
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// counts is what the gateway has stored: task rows, file rows and blobs.
func counts(t *testing.T, g *dialecttest.Gateway) (tasks, files, blobs int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+g.App.Config.SQLitePath()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM tasks`).Scan(&tasks))
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM files`).Scan(&files))
	_ = filepath.WalkDir(filepath.Join(g.App.Config.DataDir, "files"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs++
		}
		return nil
	})
	return tasks, files, blobs
}

func nothingStored(t *testing.T, g *dialecttest.Gateway) {
	t.Helper()
	tasks, files, blobs := counts(t, g)
	require.Zero(t, tasks, "task rows")
	require.Zero(t, files, "file rows")
	require.Zero(t, blobs, "stored blobs")
}

type badCase struct {
	name string
	// build returns the body, its content type and extra headers for a
	// dialect; a nil body means the case does not apply to it.
	build func(d dialect) (body []byte, ctype string, h map[string]string)
}

func jsonCase(name string, mutate func(f *fields)) badCase {
	return badCase{name: name, build: func(d dialect) ([]byte, string, map[string]string) {
		f := okFields()
		mutate(&f)
		body := d.body(f)
		if body == d.body(okFields()) {
			return nil, "", nil // a field this dialect does not have (OpenAI has no seed)
		}
		return []byte(body), "application/json", nil
	}}
}

func rawCase(name, ctype string, body []byte, h map[string]string) badCase {
	return badCase{name: name, build: func(dialect) ([]byte, string, map[string]string) { return body, ctype, h }}
}

const maxBody = 64 << 10 // SEEDGATE_MAX_BODY_BYTES of the test gateway

func TestBadInputNeverStored(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, fmt.Sprintf("SEEDGATE_MAX_BODY_BYTES=%d", maxBody), "SEEDGATE_MAX_UPLOAD_BYTES=262144")
	notImage := []byte("this is a text file, not a picture at all")
	bomb := pngBomb(t, 60000, 60000, 8<<20)                                 // claims 14 GB of pixels
	deep := strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000) // within the size limit
	fileURL := func(id string) string { return `"` + g.URL + `/v1/files/` + id + `/content?sig=AAAA"` }

	cases := []badCase{
		rawCase("empty body", "application/json", nil, nil),
		rawCase("not JSON", "application/json", []byte(`{"model": "seedance-1-0-pro", "prompt": `), nil),
		rawCase("a JSON array", "application/json", []byte(`[1,2,3]`), nil),
		rawCase("JSON then garbage", "application/json", []byte(`{"model":"seedance-1-0-pro"} trailing`), nil),
		rawCase("oversized body", "application/json",
			[]byte(`{"model":"seedance-1-0-pro","prompt":"`+strings.Repeat("x", 4*maxBody)+`"}`), nil),
		rawCase("deeply nested JSON", "application/json", []byte(deep), nil),
		rawCase("XML", "application/xml", []byte(`<task><model>seedance-1-0-pro</model></task>`), nil),
		rawCase("a form", "application/x-www-form-urlencoded", []byte(`model=seedance-1-0-pro&prompt=x`), nil),
		rawCase("gzip Content-Encoding bomb", "application/json", gzipBomb(t, 64<<20), map[string]string{"Content-Encoding": "gzip"}),
		rawCase("invalid UTF-8", "application/json", []byte("{\"model\":\"seedance-1-0-pro\",\"prompt\":\"caf\xe9 \xff\xfe\"}"), nil),
		jsonCase("invalid UTF-8 in the prompt", func(f *fields) { f.prompt = "\"a kite \xc3\x28 over the sea\"" }),
		jsonCase("unknown model", func(f *fields) { f.model = `"seedance-9-ultra"` }),
		jsonCase("model not a string", func(f *fields) { f.model = `{"name":"seedance-1-0-pro"}` }),
		jsonCase("empty prompt", func(f *fields) { f.prompt = `""` }),
		jsonCase("prompt not a string", func(f *fields) { f.prompt = `12345` }),
		jsonCase("huge duration", func(f *fields) { f.duration = `1e400` }),
		jsonCase("duration beyond int64", func(f *fields) { f.duration = `99999999999999999999999` }),
		jsonCase("duration out of range", func(f *fields) { f.duration = `1000` }),
		jsonCase("negative duration", func(f *fields) { f.duration = `-5` }),
		jsonCase("fractional duration", func(f *fields) { f.duration = `5.5` }),
		jsonCase("duration as a word", func(f *fields) { f.duration = `"five"` }),
		jsonCase("seed beyond int64", func(f *fields) { f.seed = `184467440737095516150` }),
		jsonCase("image that is not an image", func(f *fields) { f.image = dataURL("image/png", notImage) }),
		jsonCase("PNG bomb 60000x60000", func(f *fields) { f.image = dataURL("image/png", bomb) }),
		jsonCase("image too small", func(f *fields) { f.image = dataURL("image/png", dialecttest.PNG(8, 8)) }),
		jsonCase("image URL of another scheme", func(f *fields) { f.image = `"file:///etc/passwd"` }),
		jsonCase("image URL inside the network", func(f *fields) { f.image = `"http://169.254.169.254/latest/meta-data/iam"` }),
		jsonCase("gateway file id with path traversal", func(f *fields) { f.image = fileURL("..%2F..%2F..%2Fetc%2Fpasswd") }),
		jsonCase("gateway file that does not exist", func(f *fields) { f.image = fileURL("file-aaaaaaaaaaaaaaaaaaaaaaaa") }),
	}
	for _, d := range dialects() {
		for _, c := range cases {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				body, ctype, h := c.build(d)
				if body == nil && ctype == "" {
					t.Skip("not a field of this dialect")
				}
				if h == nil {
					h = map[string]string{}
				}
				h["Content-Type"] = ctype
				resp, b := g.Do("POST", d.path, bytes.NewReader(body), h)
				require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "want a 4xx, got %d: %.300s", resp.StatusCode, b)
				d.shape(t, b)
				t.Logf("%d %.160s", resp.StatusCode, b)
				nothingStored(t, g)
			})
		}
	}

	// Uploads: the jobs dialect's form and OpenAI's multipart create.
	form := func(fields map[string]string, fileField, fileName, fileType string, data []byte) ([]byte, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range fields {
			require.NoError(t, mw.WriteField(k, v))
		}
		if fileField != "" {
			h := map[string][]string{"Content-Disposition": {fmt.Sprintf(`form-data; name=%q; filename=%q`, fileField, fileName)}}
			if fileType != "" {
				h["Content-Type"] = []string{fileType}
			}
			pw, err := mw.CreatePart(h)
			require.NoError(t, err)
			_, _ = pw.Write(data)
		}
		require.NoError(t, mw.Close())
		return b.Bytes(), mw.FormDataContentType()
	}
	png := dialecttest.PNG(640, 480)
	type upload struct {
		name, path string
		body       []byte
		ctype      string
		h          map[string]string
		shape      func(*testing.T, []byte)
	}
	var uploads []upload
	jobsUpload := func(name string, body []byte, ctype string, h map[string]string) {
		uploads = append(uploads, upload{name, "/v1/files/upload", body, ctype, h, stringCode})
	}
	openaiCreate := func(name string, body []byte, ctype string) {
		uploads = append(uploads, upload{"openai " + name, "/v1/videos", body, ctype, nil, stringCode})
	}
	b, ct := form(map[string]string{"kind": "image"}, "file", "big.png", "image/png", bytes.Repeat(png, 1+(300<<10)/len(png)))
	jobsUpload("oversized file", b, ct, nil)
	b, ct = form(map[string]string{"kind": "image"}, "file", "note.png", "image/png", notImage)
	jobsUpload("image that is not an image", b, ct, nil)
	b, ct = form(map[string]string{"kind": "image"}, "file", "bomb.png", "image/png", bomb)
	jobsUpload("PNG bomb 60000x60000", b, ct, nil)
	b, ct = form(map[string]string{"kind": "video"}, "file", "clip.mp4", "video/mp4", png)
	jobsUpload("an image sent as a video", b, ct, nil)
	b, ct = form(map[string]string{"kind": "spreadsheet"}, "file", "x.png", "image/png", png)
	jobsUpload("unknown kind", b, ct, nil)
	b, ct = form(map[string]string{"kind": "image"}, "file", "empty.png", "image/png", nil)
	jobsUpload("empty file", b, ct, nil)
	b, ct = form(map[string]string{"kind": "image"}, "", "", "", nil)
	jobsUpload("no file field", b, ct, nil)
	b, ct = form(map[string]string{"kind": strings.Repeat("k", 5000)}, "file", "x.png", "image/png", png)
	jobsUpload("oversized form field", b, ct, nil)
	b, ct = form(map[string]string{"kind": "image"}, "file", "x.png", "image/png", png)
	jobsUpload("truncated multipart", b[:len(b)/2], ct, nil)
	jobsUpload("multipart without a boundary", b, "multipart/form-data", nil)
	jobsUpload("JSON instead of a form", []byte(`{"kind":"image"}`), "application/json", nil)
	jobsUpload("gzip Content-Encoding", gzipBomb(t, 64<<20), ct, map[string]string{"Content-Encoding": "gzip"})
	b, ct = form(map[string]string{"prompt": "a kite", "model": "seedance-1-0-pro"}, "input_reference", "note.png", "image/png", notImage)
	openaiCreate("input_reference that is not an image", b, ct)
	b, ct = form(map[string]string{"prompt": "a kite", "model": "seedance-1-0-pro"}, "input_reference", "bomb.png", "image/png", bomb)
	openaiCreate("input_reference PNG bomb 60000x60000", b, ct)
	b, ct = form(map[string]string{"prompt": "a kite", "model": "seedance-1-0-pro"}, "input_reference", "tiny.png", "image/png", dialecttest.PNG(8, 8))
	openaiCreate("input_reference too small", b, ct)
	b, ct = form(map[string]string{"prompt": "a kite", "model": "seedance-9-ultra"}, "input_reference", "x.png", "image/png", png)
	openaiCreate("unknown model with a file", b, ct)
	b, ct = form(map[string]string{"prompt": "a kite", "seconds": "-3"}, "input_reference", "x.png", "image/png", png)
	openaiCreate("negative seconds with a file", b, ct)
	for _, u := range uploads {
		t.Run("upload/"+u.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": u.ctype}
			for k, v := range u.h {
				h[k] = v
			}
			resp, b := g.Do("POST", u.path, bytes.NewReader(u.body), h)
			require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "want a 4xx, got %d: %.300s", resp.StatusCode, b)
			u.shape(t, b)
			t.Logf("%d %.160s", resp.StatusCode, b)
			nothingStored(t, g)
		})
	}

	// File ids with path traversal, on every route that takes one.
	for _, id := range []string{"..%2F..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e", "file-..%2f..%2fseedgate.db", "uploads%2F..%2F..%2Fseedgate.db"} {
		for _, p := range []struct{ path, dialect string }{
			{"/v1/files/" + id, "jobs"}, {"/v1/files/" + id + "/content", "jobs"}, {"/v1/files/" + id + "/content?sig=AAAA", "jobs"},
			{"/v1/videos/" + id + "/content", "openai"}, {"/v1/jobs/" + id, "jobs"},
			{"/api/v3/contents/generations/tasks/" + id, "ark"}, {"/v1/tasks/" + id, "videos"},
			{"/api/v1/videos/" + id, "openrouter"}, {"/api/v1/videos/" + id + "/content", "openrouter"},
		} {
			t.Run("file id "+p.path, func(t *testing.T) {
				resp, b := g.Do("GET", p.path, nil, nil)
				require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "want a 4xx, got %d: %.300s", resp.StatusCode, b)
				require.NotContains(t, string(b), "root:", "no file outside the store is served")
				errorObject(t, b)
			})
		}
	}

	nothingStored(t, g)

	// The control: the same gateway stores what is good, so the zeros above
	// mean something; a file name with a path in it names the file only.
	require.Contains(t, g.Upload("image", "../../../escape.png", png), "/v1/files/file-")
	_, files, blobs := counts(t, g)
	require.Equal(t, 1, files)
	require.Equal(t, 1, blobs)
	for _, dir := range []string{g.App.Config.DataDir, filepath.Dir(g.App.Config.DataDir)} {
		require.NoFileExists(t, filepath.Join(dir, "escape.png"))
	}
}
