package videos_test

import (
	"testing"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/videos"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeVideos: any body decodes to a request or a *task.Error; never a
// panic. The corpus is the dialect's reference examples.
func FuzzDecodeVideos(f *testing.F) {
	for _, b := range dialecttest.Corpus(f, "*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","prompt":"p","image_urls":["a"],"image_with_roles":[{"url":"b","role":"last_frame"}]}`))
	f.Add([]byte(`{"model":"m","prompt":"p","image_with_roles":[{"url":"b","role":"last_frame"},{"url":"c","role":"first_frame"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		model, req, err := videos.DecodeCreate(body)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if model == "" || req.Prompt == "" || req.Ratio == "" {
			t.Fatalf("decoded without model, prompt or ratio: %q %+v", model, req)
		}
	})
}
