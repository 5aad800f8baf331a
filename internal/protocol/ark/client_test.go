package ark_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// Task objects as the upstream documents them and the ark reference example shows them.
const (
	specTask = `{"id":"cgt-2025****","model":"seedance-1-0-pro-250528","status":"succeeded",
 "content":{"video_url":"https://example.com/v.mp4"},"usage":{"completion_tokens":246840,"total_tokens":246840},
 "created_at":1765510475,"updated_at":1765510559,"seed":58944,"resolution":"1080p","ratio":"16:9",
 "duration":5,"framespersecond":24,"service_tier":"default","execution_expires_after":172800}`
	seed001Task = `{
    "id": "cgt-2026******-****",
    "model": "seedance-1-0-pro-250528",
    "status": "succeeded",
    "content": {
        "video_url": "https://ark-content-generation-ap-southeast-1.tos-ap-southeast-1.volces.com/seedance-1-0-pro/021768294532558000000000ffffc0a8bc10474251.mp4?X************"
    },
    "usage": {"completion_tokens": 295800, "total_tokens": 295800},
    "created_at": 1768294532, "updated_at": 1768294581, "seed": 44457, "resolution": "1080p",
    "ratio": "16:9", "duration": 6, "framespersecond": 24, "service_tier": "default",
    "execution_expires_after": 172800, "draft": false
}`
	failedTask  = `{"id":"cgt-1","model":"m","status":"failed","error":{"code":"OutputVideoSensitiveContentDetected","message":"flagged"},"created_at":1,"updated_at":2}`
	runningTask = `{"id":"cgt-2","model":"m","status":"running","error":null,"created_at":1,"updated_at":2,"frames":121}`
)

func TestDecodeTask(t *testing.T) {
	t.Parallel()
	got, err := ark.DecodeTask([]byte(seed001Task))
	require.NoError(t, err)
	require.Equal(t, "succeeded", got.Status)
	require.EqualValues(t, 295800, got.Usage.TotalTokens)
	require.Equal(t, 6, *got.Duration)
	require.False(t, *got.Draft)

	f, err := ark.DecodeTask([]byte(failedTask))
	require.NoError(t, err)
	require.Equal(t, "OutputVideoSensitiveContentDetected", f.Error.Code)

	for name, body := range map[string]string{
		"truncated":         specTask[:len(specTask)/2],
		"malformed":         "{{" + specTask,
		"trailing":          specTask + specTask,
		"no id":             `{"status":"queued"}`,
		"unknown status":    `{"id":"x","status":"done"}`,
		"success sans URL":  `{"id":"x","status":"succeeded","content":{}}`,
		"error envelope":    `{"error":{"code":"NotFound","message":"nope"}}`,
		"wrong type":        `{"id":"x","status":"queued","created_at":"yesterday"}`,
		"array":             `[]`,
		"empty":             ``,
		"null":              `null`,
		"number for string": `{"id":5,"status":"queued"}`,
	} {
		_, err := ark.DecodeTask([]byte(body))
		require.Error(t, err, name)
		require.True(t, errors.Is(err, ark.ErrMalformed), name)
	}
}

func TestDecodeList(t *testing.T) {
	t.Parallel()
	items, total, err := ark.DecodeList([]byte(`{"items":[` + specTask + `,` + runningTask + `],"total":2}`))
	require.NoError(t, err)
	require.Equal(t, 2, total)
	require.Len(t, items, 2)
	require.Equal(t, 121, *items[1].Frames)

	_, _, err = ark.DecodeList([]byte(`{"items":[` + specTask + `,{"id":""}],"total":2}`))
	require.Error(t, err, "one bad item spoils the page")
	_, _, err = ark.DecodeList([]byte(`{"total":0}`))
	require.Error(t, err)
	items, _, err = ark.DecodeList([]byte(`{"items":[],"total":0}`))
	require.NoError(t, err)
	require.Empty(t, items)
}

// FuzzDecodeTask: whatever the upstream sends, decoding never panics, and
// what it accepts is a task object the gateway can act on.
func FuzzDecodeTask(f *testing.F) {
	for _, s := range []string{specTask, seed001Task, failedTask, runningTask, `{"id":"x","status":"expired"}`,
		`{"items":[],"total":0}`, `{"error":{"code":"NotFound"}}`, specTask[:40], "{{", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ark.DecodeTask(data)
		if err != nil {
			if !errors.Is(err, ark.ErrMalformed) {
				t.Fatalf("error without ark.ErrMalformed: %v", err)
			}
			return
		}
		st := task.Status(got.Status)
		if got.ID == "" || !st.Valid() {
			t.Fatalf("accepted an unusable task: %+v", got)
		}
		if st == task.StatusSucceeded && (got.Content == nil || got.Content.VideoURL == "") {
			t.Fatalf("accepted a success without a video: %+v", got)
		}
		// What was accepted survives a round trip.
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ark.DecodeTask(again); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		_, _, _ = ark.DecodeList(data) // must not panic either
	})
}

func TestDecodeCreated(t *testing.T) {
	t.Parallel()
	id, err := ark.DecodeCreated([]byte(`{"id":"cgt-1"}`))
	require.NoError(t, err)
	require.Equal(t, "cgt-1", id)
	for _, body := range []string{`{"id":""}`, `{}`, `{"id":"a"}{"id":"b"}`, `<html>`} {
		_, err := ark.DecodeCreated([]byte(body))
		require.ErrorIs(t, err, ark.ErrMalformed, body)
	}
}
