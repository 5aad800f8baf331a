// Package storetest is the one test suite every store.Store implementation
// must pass. It assumes nothing about the database behind the store.
//
// Contract details the suite pins down beyond the interface's comments:
//   - times come back equal (time.Equal) to what was written, truncated to the
//     millisecond; zero times stay zero and nil time pointers stay nil;
//   - nil and non-nil-but-zero pointers (Result, Usage, Error, Request options)
//     are told apart, and Error.RetryAfter survives;
//   - ClaimDue returns tasks in NextCheckAt order, then ID, with Version bumped;
//   - ListTasks returns a non-nil Tasks slice; an After cursor that does not
//     exist (or belongs to another tenant when Tenant is set) is ErrNotFound;
//   - TaskFilter.CreatedAfter/CreatedBefore compare at millisecond precision;
//   - DeleteTask of a missing task is ErrNotFound.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Run runs the suite. newStore must return a new, empty store on every call
// and close it with t.Cleanup; subtests run in parallel, one store each.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"CreateDuplicate", testCreateDuplicate},
		{"GetMissing", testGetMissing},
		{"Update", testUpdate},
		{"UpdateStaleVersion", testUpdateStaleVersion},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateConcurrent", testUpdateConcurrent},
		{"ListFilters", testListFilters},
		{"ListKeysetPaging", testListKeysetPaging},
		{"ListOffsetPaging", testListOffsetPaging},
		{"ListTotal", testListTotal},
		{"ListAfterUnknown", testListAfterUnknown},
		{"ListEmpty", testListEmpty},
		{"ListDefaultLimit", testListDefaultLimit},
		{"ClaimDue", testClaimDue},
		{"ClaimDueLimit", testClaimDueLimit},
		{"ClaimThenUpdate", testClaimThenUpdate},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ExtendLease", testExtendLease},
		{"NextDue", testNextDue},
		{"DeleteTask", testDeleteTask},
		{"Files", testFiles},
		{"Setting", testSetting},
		{"SettingConcurrent", testSettingConcurrent},
		{"Ping", testPing},
		{"CancelledContext", testCancelledContext},
		{"TraceParent", testTraceParent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// Webhook outbox, secrets and idempotency keys (webhooks.go).
	for _, tc := range webhookTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s, s)
		})
	}
	// API keys, tenants, budgets, request counters and the audit log (accounts.go).
	for _, tc := range accountTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s, s)
		})
	}
	// The rules of store.DB, also under concurrent writers (rules.go).
	for _, tc := range ruleTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// Files of tasks, retention, the blob trash and storage quotas (files.go).
	for _, tc := range fileTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// The counts operators watch (stats.go).
	for _, tc := range statsTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// Instances, their heartbeats and the leases of dead ones (instances.go).
	for _, tc := range instanceTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// The asset library and its upstream copies (assets.go).
	for _, tc := range assetTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// Batched status checks and per-key load of upstream channels (upstream.go).
	for _, tc := range upstreamTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s, s)
		})
	}
}

// base has sub-millisecond digits and a zone on purpose: stores keep milliseconds.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("IST", 5*3600+1800))

func ptr[T any](v T) *T { return &v }

// newTask returns a queued, due task at base.
func newTask(id string) *task.Task {
	return &task.Task{
		ID:          id,
		Tenant:      "tenant-a",
		Dialect:     "ark",
		Model:       "doubao-seedance-1-0-pro-250528",
		ModelAlias:  "seedance-pro",
		Status:      task.StatusQueued,
		Request:     task.Request{Prompt: "a cat surfing " + id, Resolution: "720p", Duration: task.Int(5)},
		CreatedAt:   base,
		UpdatedAt:   base,
		ExpiresAt:   base.Add(48 * time.Hour),
		NextCheckAt: ptr(base),
	}
}

// fullTask sets every field of a task.
func fullTask(id string) *task.Task {
	return &task.Task{
		ID:         id,
		Tenant:     "tenant-full",
		Dialect:    "videos",
		Model:      "doubao-seedance-2-0-260128",
		ModelAlias: "sora-2",
		Status:     task.StatusSucceeded,
		Request: task.Request{
			Prompt:                "A lighthouse in a storm, 100% drama — «Ünïcode»",
			FirstFrame:            "https://example.com/first.png",
			LastFrame:             "data:image/png;base64,AAAA",
			ReferenceImages:       []string{"https://example.com/r1.png", "https://example.com/r2.png"},
			ReferenceVideos:       []string{"https://example.com/v.mp4"},
			ReferenceAudio:        []string{"https://example.com/a.mp3"},
			DraftTaskID:           "cgt-draft",
			Resolution:            "1080p",
			Ratio:                 "21:9",
			Duration:              task.Int(-1),
			Frames:                task.Int(121),
			Seed:                  task.Int64(1 << 40),
			CameraFixed:           task.Bool(true),
			Watermark:             task.Bool(false),
			GenerateAudio:         task.Bool(true),
			ReturnLastFrame:       task.Bool(true),
			Draft:                 task.Bool(false),
			ServiceTier:           "flex",
			ExecutionExpiresAfter: task.Int(172800),
			CallbackURL:           "https://example.com/hook",
			Priority:              task.Int(3),
			SafetyIdentifier:      "user-42",
			WebSearch:             true,
		},
		Result: &task.Result{
			VideoURL:         "https://gw.example.com/files/f1",
			LastFrameURL:     "https://gw.example.com/files/f2",
			VideoFileID:      "file-1",
			LastFrameFileID:  "file-2",
			UpstreamVideoURL: "https://upstream.example.com/v.mp4?sig=1",
			UpstreamFrameURL: "https://upstream.example.com/f.png?sig=1",
			Width:            1920,
			Height:           822,
			Duration:         5.041666666666667,
			FPS:              24,
			HasAudio:         true,
			Seed:             -7,
			Ratio:            "21:9",
			Resolution:       "1080p",
		},
		Usage: &task.Usage{CompletionTokens: 246840, TotalTokens: 246841},
		Error: &task.Error{
			Code:         task.CodeUpstream,
			Message:      "the output was flagged",
			Field:        "prompt",
			UpstreamCode: "OutputVideoSensitiveContentDetected",
			RetryAfter:   30,
		},
		Provider:     "ark-main",
		UpstreamID:   "cgt-20250314150926-abcde",
		Channel:      "byteplus-main",
		UpstreamKey:  "key-2",
		TraceParent:  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		DispatchedAt: ptr(base.Add(1500 * time.Microsecond)),
		Attempts:     2,
		CreatedAt:    base,
		UpdatedAt:    base.Add(90 * time.Second),
		StartedAt:    ptr(base.Add(2 * time.Second)),
		FinishedAt:   ptr(base.Add(80*time.Second + 999999*time.Nanosecond)),
		ExpiresAt:    base.Add(48 * time.Hour),
		NextCheckAt:  ptr(base.Add(time.Minute)),
		Progress:     100,
		Version:      42, // ignored by CreateTask
		LeaseOwner:   "scheduler-1",
		LeaseUntil:   ptr(base.Add(30 * time.Second)),
	}
}

// msTime is t as a store returns it: truncated to the millisecond, in UTC
// (only so that require.Equal compares instants, not zones).
func msTime(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

func msTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(msTime(*t))
}

// normalize returns a copy of t with every time as a store returns it.
func normalize(t *task.Task) *task.Task {
	c := *t
	c.DispatchedAt = msTimePtr(t.DispatchedAt)
	c.CreatedAt = msTime(t.CreatedAt)
	c.UpdatedAt = msTime(t.UpdatedAt)
	c.StartedAt = msTimePtr(t.StartedAt)
	c.FinishedAt = msTimePtr(t.FinishedAt)
	c.ExpiresAt = msTime(t.ExpiresAt)
	c.NextCheckAt = msTimePtr(t.NextCheckAt)
	c.LeaseUntil = msTimePtr(t.LeaseUntil)
	return &c
}

func requireTask(t *testing.T, want, got *task.Task) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normalize(want), normalize(got))
}

func ids(tasks []*task.Task) []string {
	out := make([]string, len(tasks))
	for i, tk := range tasks {
		out[i] = tk.ID
	}
	return out
}

func create(t *testing.T, s store.Store, tasks ...*task.Task) {
	t.Helper()
	for _, tk := range tasks {
		require.NoError(t, s.CreateTask(t.Context(), tk), "create %s", tk.ID)
	}
}

func get(t *testing.T, s store.Store, id string) *task.Task {
	t.Helper()
	got, err := s.GetTask(t.Context(), id)
	require.NoError(t, err, "get %s", id)
	return got
}

func testCreateGetRoundTrip(t *testing.T, s store.Store) {
	zeroPointers := newTask("zero-pointers")
	zeroPointers.Request = task.Request{
		Duration: task.Int(0), Frames: task.Int(0), Seed: task.Int64(0),
		CameraFixed: task.Bool(false), Watermark: task.Bool(false), GenerateAudio: task.Bool(false),
		ReturnLastFrame: task.Bool(false), Draft: task.Bool(false),
		ExecutionExpiresAfter: task.Int(0), Priority: task.Int(0),
	}
	zeroPointers.Result = &task.Result{}
	zeroPointers.Usage = &task.Usage{}
	zeroPointers.Error = &task.Error{}
	zeroPointers.DispatchedAt = ptr(time.Unix(0, 0))
	zeroPointers.NextCheckAt = ptr(time.Unix(0, 0))

	tests := []struct {
		name string
		task *task.Task
	}{
		{"every field set", fullTask("full")},
		{"all zero", &task.Task{ID: "all-zero"}},
		{"typical queued", newTask("typical")},
		{"set pointers to zero values", zeroPointers},
		{"times before 1970", func() *task.Task {
			tk := newTask("old")
			tk.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)
			tk.StartedAt = ptr(tk.CreatedAt)
			return tk
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.task
			require.NoError(t, s.CreateTask(t.Context(), tc.task))
			require.Equal(t, int64(1), tc.task.Version, "CreateTask sets Version to 1")
			want.Version = 1
			got := get(t, s, tc.task.ID)
			requireTask(t, &want, got)
		})
	}
}

func testCreateDuplicate(t *testing.T, s store.Store) {
	first := newTask("dup")
	create(t, s, first)

	second := fullTask("dup")
	err := s.CreateTask(t.Context(), second)
	require.ErrorIs(t, err, store.ErrConflict)
	requireTask(t, first, get(t, s, "dup"))
}

func testGetMissing(t *testing.T, s store.Store) {
	got, err := s.GetTask(t.Context(), "no-such-task")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Nil(t, got)
}

func testUpdate(t *testing.T, s store.Store) {
	orig := fullTask("upd")
	create(t, s, orig)

	// Change every mutable field, clearing what was set and setting what was not.
	changed := get(t, s, "upd")
	changed.Tenant = "tenant-b"
	changed.Dialect = "jobs"
	changed.Model = "doubao-seedance-1-0-lite-t2v-250428"
	changed.ModelAlias = "lite"
	changed.Status = task.StatusRunning
	changed.Request = task.Request{Prompt: "changed", Seed: task.Int64(-1)}
	changed.Result = nil
	changed.Usage = &task.Usage{CompletionTokens: 1, TotalTokens: 2}
	changed.Error = nil
	changed.Provider = "sandbox"
	changed.UpstreamID = ""
	changed.DispatchedAt = nil
	changed.Attempts = 0
	changed.UpdatedAt = base.Add(time.Hour + 7*time.Microsecond)
	changed.StartedAt = nil
	changed.FinishedAt = nil
	changed.ExpiresAt = base.Add(24 * time.Hour)
	changed.NextCheckAt = ptr(base.Add(5 * time.Second))
	changed.Progress = 37
	changed.LeaseOwner = ""
	changed.LeaseUntil = nil

	require.NoError(t, s.UpdateTask(t.Context(), changed))
	require.Equal(t, int64(2), changed.Version, "UpdateTask bumps the caller's version")
	requireTask(t, changed, get(t, s, "upd"))

	// And back: a second update from the returned version succeeds too.
	restored := fullTask("upd")
	restored.Version = changed.Version
	require.NoError(t, s.UpdateTask(t.Context(), restored))
	require.Equal(t, int64(3), restored.Version)
	requireTask(t, restored, get(t, s, "upd"))
}

func testUpdateStaleVersion(t *testing.T, s store.Store) {
	create(t, s, newTask("stale"))
	a := get(t, s, "stale")
	b := get(t, s, "stale")

	a.Status = task.StatusCancelled
	require.NoError(t, s.UpdateTask(t.Context(), a))

	b.Progress = 50
	err := s.UpdateTask(t.Context(), b)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, int64(1), b.Version, "a failed update leaves the caller's version alone")
	requireTask(t, a, get(t, s, "stale"))

	// A version from the future conflicts as well.
	c := get(t, s, "stale")
	c.Version += 5
	require.ErrorIs(t, s.UpdateTask(t.Context(), c), store.ErrConflict)
}

func testUpdateMissing(t *testing.T, s store.Store) {
	tk := newTask("ghost")
	tk.Version = 1
	require.ErrorIs(t, s.UpdateTask(t.Context(), tk), store.ErrNotFound)
}

func testUpdateConcurrent(t *testing.T, s store.Store) {
	create(t, s, newTask("race"))
	const writers = 8
	copies := make([]*task.Task, writers)
	for i := range copies {
		copies[i] = get(t, s, "race")
		copies[i].Progress = i + 1
	}

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() { errs[i] = s.UpdateTask(context.Background(), copies[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two updates of version 1 both won")
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "no update won")
	got := get(t, s, "race")
	require.Equal(t, int64(2), got.Version)
	require.Equal(t, copies[winner].Progress, got.Progress)
}

// listFixture creates 12 tasks, task-00 (oldest) to task-11, and returns them.
// task-10 and task-11 share a CreatedAt, so their order comes from the id.
func listFixture(t *testing.T, s store.Store) []*task.Task {
	t.Helper()
	tenants := []string{"", "alice", "bob"}
	prompts := map[int]string{
		4: "100% Cotton shirt",
		5: "1000 LIONS at dawn",
		7: "Éclair au chocolat",
		8: "big_top circus",
		// A NUL is valid JSON (\u0000) that PostgreSQL's JSON operators
		// cannot turn into text: no filter may depend on them.
		9: "a NUL \x00 inside",
	}
	var all []*task.Task
	for i := range 12 {
		tk := newTask(fmt.Sprintf("task-%02d", i))
		tk.Tenant = tenants[i%3]
		tk.Status = task.Statuses[i%len(task.Statuses)]
		tk.Model = "m-odd"
		if i%2 == 0 {
			tk.Model = "m-even"
		}
		tk.Dialect = "ark"
		if i >= 6 {
			tk.Dialect = "openai"
		}
		if p, ok := prompts[i]; ok {
			tk.Request.Prompt = p
		}
		tk.Request.ServiceTier = "default"
		if i%4 == 1 {
			tk.Request.ServiceTier = "flex"
		}
		tk.Request.RequestID = fmt.Sprintf("req-%02d", i)
		tk.CreatedAt = base.Add(time.Duration(min(i, 10)) * time.Minute)
		all = append(all, tk)
	}
	create(t, s, all...)
	return all
}

// newestFirst returns the ids of the tasks keep selects, in ListTasks' default order.
func newestFirst(all []*task.Task, keep func(*task.Task) bool) []string {
	var out []string
	for i := len(all) - 1; i >= 0; i-- {
		if keep(all[i]) {
			out = append(out, all[i].ID)
		}
	}
	return out
}

func testListFilters(t *testing.T, s store.Store) {
	all := listFixture(t, s)
	tests := []struct {
		name   string
		filter store.TaskFilter
		keep   func(*task.Task) bool // nil: use wantIDs
		want   []string
	}{
		{name: "no filter", keep: func(*task.Task) bool { return true }},
		{name: "tenant alice", filter: store.TaskFilter{Tenant: ptr("alice")},
			keep: func(tk *task.Task) bool { return tk.Tenant == "alice" }},
		{name: "empty tenant is a tenant", filter: store.TaskFilter{Tenant: ptr("")},
			keep: func(tk *task.Task) bool { return tk.Tenant == "" }},
		{name: "unknown tenant", filter: store.TaskFilter{Tenant: ptr("mallory")}, want: nil},
		{name: "statuses", filter: store.TaskFilter{Statuses: []task.Status{task.StatusQueued, task.StatusFailed}},
			keep: func(tk *task.Task) bool { return tk.Status == task.StatusQueued || tk.Status == task.StatusFailed }},
		{name: "model", filter: store.TaskFilter{Model: "m-even"},
			keep: func(tk *task.Task) bool { return tk.Model == "m-even" }},
		{name: "dialect", filter: store.TaskFilter{Dialect: "openai"},
			keep: func(tk *task.Task) bool { return tk.Dialect == "openai" }},
		{name: "service tier", filter: store.TaskFilter{ServiceTier: "flex"},
			keep: func(tk *task.Task) bool { return tk.Request.ServiceTier == "flex" }},
		{name: "request id", filter: store.TaskFilter{RequestID: "req-07"}, want: []string{"task-07"}},
		{name: "unknown request id", filter: store.TaskFilter{RequestID: "req-99"}, want: nil},
		{name: "ids", filter: store.TaskFilter{IDs: []string{"task-03", "task-09", "task-00", "nope"}},
			want: []string{"task-09", "task-03", "task-00"}},
		{name: "search is case-insensitive", filter: store.TaskFilter{Search: "lions"}, want: []string{"task-05"}},
		{name: "search non-ascii case", filter: store.TaskFilter{Search: "éCLAIR"}, want: []string{"task-07"}},
		{name: "search percent is literal", filter: store.TaskFilter{Search: "100%"}, want: []string{"task-04"}},
		{name: "search underscore is literal", filter: store.TaskFilter{Search: "g_t"}, want: []string{"task-08"}},
		{name: "search substring", filter: store.TaskFilter{Search: "100"}, want: []string{"task-05", "task-04"}},
		{name: "created after is inclusive", filter: store.TaskFilter{CreatedAfter: base.Add(9 * time.Minute)},
			want: []string{"task-11", "task-10", "task-09"}},
		{name: "created before is exclusive", filter: store.TaskFilter{CreatedBefore: base.Add(2 * time.Minute)},
			want: []string{"task-01", "task-00"}},
		{name: "created window", filter: store.TaskFilter{
			CreatedAfter: base.Add(3*time.Minute - time.Millisecond), CreatedBefore: base.Add(5*time.Minute + time.Millisecond)},
			want: []string{"task-05", "task-04", "task-03"}},
		{name: "combined", filter: store.TaskFilter{Tenant: ptr("bob"), Dialect: "openai", Model: "m-even"},
			keep: func(tk *task.Task) bool { return tk.Tenant == "bob" && tk.Dialect == "openai" && tk.Model == "m-even" }},
		{name: "ascending", filter: store.TaskFilter{Asc: true, Tenant: ptr("")},
			want: []string{"task-00", "task-03", "task-06", "task-09"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if tc.keep != nil {
				want = newestFirst(all, tc.keep)
				require.NotEmpty(t, want, "fixture selects nothing; the case tests nothing")
			}
			page, err := s.ListTasks(t.Context(), tc.filter)
			require.NoError(t, err)
			require.NotNil(t, page.Tasks)
			require.Equal(t, want, nilIfEmpty(ids(page.Tasks)))
			require.False(t, page.HasMore)
		})
	}

	t.Run("tasks are complete", func(t *testing.T) {
		page, err := s.ListTasks(t.Context(), store.TaskFilter{IDs: []string{"task-07"}})
		require.NoError(t, err)
		require.Len(t, page.Tasks, 1)
		requireTask(t, all[7], page.Tasks[0])
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func testListKeysetPaging(t *testing.T, s store.Store) {
	all := listFixture(t, s)
	everything := newestFirst(all, func(*task.Task) bool { return true })
	bob := newestFirst(all, func(tk *task.Task) bool { return tk.Tenant == "bob" })

	tests := []struct {
		filter store.TaskFilter
		want   []string
	}{
		{store.TaskFilter{}, everything},
		{store.TaskFilter{Asc: true}, reversed(everything)},
		{store.TaskFilter{Tenant: ptr("bob")}, bob},
		{store.TaskFilter{Tenant: ptr("bob"), Asc: true}, reversed(bob)},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 4, 5, 12, 13} {
			t.Run(fmt.Sprintf("tenant=%v asc=%v limit=%d", tc.filter.Tenant != nil, tc.filter.Asc, limit), func(t *testing.T) {
				f := tc.filter
				f.Limit = limit
				var got []string
				for pages := 0; ; pages++ {
					require.Less(t, pages, 20, "paging does not end")
					page, err := s.ListTasks(t.Context(), f)
					require.NoError(t, err)
					require.LessOrEqual(t, len(page.Tasks), limit)
					got = append(got, ids(page.Tasks)...)
					if !page.HasMore {
						break
					}
					require.Len(t, page.Tasks, limit, "a page with more after it is full")
					f.After = page.Tasks[len(page.Tasks)-1].ID
				}
				require.Equal(t, tc.want, got)
			})
		}
	}

	t.Run("cursor is exclusive", func(t *testing.T) {
		page, err := s.ListTasks(t.Context(), store.TaskFilter{After: "task-11", Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{"task-10", "task-09"}, ids(page.Tasks))
		page, err = s.ListTasks(t.Context(), store.TaskFilter{After: "task-10", Asc: true})
		require.NoError(t, err)
		require.Equal(t, []string{"task-11"}, ids(page.Tasks))
		page, err = s.ListTasks(t.Context(), store.TaskFilter{After: "task-00"})
		require.NoError(t, err)
		require.Empty(t, page.Tasks)
		require.False(t, page.HasMore)
	})

	t.Run("cursor need not match the filters", func(t *testing.T) {
		// task-06 is queued; list only the succeeded ones older than it.
		page, err := s.ListTasks(t.Context(), store.TaskFilter{After: "task-06", Statuses: []task.Status{task.StatusSucceeded}})
		require.NoError(t, err)
		require.Equal(t, []string{"task-02"}, ids(page.Tasks))
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func testListOffsetPaging(t *testing.T, s store.Store) {
	all := listFixture(t, s)
	everything := newestFirst(all, func(*task.Task) bool { return true })
	for _, asc := range []bool{false, true} {
		for _, limit := range []int{1, 5, 12} {
			t.Run(fmt.Sprintf("asc=%v limit=%d", asc, limit), func(t *testing.T) {
				want := everything
				if asc {
					want = reversed(everything)
				}
				var got []string
				for offset := 0; ; offset += limit {
					require.Less(t, offset, 100, "paging does not end")
					page, err := s.ListTasks(t.Context(), store.TaskFilter{Limit: limit, Offset: offset, Asc: asc})
					require.NoError(t, err)
					got = append(got, ids(page.Tasks)...)
					require.Equal(t, offset+len(page.Tasks) < len(want), page.HasMore)
					if !page.HasMore {
						break
					}
				}
				require.Equal(t, want, got)
			})
		}
	}
	t.Run("past the end", func(t *testing.T) {
		page, err := s.ListTasks(t.Context(), store.TaskFilter{Offset: 12})
		require.NoError(t, err)
		require.Empty(t, page.Tasks)
		require.False(t, page.HasMore)
	})
}

func testListTotal(t *testing.T, s store.Store) {
	listFixture(t, s)
	tests := []struct {
		name   string
		filter store.TaskFilter
		total  int
	}{
		{"all", store.TaskFilter{CountTotal: true, Limit: 2}, 12},
		{"tenant", store.TaskFilter{CountTotal: true, Limit: 2, Tenant: ptr("alice")}, 4},
		{"with offset", store.TaskFilter{CountTotal: true, Limit: 2, Offset: 5}, 12},
		{"with cursor", store.TaskFilter{CountTotal: true, Limit: 2, After: "task-03"}, 12},
		{"none match", store.TaskFilter{CountTotal: true, Model: "nope"}, 0},
		{"not asked", store.TaskFilter{Limit: 2}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListTasks(t.Context(), tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.total, page.Total)
		})
	}
}

func testListAfterUnknown(t *testing.T, s store.Store) {
	listFixture(t, s)
	_, err := s.ListTasks(t.Context(), store.TaskFilter{After: "no-such-task"})
	require.ErrorIs(t, err, store.ErrNotFound)
	// task-01 is alice's: bob may not page from it.
	_, err = s.ListTasks(t.Context(), store.TaskFilter{After: "task-01", Tenant: ptr("bob")})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.ListTasks(t.Context(), store.TaskFilter{After: "task-01", Tenant: ptr("alice")})
	require.NoError(t, err)
}

func testListEmpty(t *testing.T, s store.Store) {
	page, err := s.ListTasks(t.Context(), store.TaskFilter{CountTotal: true})
	require.NoError(t, err)
	require.NotNil(t, page.Tasks)
	require.Empty(t, page.Tasks)
	require.False(t, page.HasMore)
	require.Zero(t, page.Total)
}

func testListDefaultLimit(t *testing.T, s store.Store) {
	for i := range 25 {
		tk := newTask(fmt.Sprintf("t%02d", i))
		tk.CreatedAt = base.Add(time.Duration(i) * time.Second)
		create(t, s, tk)
	}
	page, err := s.ListTasks(t.Context(), store.TaskFilter{})
	require.NoError(t, err)
	require.Len(t, page.Tasks, 20)
	require.True(t, page.HasMore)
	require.Equal(t, "t24", page.Tasks[0].ID)
}

// claimNow has sub-millisecond digits: leases must come out truncated like every time.
var claimNow = base.Add(time.Hour)

func testClaimDue(t *testing.T, s store.Store) {
	now := claimNow
	at := func(id string, status task.Status, next *time.Time) *task.Task {
		tk := newTask(id)
		tk.Status = status
		tk.NextCheckAt = next
		return tk
	}
	leased := func(tk *task.Task, until time.Time) *task.Task {
		tk.LeaseOwner = "other"
		tk.LeaseUntil = ptr(until)
		return tk
	}
	create(t, s,
		at("due-queued", task.StatusQueued, ptr(now.Add(-time.Minute))),
		at("due-running", task.StatusRunning, ptr(now.Add(-2*time.Minute))),
		at("due-exactly-now", task.StatusQueued, ptr(now)),
		at("not-yet", task.StatusQueued, ptr(now.Add(time.Second))),
		at("never-checked", task.StatusQueued, nil),
		at("succeeded", task.StatusSucceeded, ptr(now.Add(-time.Hour))),
		at("failed", task.StatusFailed, ptr(now.Add(-time.Hour))),
		at("cancelled", task.StatusCancelled, ptr(now.Add(-time.Hour))),
		at("expired", task.StatusExpired, ptr(now.Add(-time.Hour))),
		leased(at("lease-live", task.StatusRunning, ptr(now.Add(-time.Minute))), now.Add(time.Minute)),
		leased(at("lease-expired", task.StatusRunning, ptr(now.Add(-time.Minute))), now.Add(-time.Second)),
		leased(at("lease-ends-now", task.StatusRunning, ptr(now.Add(-time.Minute))), now),
	)
	before := map[string]*task.Task{}
	for _, id := range []string{"not-yet", "never-checked", "succeeded", "lease-live"} {
		before[id] = get(t, s, id)
	}

	const lease = 30 * time.Second
	claimed, err := s.ClaimDue(t.Context(), "me", now, lease, 100)
	require.NoError(t, err)
	// NextCheckAt order, then id.
	require.Equal(t, []string{"due-running", "due-queued", "lease-ends-now", "lease-expired", "due-exactly-now"}, ids(claimed))
	for _, c := range claimed {
		require.Equal(t, "me", c.LeaseOwner)
		require.NotNil(t, c.LeaseUntil)
		require.True(t, c.LeaseUntil.Equal(msTime(now.Add(lease))), "lease until %v", c.LeaseUntil)
		require.Equal(t, int64(2), c.Version, "claiming bumps the version")
		requireTask(t, c, get(t, s, c.ID))
	}
	for id, want := range before {
		requireTask(t, want, get(t, s, id))
	}

	again, err := s.ClaimDue(t.Context(), "you", now, lease, 100)
	require.NoError(t, err)
	require.Empty(t, again, "live leases are not claimed again")

	// Just before the leases end, only not-yet has come due.
	again, err = s.ClaimDue(t.Context(), "you", now.Add(lease-time.Millisecond), lease, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"not-yet"}, ids(again))

	// At the second the leases end they are free again; lease-live still is not.
	later := now.Add(lease)
	again, err = s.ClaimDue(t.Context(), "you", later, lease, 100)
	require.NoError(t, err)
	require.Equal(t, ids(claimed), ids(again))
	for _, c := range again {
		require.Equal(t, "you", c.LeaseOwner)
		require.Equal(t, int64(3), c.Version)
	}

	// Past every lease, all live tasks come in; terminal and unscheduled ones never do.
	much := now.Add(2 * time.Minute)
	again, err = s.ClaimDue(t.Context(), "third", much, time.Hour, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"due-running", "due-queued", "lease-ends-now", "lease-expired", "lease-live", "due-exactly-now", "not-yet"}, ids(again))
}

func testClaimDueLimit(t *testing.T, s store.Store) {
	for i := range 5 {
		tk := newTask(fmt.Sprintf("due-%d", i))
		tk.NextCheckAt = ptr(claimNow.Add(-time.Duration(5-i) * time.Second)) // due-0 is the most overdue
		create(t, s, tk)
	}
	var got [][]string
	for _, limit := range []int{0, 2, 2, 2, 2} {
		claimed, err := s.ClaimDue(t.Context(), "me", claimNow, time.Minute, limit)
		require.NoError(t, err)
		require.NotNil(t, claimed)
		got = append(got, ids(claimed))
	}
	require.Equal(t, [][]string{{}, {"due-0", "due-1"}, {"due-2", "due-3"}, {"due-4"}, {}}, got)
}

func testClaimThenUpdate(t *testing.T, s store.Store) {
	create(t, s, newTask("job"))
	stale := get(t, s, "job")
	claimed, err := s.ClaimDue(t.Context(), "me", base, time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	stale.Status = task.StatusCancelled
	require.ErrorIs(t, s.UpdateTask(t.Context(), stale), store.ErrConflict, "a claim moves the version")

	// Releasing the lease and rescheduling makes it due again later, for anyone.
	job := claimed[0]
	job.LeaseOwner, job.LeaseUntil = "", nil
	job.NextCheckAt = ptr(base.Add(10 * time.Second))
	job.Status = task.StatusRunning
	require.NoError(t, s.UpdateTask(t.Context(), job))
	requireTask(t, job, get(t, s, "job"))

	none, err := s.ClaimDue(t.Context(), "other", base.Add(time.Second), time.Minute, 1)
	require.NoError(t, err)
	require.Empty(t, none)
	some, err := s.ClaimDue(t.Context(), "other", base.Add(10*time.Second), time.Minute, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"job"}, ids(some))
	require.Equal(t, int64(4), some[0].Version)
}

func testExtendLease(t *testing.T, s store.Store) {
	create(t, s, newTask("job"))
	claimed, err := s.ClaimDue(t.Context(), "me", base, time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	job := claimed[0]

	require.NoError(t, s.ExtendLease(t.Context(), "job", "me", base.Add(10*time.Minute)))
	got := get(t, s, "job")
	require.Equal(t, job.Version, got.Version, "extending a lease keeps the holder's version valid")
	require.Equal(t, msTime(base.Add(10*time.Minute)), msTime(*got.LeaseUntil))

	// Still leased after the original lease would have ended.
	none, err := s.ClaimDue(t.Context(), "other", base.Add(2*time.Minute), time.Minute, 1)
	require.NoError(t, err)
	require.Empty(t, none)

	require.ErrorIs(t, s.ExtendLease(t.Context(), "job", "other", base.Add(time.Hour)), store.ErrConflict)
	require.ErrorIs(t, s.ExtendLease(t.Context(), "missing", "me", base.Add(time.Hour)), store.ErrNotFound)

	// The holder's write still succeeds after the extension.
	job.Status = task.StatusRunning
	job.LeaseOwner, job.LeaseUntil = "", nil
	require.NoError(t, s.UpdateTask(t.Context(), job))
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const tasks, workers = 40, 6
	for i := range tasks {
		tk := newTask(fmt.Sprintf("c%02d", i))
		tk.NextCheckAt = ptr(claimNow.Add(-time.Duration(i) * time.Millisecond))
		create(t, s, tk)
	}

	var (
		mu    sync.Mutex
		owner = map[string][]string{} // task id → every worker that got it
		wg    sync.WaitGroup
		errs  = make([]error, workers)
	)
	for w := range workers {
		name := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for range tasks { // bounded: each round claims at least one task or stops
				claimed, err := s.ClaimDue(context.Background(), name, claimNow, time.Minute, 3)
				if err != nil {
					errs[w] = err
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claimed {
					if c.LeaseOwner != name {
						errs[w] = fmt.Errorf("task %s claimed by %s has owner %q", c.ID, name, c.LeaseOwner)
					}
					owner[c.ID] = append(owner[c.ID], name)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, owner, tasks, "every due task is claimed")
	for id, by := range owner {
		require.Len(t, by, 1, "task %s claimed by %v", id, by)
		require.Equal(t, by[0], get(t, s, id).LeaseOwner)
	}
}

func testNextDue(t *testing.T, s store.Store) {
	next, err := s.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, next.IsZero(), "empty store: zero time, got %v", next)

	done := newTask("done")
	done.Status = task.StatusSucceeded
	done.NextCheckAt = ptr(base.Add(-time.Hour))
	unscheduled := newTask("unscheduled")
	unscheduled.NextCheckAt = nil
	create(t, s, done, unscheduled)
	next, err = s.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, next.IsZero(), "terminal and unscheduled tasks are not due, got %v", next)

	later := newTask("later")
	later.NextCheckAt = ptr(base.Add(5 * time.Minute))
	sooner := newTask("sooner")
	sooner.Status = task.StatusRunning
	sooner.NextCheckAt = ptr(base.Add(2*time.Minute + 123456*time.Nanosecond))
	create(t, s, later, sooner)
	next, err = s.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, next.Equal(msTime(*sooner.NextCheckAt)), "got %v", next)

	// Finishing the soonest moves NextDue on.
	sooner.Status = task.StatusSucceeded
	sooner.NextCheckAt = nil
	require.NoError(t, s.UpdateTask(t.Context(), sooner))
	next, err = s.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, next.Equal(msTime(*later.NextCheckAt)), "got %v", next)
}

func testDeleteTask(t *testing.T, s store.Store) {
	create(t, s, newTask("keep"), newTask("drop"))
	require.NoError(t, s.DeleteTask(t.Context(), "drop"))

	_, err := s.GetTask(t.Context(), "drop")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeleteTask(t.Context(), "drop"), store.ErrNotFound)
	page, err := s.ListTasks(t.Context(), store.TaskFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"keep"}, ids(page.Tasks))
	// The id is free again.
	create(t, s, newTask("drop"))
}

func testFiles(t *testing.T, s store.Store) {
	full := &task.File{
		ID:          "file-full",
		Tenant:      "tenant-a",
		Kind:        "video",
		Purpose:     "output",
		Name:        "lighthouse.mp4",
		ContentType: "video/mp4",
		Size:        12_345_678_901,
		SHA256:      strings.Repeat("ab", 32),
		Width:       1920,
		Height:      1080,
		Duration:    5.041666666666667,
		BlobKey:     "results/2025/03/file-full.mp4",
		TaskID:      "cgt-1",
		CreatedAt:   base,
	}
	minimal := &task.File{ID: "file-min"}
	for _, f := range []*task.File{full, minimal} {
		require.NoError(t, s.CreateFile(t.Context(), f))
		got, err := s.GetFile(t.Context(), f.ID)
		require.NoError(t, err)
		want := *f
		want.CreatedAt = msTime(f.CreatedAt)
		got.CreatedAt = msTime(got.CreatedAt)
		require.Equal(t, &want, got)
	}

	require.ErrorIs(t, s.CreateFile(t.Context(), &task.File{ID: "file-full", Kind: "image"}), store.ErrConflict)
	got, err := s.GetFile(t.Context(), "file-full")
	require.NoError(t, err)
	require.Equal(t, "video", got.Kind, "a conflicting create changes nothing")

	got, err = s.GetFile(t.Context(), "no-such-file")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Nil(t, got)

	require.NoError(t, s.DeleteFile(t.Context(), "file-min"))
	_, err = s.GetFile(t.Context(), "file-min")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeleteFile(t.Context(), "file-min"), store.ErrNotFound)
	_, err = s.GetFile(t.Context(), "file-full")
	require.NoError(t, err, "the other file stays")
}

func testSetting(t *testing.T, s store.Store) {
	steps := []struct {
		key, init, want string
	}{
		{"signing-secret", "first", "first"},
		{"signing-secret", "second", "first"},
		{"other", "x", "x"},
		{"signing-secret", "", "first"},
		{"empty", "", ""},
		{"empty", "late", ""},
	}
	for _, st := range steps {
		got, err := s.Setting(t.Context(), st.key, st.init)
		require.NoError(t, err)
		require.Equal(t, st.want, got, "Setting(%q, %q)", st.key, st.init)
	}
}

func testSettingConcurrent(t *testing.T, s store.Store) {
	const callers = 10
	got := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { got[i], errs[i] = s.Setting(context.Background(), "secret", fmt.Sprintf("v%d", i)) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for _, v := range got {
		require.Equal(t, got[0], v, "callers disagree: %v", got)
	}
	require.Regexp(t, `^v\d$`, got[0])
	stored, err := s.Setting(t.Context(), "secret", "late")
	require.NoError(t, err)
	require.Equal(t, got[0], stored)
}

func testPing(t *testing.T, s store.Store) {
	require.NoError(t, s.Ping(t.Context()))
}

func testCancelledContext(t *testing.T, s store.Store) {
	create(t, s, newTask("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := s.GetTask(ctx, "x")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.CreateTask(ctx, newTask("y")), context.Canceled)
	_, err = s.ListTasks(ctx, store.TaskFilter{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ClaimDue(ctx, "me", base, time.Minute, 1)
	require.ErrorIs(t, err, context.Canceled)

	_, err = s.GetTask(t.Context(), "y")
	require.ErrorIs(t, err, store.ErrNotFound, "a cancelled create wrote nothing")
}
