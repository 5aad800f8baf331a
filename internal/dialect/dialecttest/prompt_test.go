package dialecttest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/task"
)

// A prompt beyond the catalog's limit is a 400 naming prompt, its length and
// the limit, in every dialect, and nothing is stored; one at the limit is
// taken.
func TestPromptTooLong(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h")
	limit := task.DefaultMaxPromptChars
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			for _, prompt := range []string{strings.Repeat("猫", limit+1), strings.Repeat("word ", limit/5) + "x"} {
				f := okFields()
				f.prompt = quoted(prompt)
				resp, b := g.Do("POST", d.path, bytes.NewReader([]byte(d.body(f))), map[string]string{"Content-Type": "application/json"})
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%.300s", b)
				d.shape(t, b)
				msg, _ := errorObject(t, b)["message"].(string)
				require.Contains(t, msg, "prompt is 4001 characters long", "%s", b)
				require.Contains(t, msg, "at most 4000", "%s", b)
				nothingStored(t, g)
			}
		})
	}

	f := okFields()
	f.prompt = quoted(strings.Repeat("猫", limit))
	d := dialects()[0]
	resp, b := g.Do("POST", d.path, bytes.NewReader([]byte(d.body(f))), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%.300s", b)
}
