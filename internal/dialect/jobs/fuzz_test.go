package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/jobs"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/service/servicetest"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeJobs: any body decodes to a request or a *task.Error; never a
// panic. The corpus is the dialect's reference example (docs/dialects.md#jobs).
func FuzzDecodeJobs(f *testing.F) {
	for _, b := range dialecttest.Corpus(f, "004_create.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","input":{"prompt":"p","aspect_ratio":"16:9","ratio":"9:16"}}`))
	f.Add([]byte(`{"model":"m","strict":true,"input":{"prompt":"p --rs 720p --dur 5","reference_image_urls":["a","b"],"frames":57}}`))
	f.Add([]byte(`{"model":"m"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		model, req, err := jobs.DecodeCreate(body)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		_ = model
		if _, err := json.Marshal(req); err != nil { // what was accepted can be stored
			t.Fatalf("decoded request does not encode: %v", err)
		}
	})
}

// FuzzUpload: POST /v1/files/upload with any multipart body (and boundary)
// answers 200 with a stored file whose content is the recorded size, or a 4xx
// JSON error and nothing stored; never a 5xx or a panic. The corpus is
// uploads of the seeds' kinds of input: a first-frame PNG, a video, audio.
func FuzzUpload(f *testing.F) {
	mem := servicetest.NewMemFiles(f)
	blobs := mem.Blobs()
	res, err := media.NewResolver(media.ResolverConfig{PublicURL: "http://gw.test", GetFile: mem.GetFile, Blobs: blobs})
	require.NoError(f, err)
	svc := service.New(service.Config{Store: mem, Blobs: blobs, Media: res, MaxUploadBytes: 1 << 20,
		URLs: &service.URLSigner{PublicURL: "http://gw.test", Secret: []byte("fuzz")}})
	h := jobs.New(svc, jobs.Options{})

	form := func(kind, name, ctype string, data []byte) []byte {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.SetBoundary("fuzzboundary")
		if kind != "" {
			_ = mw.WriteField("kind", kind)
			_ = mw.WriteField("purpose", "first_frame")
		}
		hdr := map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="` + name + `"`}}
		if ctype != "" {
			hdr["Content-Type"] = []string{ctype}
		}
		pw, _ := mw.CreatePart(hdr)
		_, _ = pw.Write(data)
		_ = mw.Close()
		return b.Bytes()
	}
	png := dialecttest.PNG(320, 320)
	f.Add("fuzzboundary", form("image", "first.png", "image/png", png))
	f.Add("fuzzboundary", form("", "first.png", "image/png", png)) // kind from the part's type
	f.Add("fuzzboundary", form("video", "ref.mp4", "video/mp4", append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 64)...)))
	f.Add("fuzzboundary", form("audio", "ref.mp3", "audio/mpeg", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...)))
	f.Add("fuzzboundary", form("image", "../../x.png", "image/png", []byte("not an image")))
	f.Add("other", form("image", "first.png", "image/png", png))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		rowsBefore, blobsBefore := mem.Count()
		req := httptest.NewRequest(http.MethodPost, "/v1/files/upload", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		w := httptest.NewRecorder()
		h.Upload(w, req)
		rows, blobsNow := mem.Count()
		stored, storedBlobs := rows-rowsBefore, blobsNow-blobsBefore
		switch {
		case w.Code == http.StatusOK:
			var f struct {
				ID    string `json:"id"`
				Bytes int64  `json:"bytes"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &f); err != nil || f.ID == "" {
				t.Fatalf("200 without a file: %s", w.Body)
			}
			if stored != 1 || storedBlobs != 1 {
				t.Fatalf("200 with %d file rows and %d blobs written", stored, storedBlobs)
			}
			rec, err := mem.GetFile(context.Background(), f.ID)
			if err != nil {
				t.Fatalf("answered file is not stored: %v", err)
			}
			obj, err := blobs.Open(context.Background(), rec.BlobKey)
			if err != nil || obj.Size() != rec.Size || rec.Size != f.Bytes {
				t.Fatalf("stored content does not match the record: %v %+v", err, rec)
			}
		case w.Code >= 400 && w.Code < 500:
			if stored != 0 || storedBlobs != 0 {
				t.Fatalf("%d with %d file rows and %d blobs written", w.Code, stored, storedBlobs)
			}
			var e struct {
				Error struct {
					Code, Message string
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d without a jobs error: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzCreateAsset: POST /v1/assets with any body answers 200 with an asset
// made from the tenant's upload, or a 4xx JSON error naming no "input." field
// and storing nothing; never a 5xx or a panic. (Bodies naming http URLs are
// skipped: fuzzing does not fetch from the network.)
func FuzzCreateAsset(f *testing.F) {
	mem := servicetest.NewMemFiles(f)
	blobs := mem.Blobs()
	res, err := media.NewResolver(media.ResolverConfig{PublicURL: "http://gw.test", GetFile: mem.GetFile, Blobs: blobs})
	require.NoError(f, err)
	svc := service.New(service.Config{Store: mem, Blobs: blobs, Media: res, MaxUploadBytes: 1 << 20,
		URLs: &service.URLSigner{PublicURL: "http://gw.test", Secret: []byte("fuzz")}})
	h := jobs.New(svc, jobs.Options{})
	up, err := svc.Upload(context.Background(), service.UploadInput{Kind: "image", Name: "frame.png", Body: bytes.NewReader(dialecttest.PNG(320, 320))})
	require.NoError(f, err)
	f.Add([]byte(`{"file_id":"` + up.ID + `","group":"people","name":"Ada"}`))
	f.Add([]byte(`{"file_id":"` + up.ID + `","group":"a b"}`))
	f.Add([]byte(`{"file_id":"file-missing"}`))
	f.Add([]byte(`{"url":"ftp://x/y.png"}`))
	f.Add([]byte(`{"file_id":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.Contains(bytes.ToLower(body), []byte("http")) {
			t.Skip("no network")
		}
		rowsBefore, blobsBefore := mem.Count()
		req := httptest.NewRequest(http.MethodPost, "/v1/assets", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.CreateAsset(w, req)
		rows, blobsNow := mem.Count()
		switch {
		case w.Code == http.StatusOK:
			var a struct{ ID, URL, Kind string }
			if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || a.URL != "asset://"+a.ID || a.Kind != "image" {
				t.Fatalf("200 without an asset: %s", w.Body)
			}
			if _, err := svc.GetAsset(context.Background(), "", a.ID); err != nil {
				t.Fatalf("answered asset is not stored: %v", err)
			}
		case w.Code >= 400 && w.Code < 500:
			if rows != rowsBefore || blobsNow != blobsBefore {
				t.Fatalf("%d with files written", w.Code)
			}
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d without a jobs error: %s", w.Code, w.Body)
			}
			if strings.HasPrefix(e.Error.Field, "input.") {
				t.Fatalf("field %q is not the asset request's", e.Error.Field)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
