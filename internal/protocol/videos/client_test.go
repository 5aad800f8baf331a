package videos_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/videos"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

func TestDecodeAnswers(t *testing.T) {
	id, err := videos.DecodeCreated([]byte(`{"code":200,"data":[{"status":"submitted","task_id":"cgt-1"}]}`))
	require.NoError(t, err)
	require.Equal(t, "cgt-1", id)
	s, err := videos.DecodeStatus([]byte(`{"code":200,"data":{"task_id":"cgt-1","status":"processing","progress":40}}`))
	require.NoError(t, err)
	st, _ := s.TaskStatus()
	require.Equal(t, task.StatusRunning, st)
	for _, bad := range []string{`{"code":200,"data":[]}`, `{"code":200,"data":{"task_id":"c","status":"succeeded"}}`,
		`{"code":200,"data":{"task_id":"c","status":"done"}}`, `{"code":200,"data":{"status":"submitted"}}`, `{} {}`} {
		_, err1 := videos.DecodeStatus([]byte(bad))
		_, err2 := videos.DecodeCreated([]byte(bad))
		require.True(t, errors.Is(err1, wire.ErrMalformed) && errors.Is(err2, wire.ErrMalformed), "%s: %v / %v", bad, err1, err2)
	}
	code, param, msg, ok := videos.DecodeError([]byte(`{"error":{"code":400,"message":"m","type":"invalid_request_error","param":"camerafixed"}}`))
	require.True(t, ok)
	require.Equal(t, []string{"invalid_request_error", "camera_fixed", "m"}, []string{code, param, msg})
	for _, f := range []string{"ratio", "generate_audio", "camera_fixed", "first_frame", "duration"} {
		require.Equal(t, f, videos.NormalizeParam(videos.Param(f)))
	}
}

// FuzzDecodeVideosAnswers: answers are believed entirely or refused with ErrMalformed.
func FuzzDecodeVideosAnswers(f *testing.F) {
	for _, pattern := range []string{golden + "*.json", "../../dialect/videos/testdata/seed/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"code":200,"data":{"task_id":"c","status":"succeeded","video_url":"u"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := videos.DecodeStatus(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
		} else if st, ok := s.TaskStatus(); !ok || s.TaskID == "" || (st == task.StatusSucceeded && s.VideoURL == "") {
			t.Fatalf("believed an incomplete status: %+v", s)
		}
		if id, err := videos.DecodeCreated(data); err == nil && id == "" {
			t.Fatal("believed a create answer without an id")
		}
		_, _, _, _ = videos.DecodeError(data)
	})
}
