package jobs_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// jobVolatile are the job's fields that differ from run to run.
var jobVolatile = []string{"created", "updated", "finished", "request_id", "progress"}

// Seed 004's example as written (its first/last frame URLs replaced by
// uploads): it sends references beside first+last frames, frames 121,
// service_tier "auto" and execution_expires_after 600 to 1.5 pro. The job is
// relaxed to what the model takes, and says what changed in warnings.
func TestSeed004(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	body := dialecttest.Fixture(t, "004_create.json",
		"https://example.com/first.png", g.UploadPNG(1280, 720),
		"https://example.com/last.png", g.UploadPNG(1280, 720))
	status, out, raw := g.JSON("POST", "/v1/jobs", body)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	dialecttest.RequireShape(t, dialecttest.Fixture(t, "004_answer.json"), raw)
	require.Equal(t, "job", out["object"])
	require.Equal(t, "processing", out["status"])
	require.Equal(t, "seedance-1.5-pro-1080p", out["model"])
	warnings := strings.Join(toStrings(out["warnings"]), "\n")
	require.Contains(t, warnings, "dropped reference inputs")
	require.Contains(t, warnings, "dropped frames 121")
	require.Contains(t, warnings, "execution_expires_after 600 clamped to 3600")
	g.Golden("004_create", raw, jobVolatile...)

	j := g.Wait(out["id"].(string))
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.Equal(t, toStrings(out["warnings"]), j.Warnings, "GET shows the warnings too")
	v := j.Output.Videos[0]
	require.Equal(t, 1280, v.Width, "the explicit 720p wins over the name's 1080p")
	require.Equal(t, 720, v.Height)
	status, _, raw = g.JSON("GET", "/v1/jobs/"+j.ID, "")
	require.Equal(t, http.StatusOK, status)
	g.Golden("004_get", raw, jobVolatile...)

	// strict: true rejects the same body, naming the field.
	strict := strings.Replace(body, `"model"`, `"strict": true, "model"`, 1)
	status, e, raw := g.JSON("POST", "/v1/jobs", strict)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	require.Equal(t, "input.reference_image_urls", e["error"].(map[string]any)["field"])
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
