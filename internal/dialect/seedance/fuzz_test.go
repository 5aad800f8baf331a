package seedance_test

import (
	"testing"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/seedance"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeSeedance: any body decodes to a request or a *task.Error; never a
// panic. The corpus is the dialect's reference examples.
func FuzzDecodeSeedance(f *testing.F) {
	for _, b := range dialecttest.Corpus(f, "*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","content":[{"type":"image_url","image_url":"https://x/y.png"}],"camerafixed":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		model, req, err := seedance.DecodeCreate(body)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if model == "" {
			t.Fatalf("decoded without a model: %+v", req)
		}
	})
}
