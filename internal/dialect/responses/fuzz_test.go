package responses_test

import (
	"testing"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/responses"
	"github.com/seedgate/seedgate/internal/task"
)

// FuzzDecodeResponses: any body decodes to a submit, a query or a
// *task.Error; never a panic. The corpus is the dialect's reference submit and query.
func FuzzDecodeResponses(f *testing.F) {
	for _, b := range dialecttest.Corpus(f, "*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"seedance-get","input":[{"type":"text","text":"cgt-1"}],"stream":false}`))
	f.Add([]byte(`{"model":"m","input":"a prompt","callback_url":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := responses.Decode(body)
		if err != nil {
			if task.ErrorCode(err) == "" {
				t.Fatalf("error is not a *task.Error: %v", err)
			}
			return
		}
		if c.Model == "" {
			t.Fatalf("decoded without a model: %+v", c)
		}
	})
}
