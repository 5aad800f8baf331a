package arkemu_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	created := b.clock.Now().Unix()
	id := b.create(testKey, textBody(pro10, "a cat on a boat", nil))

	got := b.get(testKey, id)
	require.Equal(t, "queued", got["status"])
	require.Nil(t, got["error"])
	require.NotContains(t, got, "usage")
	require.NotContains(t, got, "content")

	b.advance(10 * time.Second)
	require.Equal(t, "running", b.status(id))
	b.advance(59 * time.Second)
	require.Equal(t, "running", b.status(id))
	b.advance(time.Second)

	got = b.get(testKey, id)
	require.Equal(t, "succeeded", got["status"])
	require.Equal(t, pro10, got["model"])
	require.EqualValues(t, created, got["created_at"])
	require.EqualValues(t, created+70, got["updated_at"])
	require.Equal(t, "1080p", got["resolution"])
	require.Equal(t, "16:9", got["ratio"])
	require.EqualValues(t, 5, got["duration"])
	require.NotContains(t, got, "frames")
	require.EqualValues(t, 24, got["framespersecond"])
	require.Equal(t, "default", got["service_tier"])
	require.EqualValues(t, 172800, got["execution_expires_after"])
	require.NotContains(t, got, "generate_audio", "1.0 pro has no audio")
	seed := got["seed"].(float64)
	require.GreaterOrEqual(t, seed, 0.0, "a random seed is resolved")
	// 1920×1088, 5 s: the published figure.
	require.Equal(t, map[string]any{"completion_tokens": 246840.0, "total_tokens": 246840.0}, got["usage"])
	content := got["content"].(map[string]any)
	require.Contains(t, content["video_url"], b.http.URL+"/files/")
	require.NotContains(t, content, "last_frame_url")
}

func TestLifecycleClockJump(t *testing.T) {
	t.Parallel()
	// A clock that leaps past several steps still replays them in order, with
	// the right timestamps, and respects the concurrency limit on the way.
	b := setup(t, arkemu.Options{Concurrency: 1}, true)
	start := b.clock.Now().Unix()
	first := b.create(testKey, textBody(pro10, "one", nil))
	second := b.create(testKey, textBody(pro10, "two", nil))
	b.advance(time.Hour)

	one, two := b.get(testKey, first), b.get(testKey, second)
	require.Equal(t, "succeeded", one["status"])
	require.Equal(t, "succeeded", two["status"])
	require.EqualValues(t, start+70, one["updated_at"])
	require.EqualValues(t, start+130, two["updated_at"], "the second starts when the first frees the slot")
}

func TestConcurrencyAndPriority(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{Concurrency: 1}, true)
	first := b.create(testKey, textBody(v20, "first", nil))
	b.advance(10 * time.Second)
	require.Equal(t, "running", b.status(first))

	low := b.create(testKey, textBody(v20, "low", map[string]any{"priority": 0}))
	high := b.create(testKey, textBody(v20, "high", map[string]any{"priority": 9}))
	otherAccount := b.create(otherKey, textBody(v20, "other", nil))
	otherModel := b.create(testKey, textBody(pro10, "other model", nil))
	b.advance(10 * time.Second)
	require.Equal(t, "queued", b.status(low), "over the concurrency limit a task waits queued")
	require.Equal(t, "queued", b.status(high))
	require.Equal(t, "running", b.get(otherKey, otherAccount)["status"], "limits are per account")
	require.Equal(t, "running", b.status(otherModel), "limits are per model")

	b.advance(50 * time.Second)
	require.Equal(t, "succeeded", b.status(first))
	require.Equal(t, "running", b.status(high), "higher priority starts first")
	require.Equal(t, "queued", b.status(low))
}

func TestModelDefaultConcurrency(t *testing.T) {
	t.Parallel()
	// Lite models run 5 at a time per account (the catalog), others 10.
	b := setup(t, arkemu.Options{}, true)
	var ids []string
	for i := range 6 {
		ids = append(ids, b.create(testKey, textBody(lite, fmt.Sprint("clip ", i), nil)))
	}
	b.advance(10 * time.Second)
	running := 0
	for _, id := range ids {
		if b.status(id) == "running" {
			running++
		}
	}
	require.Equal(t, 5, running)
}

func TestCreateFields(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{Endpoints: map[string]string{"ep-20250101-abcde": pro10}}, true)
	portrait := pngDataURL(t, 600, 800)

	tests := []struct {
		name  string
		body  map[string]any
		check func(t *testing.T, got map[string]any)
	}{
		{"byteplus id echoed", textBody("seedance-1-0-pro-250528", "x", nil), func(t *testing.T, got map[string]any) {
			require.Equal(t, "seedance-1-0-pro-250528", got["model"])
		}},
		{"endpoint names its model", textBody("ep-20250101-abcde", "x", nil), func(t *testing.T, got map[string]any) {
			require.Equal(t, pro10, got["model"])
		}},
		{"explicit fields", textBody(pro10, "x", map[string]any{
			"seed": 42, "resolution": "480p", "ratio": "1:1", "duration": 3, "execution_expires_after": 3600,
			"safety_identifier": "user-7",
		}), func(t *testing.T, got map[string]any) {
			require.EqualValues(t, 42, got["seed"])
			require.Equal(t, "480p", got["resolution"])
			require.Equal(t, "1:1", got["ratio"])
			require.EqualValues(t, 3, got["duration"])
			require.EqualValues(t, 3600, got["execution_expires_after"])
			require.Equal(t, "user-7", got["safety_identifier"])
		}},
		{"frames instead of duration", textBody(lite, "x", map[string]any{"frames": 29}), func(t *testing.T, got map[string]any) {
			require.EqualValues(t, 29, got["frames"])
			require.NotContains(t, got, "duration")
		}},
		{"adaptive resolves from the first frame", map[string]any{
			"model":   pro10,
			"content": []any{map[string]any{"type": "text", "text": "x"}, imageItem(portrait, "")},
		}, func(t *testing.T, got map[string]any) {
			require.Equal(t, "3:4", got["ratio"])
		}},
		{"1.5 pro defaults audio and draft", textBody(pro15, "x", nil), func(t *testing.T, got map[string]any) {
			require.Equal(t, true, got["generate_audio"])
			require.Equal(t, false, got["draft"])
			require.Equal(t, "720p", got["resolution"])
			require.Equal(t, "16:9", got["ratio"], "adaptive without an image falls back")
		}},
		{"flex tier", textBody(pro15, "x", map[string]any{"service_tier": "flex"}), func(t *testing.T, got map[string]any) {
			require.Equal(t, "flex", got["service_tier"])
		}},
		{"inline parameters fill unset fields", textBody(pro10, "a dog --rs 480p --rt 9:16 --dur 4 --seed 7", nil), func(t *testing.T, got map[string]any) {
			require.Equal(t, "480p", got["resolution"])
			require.Equal(t, "9:16", got["ratio"])
			require.EqualValues(t, 4, got["duration"])
			require.EqualValues(t, 7, got["seed"])
		}},
		{"bad inline values fall back to defaults", textBody(pro10, "a dog --dur 99 --rs 8k", nil), func(t *testing.T, got map[string]any) {
			require.EqualValues(t, 5, got["duration"])
			require.Equal(t, "1080p", got["resolution"])
		}},
		{"body wins over inline", textBody(pro10, "a dog --dur 4", map[string]any{"duration": 6}), func(t *testing.T, got map[string]any) {
			require.EqualValues(t, 6, got["duration"])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := b.create(testKey, tc.body)
			tc.check(t, b.get(testKey, id))
		})
	}
}

func TestUsageTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	tests := []struct {
		name string
		body map[string]any
		want float64
	}{
		{"1.5 pro 720p 5s", textBody(pro15, "x", map[string]any{"ratio": "16:9"}), 108900},
		{"1.5 pro 480p 1:1 4s", textBody(pro15, "x", map[string]any{"ratio": "1:1", "resolution": "480p", "duration": 4}), 38800},
		{"draft is 0.6×", textBody(pro15, "x", map[string]any{"ratio": "16:9", "draft": true}), float64(864 * 496 * 121 / 1024 * 6 / 10)},
	}
	ids := make([]string, len(tests))
	for i, tc := range tests {
		ids[i] = b.create(testKey, tc.body)
	}
	b.advance(time.Hour)
	for i, tc := range tests {
		got := b.get(testKey, ids[i])
		require.Equal(t, "succeeded", got["status"], tc.name)
		require.Equal(t, tc.want, got["usage"].(map[string]any)["total_tokens"], tc.name)
	}
}

func TestDraftTask(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	draft := b.create(testKey, textBody(pro15, "a fox", map[string]any{"draft": true, "ratio": "9:16", "duration": 6}))
	final := map[string]any{
		"model":   pro15,
		"content": []any{map[string]any{"type": "draft_task", "draft_task": map[string]any{"id": draft}}},
	}
	r := b.do(http.MethodPost, "/contents/generations/tasks", testKey, final)
	require.Equal(t, http.StatusBadRequest, r.status, "a draft that has not succeeded cannot be re-rendered")

	b.advance(time.Hour)
	d := b.get(testKey, draft)
	require.Equal(t, "480p", d["resolution"])
	require.Equal(t, true, d["draft"])

	id := b.create(testKey, final)
	got := b.get(testKey, id)
	require.Equal(t, draft, got["draft_task_id"])
	require.Equal(t, d["seed"], got["seed"])
	require.Equal(t, "9:16", got["ratio"])
	require.EqualValues(t, 6, got["duration"])
	require.Equal(t, "720p", got["resolution"])
	require.Equal(t, false, got["draft"])

	r = b.do(http.MethodPost, "/contents/generations/tasks", otherKey, final)
	require.Equal(t, http.StatusBadRequest, r.status, "another account's draft is invisible")
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	tiny := pngDataURL(t, 100, 100)
	tests := []struct {
		name   string
		key    string
		body   any
		status int
		code   string
		param  string
	}{
		{"no key", "", textBody(pro10, "x", nil), 401, "AuthenticationError", ""},
		{"unknown key", "sk-nope", textBody(pro10, "x", nil), 401, "AuthenticationError", ""},
		{"not json", testKey, "{", 400, "InvalidParameter", ""},
		{"wrong type", testKey, textBody(pro10, "x", map[string]any{"duration": "five"}), 400, "InvalidParameter", "duration"},
		{"missing model", testKey, map[string]any{"content": []any{}}, 400, "MissingParameter", "model"},
		{"missing content", testKey, map[string]any{"model": pro10}, 400, "MissingParameter", "content"},
		{"unknown model", testKey, textBody("doubao-seedance-9", "x", nil), 404, "InvalidEndpointOrModel.NotFound", "model"},
		{"seedgate alias is not an Ark id", testKey, textBody("seedance-1-0-pro", "x", nil), 404, "InvalidEndpointOrModel.NotFound", "model"},
		{"unknown endpoint", testKey, textBody("ep-nope", "x", nil), 404, "InvalidEndpointOrModel.NotFound", "model"},
		{"duration out of range", testKey, textBody(pro10, "x", map[string]any{"duration": 20}), 400, "InvalidParameter", "duration"},
		{"bad resolution", testKey, textBody(pro10, "x", map[string]any{"resolution": "4k"}), 400, "InvalidParameter", "resolution"},
		{"flex on 2.0", testKey, textBody(v20, "x", map[string]any{"service_tier": "flex"}), 400, "InvalidParameter", "service_tier"},
		{"expires too soon", testKey, textBody(pro10, "x", map[string]any{"execution_expires_after": 60}), 400, "InvalidParameter", "execution_expires_after"},
		{"empty prompt", testKey, textBody(pro10, "", nil), 400, "MissingParameter", "content"},
		{"unknown item type", testKey, map[string]any{"model": pro10, "content": []any{map[string]any{"type": "gif"}}}, 400, "InvalidParameter", "content"},
		{"empty image url", testKey, map[string]any{"model": pro10, "content": []any{imageItem("", "")}}, 400, "InvalidImageURL.EmptyURL", "image_url"},
		{"image url scheme", testKey, map[string]any{"model": pro10, "content": []any{imageItem("ftp://x/y.png", "")}}, 400, "InvalidImageURL.InvalidFormat", "image_url"},
		{"not an image", testKey, map[string]any{"model": pro10, "content": []any{imageItem("data:image/png;base64,aGVsbG8=", "")}}, 400, "InvalidImageURL.InvalidFormat", "image_url"},
		{"image too small", testKey, map[string]any{"model": pro10, "content": []any{imageItem(tiny, "")}}, 400, "InvalidParameter", "content"},
		{"two images without roles", testKey, map[string]any{"model": pro10, "content": []any{imageItem(tiny, ""), imageItem(tiny, "")}}, 400, "InvalidParameter", "role"},
		{"lite t2v takes no image", testKey, map[string]any{"model": lite, "content": []any{imageItem(pngDataURL(t, 640, 480), "")}}, 400, "InvalidParameter", "content"},
		{"reject marker", testKey, textBody(pro10, "x [ark:reject=InputTextSensitiveContentDetected]", nil), 400, "InputTextSensitiveContentDetected", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(http.MethodPost, "/contents/generations/tasks", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "body: %s", r.body)
			require.NotEmpty(t, r.header.Get("X-Request-Id"))
			code, param, typ := r.errorOf(t)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.param, param)
			require.Equal(t, map[int]string{400: "BadRequest", 401: "Unauthorized", 404: "NotFound"}[tc.status], typ)
		})
	}
	require.Empty(t, b.srv.CreatedIDs(), "no failed create makes a task")
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{
		RPM: 2, MaxQueued: 4, QueueTime: 10 * time.Minute,
		Endpoints: map[string]string{"ep-1": pro15},
	}, true)
	b.create(testKey, textBody(pro10, "1", nil))
	b.create(testKey, textBody(pro10, "2", nil))
	r := b.do(http.MethodPost, "/contents/generations/tasks", testKey, textBody(pro10, "3", nil))
	require.Equal(t, http.StatusTooManyRequests, r.status)
	code, _, typ := r.errorOf(t)
	require.Equal(t, "ModelAccountRpmRateLimitExceeded", code)
	require.Equal(t, "TooManyRequests", typ)

	b.create(otherKey, textBody(pro10, "other account", nil))
	b.create(testKey, textBody("ep-1", "other model", nil))
	b.create(testKey, textBody("ep-1", "other model", nil))
	r = b.do(http.MethodPost, "/contents/generations/tasks", testKey, textBody("ep-1", "3", nil))
	code, _, _ = r.errorOf(t)
	require.Equal(t, "RateLimitExceeded.EndpointRPMExceeded", code)

	// A minute later the RPM window is free again, but the account already
	// has its 4 queued tasks: QuotaExceeded.
	b.clock.Advance(time.Minute)
	r = b.do(http.MethodPost, "/contents/generations/tasks", testKey, textBody(pro10, "4", nil))
	require.Equal(t, http.StatusTooManyRequests, r.status, "body: %s", r.body)
	code, _, _ = r.errorOf(t)
	require.Equal(t, "QuotaExceeded", code)

	b.advance(10 * time.Minute) // they start running: the queue empties
	b.create(testKey, textBody(pro10, "5", nil))
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	id := b.create(testKey, textBody(pro10, "x", nil))
	for _, tc := range []struct{ key, id string }{{testKey, "cgt-20250101000000-zzzzz"}, {otherKey, id}} {
		r := b.do(http.MethodGet, "/contents/generations/tasks/"+tc.id, tc.key, nil)
		require.Equal(t, http.StatusNotFound, r.status)
		code, _, _ := r.errorOf(t)
		require.Equal(t, "NotFound", code)
	}
	r := b.do(http.MethodGet, "/contents/generations/tasks/"+id, "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = b.do(http.MethodGet, "/no/such/route", testKey, nil)
	require.Equal(t, http.StatusNotFound, r.status)
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{Concurrency: 1}, true)
	old := b.create(testKey, textBody(pro10, "old", nil))
	b.advance(8 * 24 * time.Hour) // older than the 7-day window
	var ids []string
	for i := range 5 {
		ids = append(ids, b.create(testKey, textBody(pro10, fmt.Sprint(i), nil)))
		b.clock.Advance(time.Second)
	}
	flex := b.create(testKey, textBody(pro15, "flex", map[string]any{"service_tier": "flex"}))
	b.create(otherKey, textBody(pro10, "someone else", nil))
	b.advance(10 * time.Second) // ids[0] running, the rest queued
	require.Equal(t, "succeeded", b.status(old))

	list := func(query string) (items []string, total int) {
		t.Helper()
		r := b.do(http.MethodGet, "/contents/generations/tasks?"+query, testKey, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			items = append(items, it.(map[string]any)["id"].(string))
		}
		return items, int(m["total"].(float64))
	}

	items, total := list("")
	require.Equal(t, 5, total)
	require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, items, "newest first, default tier only")

	items, total = list("page_num=2&page_size=2")
	require.Equal(t, 5, total)
	require.Equal(t, []string{ids[2], ids[1]}, items)
	items, _ = list("page_num=9&page_size=2")
	require.Empty(t, items)

	items, total = list("filter.status=running")
	require.Equal(t, 1, total)
	require.Equal(t, []string{ids[0]}, items)

	q := url.Values{"filter.task_ids": {ids[1], ids[3], old}}
	items, _ = list(q.Encode())
	require.Equal(t, []string{ids[3], ids[1]}, items)

	items, _ = list("filter.service_tier=flex")
	require.Equal(t, []string{flex}, items)
	items, _ = list("filter.model=" + pro15 + "&filter.service_tier=flex")
	require.Equal(t, []string{flex}, items)
	items, _ = list("filter.model=" + pro15)
	require.Empty(t, items)

	for _, bad := range []string{"page_size=0", "page_size=501", "page_num=x", "filter.status=done", "filter.service_tier=cheap"} {
		r := b.do(http.MethodGet, "/contents/generations/tasks?"+bad, testKey, nil)
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		code, param, _ := r.errorOf(t)
		require.Equal(t, "InvalidParameter", code)
		require.NotEmpty(t, param)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{Concurrency: 1}, true)
	running := b.create(testKey, textBody(pro10, "runs", nil))
	queued := b.create(testKey, textBody(pro10, "waits", nil))
	b.advance(10 * time.Second)
	require.Equal(t, "running", b.status(running))

	del := func(id string) response {
		return b.do(http.MethodDelete, "/contents/generations/tasks/"+id, testKey, nil)
	}
	refused := func(id string) {
		t.Helper()
		r := del(id)
		require.Equal(t, http.StatusConflict, r.status, "body: %s", r.body)
		code, _, typ := r.errorOf(t)
		require.Equal(t, "OperationDenied.InvalidTaskStatus", code)
		require.Equal(t, "Conflict", typ)
	}

	r := del(queued)
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.body)
	require.Equal(t, "cancelled", b.status(queued))
	refused(queued)
	refused(running)

	b.advance(time.Minute)
	require.Equal(t, "succeeded", b.status(running))
	require.Equal(t, http.StatusOK, del(running).status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/contents/generations/tasks/"+running, testKey, nil).status)
	require.Equal(t, http.StatusNotFound, del(running).status)

	// Cancelled records disappear after 24 h.
	b.advance(24 * time.Hour)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/contents/generations/tasks/"+queued, testKey, nil).status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodDelete, "/contents/generations/tasks/"+queued, otherKey, nil).status)

	info := b.srv.Tasks()
	require.Len(t, info, 2)
	require.True(t, info[0].Deleted)
	require.True(t, info[1].Deleted)
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	sink := newCallbackSink(t, nil)
	b := setup(t, arkemu.Options{Concurrency: 1, RunTime: 2 * time.Hour}, true)
	body := textBody(pro10, "slow", map[string]any{"execution_expires_after": 3600, "callback_url": sink.srv.URL})
	running := b.create(testKey, body)
	queued := b.create(testKey, body)
	b.advance(59 * time.Minute)
	require.Equal(t, "running", b.status(running))
	require.Equal(t, "queued", b.status(queued))
	b.advance(time.Minute)
	for _, id := range []string{running, queued} {
		got := b.get(testKey, id)
		require.Equal(t, "expired", got["status"])
		require.EqualValues(t, b.clock.Now().Unix(), got["updated_at"])
	}
	require.Eventually(t, func() bool {
		return len(sink.statuses()) == 5 // queued ×2, running, expired ×2
	}, 5*time.Second, 5*time.Millisecond)
	require.ElementsMatch(t, []string{"queued", "queued", "running", "expired", "expired"}, sink.statuses())
}

func TestCounters(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	id := b.create(testKey, textBody(pro10, "x", nil))
	b.get(testKey, id)
	b.get(testKey, id)
	b.do(http.MethodGet, "/contents/generations/tasks", otherKey, nil)
	b.do(http.MethodDelete, "/contents/generations/tasks/"+id, testKey, nil)

	require.Equal(t, 1, b.srv.Calls(arkemu.OpCreate))
	require.Equal(t, 2, b.srv.Calls(arkemu.OpGet))
	require.Equal(t, 2, b.srv.CallsByKey(testKey, arkemu.OpGet))
	require.Equal(t, 0, b.srv.CallsByKey(otherKey, arkemu.OpGet))
	require.Equal(t, 1, b.srv.CallsByKey(otherKey, arkemu.OpList))
	require.Equal(t, 1, b.srv.Calls(arkemu.OpDelete))
	require.Equal(t, []string{id}, b.srv.CreatedIDs())

	info, ok := b.srv.TaskByID(id)
	require.True(t, ok)
	require.Equal(t, testKey, info.APIKey)
	require.Equal(t, "cancelled", info.Status)
	require.Equal(t, 1920, info.Width)
	require.Equal(t, 1088, info.Height)
	require.Equal(t, "x", info.Request.Prompt)
}

func TestPrune(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	old := b.create(testKey, textBody(pro10, "x", nil))
	b.advance(31 * 24 * time.Hour)
	fresh := b.create(testKey, textBody(pro10, "y", nil))
	b.advance(2 * time.Minute)
	_, ok := b.srv.TaskByID(old)
	require.False(t, ok, "finished records older than 30 days are dropped")
	_, ok = b.srv.TaskByID(fresh)
	require.True(t, ok)
	require.Equal(t, []string{old, fresh}, b.srv.CreatedIDs(), "the created-ids log is kept")
}

func TestListenAndServe(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- arkemu.Serve(ctx, ln, arkemu.Options{APIKeys: []string{testKey}}) }()

	client := &http.Client{Timeout: 5 * time.Second}
	body := `{"model":"` + pro10 + `","content":[{"type":"text","text":"x"}]}`
	require.Eventually(t, func() bool {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+arkemu.BasePath+"/contents/generations/tasks", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
}

// OnRequest sees the headers of every API call, refused ones included.
func TestOnRequestSeesHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[arkemu.Op][]string{}
	b := setup(t, arkemu.Options{APIKeys: []string{testKey}, OnRequest: func(op arkemu.Op, h http.Header) {
		mu.Lock()
		defer mu.Unlock()
		seen[op] = append(seen[op], h.Get("Content-Type")+" "+h.Get("Authorization"))
	}}, false)
	id := b.create(testKey, textBody(pro10, "a cat", nil))
	b.do(http.MethodGet, "/contents/generations/tasks/"+id, otherKey, nil)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"application/json Bearer " + testKey}, seen[arkemu.OpCreate])
	require.Equal(t, []string{"application/json Bearer " + otherKey}, seen[arkemu.OpGet], "a refused call too")
}
