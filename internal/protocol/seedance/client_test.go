package seedance_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/protocol/seedance"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

const seeds = "../../dialect/seedance/testdata/seed/"

func TestDecodeSeedAnswers(t *testing.T) {
	for _, f := range []string{"003_answer.json", "003_callback_body.json"} {
		data, err := os.ReadFile(seeds + f)
		require.NoError(t, err)
		e, err := seedance.DecodeEnvelope(data)
		require.NoError(t, err, f)
		st, _ := e.Data.TaskStatus()
		require.Equal(t, task.StatusSucceeded, st, f)
		id, err := seedance.DecodeAccepted(data)
		require.NoError(t, err)
		require.Equal(t, e.TaskID, id)
	}
	data, err := os.ReadFile(seeds + "003_callback_answer.json")
	require.NoError(t, err)
	id, err := seedance.DecodeAccepted(data)
	require.NoError(t, err)
	require.NotEmpty(t, id)

	data, err = os.ReadFile(seeds + "003_error.json")
	require.NoError(t, err)
	code, _, msg, ok := seedance.DecodeError(data)
	require.True(t, ok)
	require.NotEmpty(t, code)
	require.NotEmpty(t, msg)
	_, _, _, ok = seedance.DecodeError([]byte(`{"success":true,"task_id":"x"}`))
	require.False(t, ok, "a success is no error")

	for _, bad := range []string{`{"task_id":""}`, `{"success":true,"data":{"task_id":"c","status":"succeeded"}}`,
		`{"data":{"task_id":"c","status":"not_found"}}`, `{"data":{"status":"queued"}}`, `{"task_id":"a"}{"task_id":"b"}`} {
		_, err1 := seedance.DecodeEnvelope([]byte(bad))
		require.True(t, errors.Is(err1, wire.ErrMalformed), "%s: %v", bad, err1)
	}
	items, err := seedance.DecodeList([]byte(`{"success":true,"data":[{"task_id":"a","status":"running"},{"task_id":"b","status":"not_found"}]}`))
	require.NoError(t, err)
	require.Len(t, items, 2)
	_, err = seedance.DecodeList([]byte(`{"success":true,"data":[{"task_id":"a","status":"succeeded"}]}`))
	require.ErrorIs(t, err, wire.ErrMalformed)
}

// The client's body spells the camera switch as the seed does, and leaves out
// what it does not set.
func TestRequestBody(t *testing.T) {
	b := seedance.Request{CameraFixed: task.Bool(true), CreateBody: ark.CreateBody{Model: "m",
		Content: []ark.ContentItem{{Type: "text", Text: "x"}}}}
	data, err := json.Marshal(b)
	require.NoError(t, err)
	require.JSONEq(t, `{"model":"m","content":[{"type":"text","text":"x"}],"camerafixed":true}`, string(data))
}

// FuzzDecodeSeedanceAnswers: answers and callbacks are believed entirely or
// refused with ErrMalformed.
func FuzzDecodeSeedanceAnswers(f *testing.F) {
	for _, pattern := range []string{seeds + "*.json", golden + "*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"success":true,"data":[{"task_id":"a","status":"running"},{"task_id":"b","status":"not_found"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if e, err := seedance.DecodeEnvelope(data); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
		} else if st, ok := e.Data.TaskStatus(); !ok || e.Data.TaskID == "" || (st == task.StatusSucceeded && e.Data.VideoURL == "") {
			t.Fatalf("believed an incomplete envelope: %+v", e)
		}
		if items, err := seedance.DecodeList(data); err == nil {
			for _, d := range items {
				if _, ok := d.TaskStatus(); !ok && d.Status != "not_found" {
					t.Fatalf("believed a list item with status %q", d.Status)
				}
			}
		}
		if id, err := seedance.DecodeAccepted(data); err == nil && id == "" {
			t.Fatal("believed a create answer without a task_id")
		}
		_, _, _, _ = seedance.DecodeError(data)
	})
}
