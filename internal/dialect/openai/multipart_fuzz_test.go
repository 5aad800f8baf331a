package openai

import (
	"bytes"
	"image"
	"image/png"
	"mime/multipart"
	"net/http/httptest"
	"testing"

	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeMultipart: any multipart create (the official SDK sends one when
// input_reference is a file) decodes to a request or a *task.Error; never a
// panic, and a file part is never kept beyond the image limit.
func FuzzDecodeMultipart(f *testing.F) {
	add := func(fields map[string]string, file []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.SetBoundary("fuzzboundary")
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		if file != nil {
			pw, _ := mw.CreateFormFile("input_reference", "first.png")
			_, _ = pw.Write(file)
		}
		_ = mw.Close()
		f.Add("fuzzboundary", b.Bytes())
	}
	add(map[string]string{"model": "seedance-1.5-pro", "prompt": "a dancer", "seconds": "6", "size": "720x1280"}, pngOf(320, 320))
	add(map[string]string{"prompt": "a dancer", "input_reference": "https://example.com/first.png"}, nil)
	add(map[string]string{"prompt": "x", "size": "99999x1", "seconds": "-1"}, nil)
	add(map[string]string{"model": "m", "input_reference[image_url]": "https://example.com/a.png"}, []byte("not an image"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		r := httptest.NewRequest("POST", "/v1/videos", bytes.NewReader(body))
		fm, err := decodeMultipart(httptest.NewRecorder(), r, boundary, 1<<20+maxImage)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if len(fm.image) > maxImage {
			t.Fatalf("kept a %d-byte file", len(fm.image))
		}
		model, req, err := fm.request()
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if model == "" || req.Prompt == "" {
			t.Fatalf("decoded without model or prompt: %q %+v", model, req)
		}
	})
}

func pngOf(w, h int) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)))
	return b.Bytes()
}
