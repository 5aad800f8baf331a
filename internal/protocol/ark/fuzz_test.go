package ark_test

import (
	"testing"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeArk: any body decodes to a request or a *task.Error naming what is
// wrong; never a panic. The corpus is the ark reference example and the error cases.
func FuzzDecodeArk(f *testing.F) {
	for _, b := range corpus(f, "../../dialect/ark/testdata/*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","content":[{"type":"image_url","image_url":"https://x/y.png"}]}`))
	f.Add([]byte(`{"model":"m","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u1"},"role":"last_frame"},{"type":"image_url","image_url":{"url":"u2"}}],"tools":[{"type":"web_search"}]}`))
	f.Add([]byte(`{"model":"m","content":[{"type":"draft_task","draft_task":{"id":"cgt-1"}},{"type":"video_url","video_url":{"url":"v"}}],"duration":"x"}`))
	f.Add([]byte(`{"model":"m","content":[{"type":"video_url","video_url":{"url":"v"}}],"output_format":"mov","omni_reference_task_type":"extension"}`))
	f.Add([]byte(`{"model":"m","content":[{"type":"text","text":"a"}],"output_format":7,"omni_reference_task_type":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		model, req, err := ark.DecodeCreate(body)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if model == "" {
			t.Fatalf("decoded without a model: %+v", req)
		}
		if req.LastFrame != "" && req.FirstFrame == "" {
			t.Fatalf("last frame without a first frame: %+v", req)
		}
	})
}
