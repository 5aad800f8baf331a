package openai_test

import (
	"testing"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/openai"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeOpenAI: any JSON create body decodes to a request or a
// *task.Error; never a panic.
func FuzzDecodeOpenAI(f *testing.F) {
	for _, b := range dialecttest.Corpus(f, "create_*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"prompt":"p","input_reference":"https://x/y.png","size":"99999x1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		model, req, err := openai.DecodeJSON(body)
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
