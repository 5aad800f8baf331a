package upstream_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// fakeKind is a kind whose creates the test decides; it counts them.
type fakeKind struct {
	name   string
	caps   upstream.Capabilities
	create func(c upstream.Call, t *task.Task) (string, error)

	mu      sync.Mutex
	creates []string // channel of each create
}

func (f *fakeKind) Name() string                        { return f.name }
func (f *fakeKind) Capabilities() upstream.Capabilities { return f.caps }

func (f *fakeKind) Create(_ context.Context, c upstream.Call, t *task.Task) (string, error) {
	f.mu.Lock()
	f.creates = append(f.creates, c.Channel.Name)
	f.mu.Unlock()
	if f.create != nil {
		return f.create(c, t)
	}
	return "up-" + t.ID, nil
}

func (f *fakeKind) Check(context.Context, upstream.Call, *task.Task) (provider.Update, error) {
	return provider.Update{Status: task.StatusRunning}, nil
}

func (f *fakeKind) Cancel(context.Context, upstream.Call, *task.Task) error { return nil }

func (f *fakeKind) created() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.creates...)
}

// everything is capabilities that carry any request.
func everything() upstream.Capabilities {
	return upstream.Capabilities{
		Modes: []task.InputMode{task.ModeFirstFrame, task.ModeFirstLast, task.ModeReference, task.ModeDraftTask},
		Fields: []string{"resolution", "ratio", "duration", "frames", "seed", "camera_fixed", "watermark", "generate_audio",
			"return_last_frame", "draft", "draft_task_id", "service_tier", "execution_expires_after", "priority",
			"safety_identifier", "web_search", "output_format", "omni_reference_task_type", "reference_images",
			"reference_videos", "reference_audio", "last_frame"},
		LastFrame: true, Audio: true,
	}
}

// drops is a create whose connection dropped after the request went out.
func drops(upstream.Call, *task.Task) (string, error) {
	return "", &upstream.CallError{Sent: true, Err: errors.New("connection reset by peer")}
}

func newProvider(t *testing.T, channels string, kinds ...upstream.Kind) (*upstream.Provider, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	s, err := routing.ParseSettings([]byte(channels))
	require.NoError(t, err)
	reg := map[string]upstream.Kind{}
	for _, k := range kinds {
		reg[k.Name()] = k
	}
	p, err := upstream.New(upstream.Config{Env: upstream.Env{Settings: s, Store: st}, Kinds: reg})
	require.NoError(t, err)
	return p, st
}

func newTask(model string, r task.Request) *task.Task {
	now := time.Now().UTC()
	return &task.Task{ID: "cgt-" + model, Tenant: "acme", Model: model, Request: r, Status: task.StatusQueued, Provider: upstream.Name,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// A channel of a kind the build does not run stops the provider, naming it.
func TestUnregisteredKindIsRefused(t *testing.T) {
	t.Parallel()
	s, err := routing.ParseSettings([]byte("channels: [{name: resold, kind: openrouter, base_url: 'https://openrouter.ai/api/v1', keys: [k]}]"))
	require.NoError(t, err)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), nil)
	require.NoError(t, err)
	defer st.Close()
	_, err = upstream.New(upstream.Config{Env: upstream.Env{Settings: s, Store: st},
		Kinds: map[string]upstream.Kind{"ark": &fakeKind{name: "ark"}}})
	require.ErrorContains(t, err, `channel "resold" has kind "openrouter"`)
	require.ErrorContains(t, err, "it runs: ark")
}

// A request needing a field only one channel's kind carries goes there; one
// no channel carries is refused at submit, naming the field.
func TestCapabilityRouting(t *testing.T) {
	t.Parallel()
	plain := everything()
	plain.Fields = plain.Fields[:len(plain.Fields)-6] // no output_format, omni_reference_task_type, references, last_frame
	arkish := &fakeKind{name: "ark", caps: plain}
	jobsish := &fakeKind{name: "jobs", caps: everything()}
	p, _ := newProvider(t, `channels:
  - {name: official, base_url: 'http://127.0.0.1:1/api/v3', keys: [k1], priority: 10}
  - {name: reseller, kind: jobs, base_url: 'http://127.0.0.1:2', keys: [k2]}
`, arkish, jobsish)
	ctx := context.Background()

	mov := newTask("seedance-1-0-pro", task.Request{Prompt: "a cat", OutputFormat: "mov"})
	require.NoError(t, p.Validate(ctx, mov))
	id, err := p.Submit(ctx, mov)
	require.NoError(t, err)
	require.Equal(t, "up-"+mov.ID, id)
	require.Equal(t, "reseller", mov.Channel, "only the reseller's kind carries output_format")
	require.Empty(t, arkish.created())

	mp4 := newTask("seedance-1-0-pro", task.Request{Prompt: "a cat"})
	mp4.ID += "-2"
	_, err = p.Submit(ctx, mp4)
	require.NoError(t, err)
	require.Equal(t, "official", mp4.Channel, "the higher priority takes what it can carry")

	only, _ := newProvider(t, "channels: [{name: official, base_url: 'http://127.0.0.1:1/api/v3', keys: [k1]}]\n", arkish)
	err = only.Validate(ctx, mov)
	te := task.AsError(err)
	require.Equal(t, task.CodeInvalidParameter, te.Code)
	require.Equal(t, "output_format", te.Field)
	require.Equal(t, "no configured channel can carry `output_format` for model seedance-1-0-pro", te.Message)

	err = only.Validate(ctx, newTask("seedance-1-0-pro", task.Request{Prompt: "a cat", FirstFrame: "https://x.example/a.png",
		LastFrame: "https://x.example/b.png"}))
	require.Equal(t, "last_frame", task.AsError(err).Field, "a mode is refused by the field that makes it")
}

// A create that got no answer on a kind without lookup is never sent again,
// after a restart either: the task fails with UpstreamOutcomeUnknown.
func TestUnknownOutcomeWithoutLookupIsNotResent(t *testing.T) {
	t.Parallel()
	k := &fakeKind{name: "jobs", caps: everything(), create: drops}
	p, _ := newProvider(t, "channels: [{name: reseller, kind: jobs, base_url: 'http://127.0.0.1:2', keys: [k2]}]\n", k)
	ctx := context.Background()

	tk := newTask("seedance-1-0-pro", task.Request{Prompt: "a cat"})
	now := time.Now()
	tk.DispatchedAt = &now
	_, err := p.Submit(ctx, tk)
	te := task.AsError(err)
	require.Equal(t, task.CodeUpstreamOutcomeUnknown, te.Code, "%v", err)
	require.Equal(t, "UpstreamOutcomeUnknown", te.UpstreamCode)
	_, transient := provider.IsTransient(err)
	require.False(t, transient, "failed for good, not retried")

	// The process died during the create: the next one reconciles, and cannot.
	again := newTask("seedance-1-0-pro", task.Request{Prompt: "a cat"})
	again.DispatchedAt = &now
	_, err = p.Reconcile(ctx, again)
	require.Equal(t, task.CodeUpstreamOutcomeUnknown, task.ErrorCode(err))
	require.Len(t, k.created(), 1, "one create in all")
}

// The whole gateway: a create on a kind without lookup drops its connection;
// exactly one upstream create, the task failed with UpstreamOutcomeUnknown,
// the tenant's balance as before.
func TestUnknownOutcomeFailsUncharged(t *testing.T) {
	t.Parallel()
	k := &fakeKind{name: "jobs", caps: everything(), create: drops}
	dir := t.TempDir()
	channels := filepath.Join(dir, "channels.yaml")
	require.NoError(t, os.WriteFile(channels, []byte(
		"checks: {min_interval: 20ms, reconcile_after: 100ms}\nchannels: [{name: reseller, kind: jobs, base_url: 'http://127.0.0.1:2', keys: [k2]}]\n"), 0o600))
	env := map[string]string{"SEEDGATE_DATA_DIR": filepath.Join(dir, "data"), "SEEDGATE_CHANNELS_FILE": channels}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)), app.WithListener(ln), app.WithKinds(k))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(5 * time.Second) })
	ctx := context.Background()

	const balance = 10_000_000
	_, err = a.Store.AdjustBalance(ctx, "acme", &store.LedgerEntry{Amount: balance, At: time.Now(), Actor: "test"}, false)
	require.NoError(t, err)
	tk, err := a.Service.Create(ctx, service.CreateInput{Tenant: "acme", Dialect: "jobs", Model: "seedance-1-0-pro", Request: task.Request{Prompt: "a cat"}})
	require.NoError(t, err)
	held, err := a.Store.GetTenant(ctx, "acme")
	require.NoError(t, err)
	require.Less(t, *held.Balance, int64(balance), "the estimate is held while the task runs")

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := a.Store.GetTask(ctx, tk.ID)
		require.NoError(t, err)
		if got.Status.Terminal() {
			require.Equal(t, task.StatusFailed, got.Status)
			require.Equal(t, task.CodeUpstreamOutcomeUnknown, got.Error.Code, "%+v", got.Error)
			break
		}
		require.True(t, time.Now().Before(deadline), "the task did not fail: %+v", got)
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, []string{"reseller"}, k.created(), "exactly one upstream create")
	after, err := a.Store.GetTenant(ctx, "acme")
	require.NoError(t, err)
	require.EqualValues(t, balance, *after.Balance, "nothing charged")
	entries, err := a.Store.ListLedger(ctx, store.LedgerFilter{TaskID: tk.ID})
	require.NoError(t, err)
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	require.ElementsMatch(t, []string{store.LedgerReserve, store.LedgerRelease}, kinds)
}
