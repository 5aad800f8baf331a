package jobs_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/wire"
)

func TestDecodeJob(t *testing.T) {
	data, err := json.Marshal(jobs.Job{ID: "cgt-1", Object: "job", Status: jobs.StatusSucceeded,
		Output: jobs.Output{Videos: []jobs.Video{{URL: "https://b/v.mp4", Width: 864, Height: 480}}}})
	require.NoError(t, err)
	j, err := jobs.DecodeJob(data)
	require.NoError(t, err)
	require.Equal(t, "cgt-1", j.ID)
	require.Equal(t, 864, j.Output.Videos[0].Width)

	for _, bad := range []string{``, `{"id":"j"}`, `{"id":"","status":"processing"}`, `{"id":"j","status":"done"}`,
		`{"id":"j","status":"succeeded","output":{"videos":[]}}`, `{"id":"j","status":"processing"} {}`, `[]`} {
		_, err := jobs.DecodeJob([]byte(bad))
		require.True(t, errors.Is(err, wire.ErrMalformed), "%q: %v", bad, err)
	}
}

func TestNormalizeField(t *testing.T) {
	for in, want := range map[string]string{
		"input.aspect_ratio": "ratio", "input.first_frame_url": "first_frame", "input.last_frame_url": "last_frame",
		"input.reference_image_urls[1]": "reference_images[1]", "input.reference_audio_urls": "reference_audio",
		"input.duration": "duration", "model": "model", "Idempotency-Key": "Idempotency-Key",
	} {
		body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "invalid_parameter", "message": "m", "field": in}})
		code, field, msg, ok := jobs.DecodeError(body)
		require.True(t, ok)
		require.Equal(t, want, field, in)
		require.Equal(t, "invalid_parameter", code)
		require.Equal(t, "m", msg)
		// Field and NormalizeField are inverses on what the dialect names.
		require.Equal(t, want, jobs.NormalizeField(jobs.Field(want)), want)
	}
	_, _, _, ok := jobs.DecodeError([]byte(`<html>502</html>`))
	require.False(t, ok)
}

// FuzzDecodeJob: an upstream's answer is believed entirely or refused with
// ErrMalformed, never half-read, never a panic.
func FuzzDecodeJob(f *testing.F) {
	files, _ := filepath.Glob(golden + "004_*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"j","status":"succeeded","output":{"videos":[{"url":"u"}]}}`))
	f.Add([]byte(`{"error":{"code":"invalid_parameter","field":"input.reference_video_urls[0]","message":"m"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := jobs.DecodeJob(data)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
		} else if j.ID == "" || (j.Status == jobs.StatusSucceeded && j.Output.Videos[0].URL == "") {
			t.Fatalf("believed an incomplete job: %+v", j)
		}
		_, _, _, _ = jobs.DecodeError(data)
	})
}
