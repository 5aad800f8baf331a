package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
)

// Crash under load: the real binary, with `seedgate fake-ark` as its upstream
// (callbacks on) and callbacks of its own to a local receiver, is SIGKILLed
// twice while clients keep creating, tasks are being dispatched, checked and
// copied, and callbacks are going out; each time it is restarted on the same
// data. Afterwards every create that was answered 2xx has finished, no task
// was created upstream twice (the emulator's own list, by marker), and every
// task's final callback was delivered.
func TestCrashUnderLoad(t *testing.T) {
	t.Parallel()
	const emuKey = "sk-crash"
	base := startFakeArk(t, "--keys", emuKey, "--queue-time", "300ms", "--run-time", "1s",
		"--concurrency", "100000", "--max-queued", "100000", "--rpm", "10000000")

	hooks := &hookLog{refused: map[string]bool{}}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)

	dir := t.TempDir()
	channels := filepath.Join(dir, "channels.yaml")
	require.NoError(t, os.WriteFile(channels, fmt.Appendf(nil, `checks: {min_interval: 200ms, expected_time: 1300ms, reconcile_after: 1s}
channels:
  - name: fake
    base_url: %s
    keys: [%s]
    concurrency: 100000
    rpm: 10000000
    # after a crash, creates that were in flight are reconciled for twice this
    timeout: 3s
`, base, emuKey), 0o600))
	// startGateway's, with the public URL known before the start: the upstream
	// calls back there, and the port survives the restarts.
	ln, addr := listener(t)
	g := &gateway{t: t, url: "http://" + addr, dataDir: filepath.Join(dir, "data"), logs: &bytes.Buffer{}, ln: ln}
	g.env = append(os.Environ(),
		"SEEDGATE_LISTEN_FD="+listenFD,
		"SEEDGATE_PUBLIC_URL=http://"+addr,
		"SEEDGATE_DATA_DIR="+g.dataDir,
		"SEEDGATE_API_KEYS="+apiKey,
		"SEEDGATE_CHANNELS_FILE="+channels,
		"SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8",
		"SEEDGATE_WORKERS=16",
		"SEEDGATE_LEASE=5s",
		"SEEDGATE_WEBHOOK_TIMEOUT=2s",
		"SEEDGATE_LOG_LEVEL=warn")
	g.start()
	t.Cleanup(g.stop)

	// Clients: create as fast as answers come, with a pause, until total creates were answered.
	const total, clients = 900, 12
	var (
		accepted  = make(chan string, total)
		n         atomic.Int64
		refused   atomic.Int64 // no 2xx: the gateway was down (or going down)
		wg        sync.WaitGroup
		stop      = make(chan struct{})
		httpc     = &http.Client{Timeout: 10 * time.Second}
		submitted = func() int64 { return int64(len(accepted)) }
	)
	for c := range clients {
		wg.Go(func() {
			for i := c; ; i += clients {
				select {
				case <-stop:
					return
				default:
				}
				if n.Load() >= total {
					return
				}
				body := fmt.Sprintf(`{"model":"seedance-1-0-pro-fast","input":{"prompt":"crash %d","resolution":"480p","duration":2,"callback_url":%q}}`,
					i, hookSrv.URL+"/hook")
				req, _ := http.NewRequest("POST", g.url+"/v1/jobs", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+apiKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := httpc.Do(req)
				if err != nil {
					refused.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var j jobAnswer
				if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &j) != nil || j.ID == "" {
					refused.Add(1)
					continue
				}
				if n.Add(1) <= total {
					accepted <- j.ID
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	// Kill it twice mid-load, each time once a share of the creates are in.
	for _, at := range []int64{total / 3, 2 * total / 3} {
		require.Eventually(t, func() bool { return submitted() >= at }, time.Minute, 5*time.Millisecond)
		g.kill()
		t.Logf("SIGKILLed after %d accepted creates", submitted())
		// Requests in flight are cut; new connections wait in the socket's
		// backlog (the test holds it) until the next process accepts them.
		g.start()
	}
	require.Eventually(t, func() bool { return submitted() >= total }, 2*time.Minute, 10*time.Millisecond)
	close(stop)
	wg.Wait()
	close(accepted)
	var ids []string
	for id := range accepted {
		ids = append(ids, id)
	}
	t.Logf("%d creates accepted, %d refused or cut off while the gateway was down", len(ids), refused.Load())
	began := time.Now()

	// No accepted task is lost: each finishes (the last kill's in-flight creates are reconciled).
	for _, id := range ids {
		j := g.waitJob(id, 2*time.Minute)
		require.Equal(t, "succeeded", j.Status, "%s: %+v", id, j.Error)
	}

	t.Logf("all accepted tasks succeeded %s after the last create", time.Since(began).Round(100*time.Millisecond))

	// No upstream task twice: the emulator's own list, by the gateway's marker.
	markers := map[string]int{}
	for page := 1; ; page++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/contents/generations/tasks?page_size=500&page_num=%d", base, page), nil)
		req.Header.Set("Authorization", "Bearer "+emuKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var list struct {
			Items []struct {
				SafetyIdentifier string `json:"safety_identifier"`
			} `json:"items"`
			Total int `json:"total"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
		resp.Body.Close()
		for _, it := range list.Items {
			markers[it.SafetyIdentifier]++
		}
		if page*500 >= list.Total {
			break
		}
	}
	for m, c := range markers {
		require.Equal(t, 1, c, "upstream tasks with marker %s", m)
	}
	for _, id := range ids {
		require.Equal(t, 1, markers["sg-"+id], "upstream tasks of %s", id)
	}

	// Every task's final callback arrives (a refused first attempt is retried).
	require.Eventually(t, func() bool { return hooksComplete(hooks, ids) }, 2*time.Minute, 200*time.Millisecond,
		"every accepted task's succeeded callback is delivered")
	t.Logf("final callbacks all delivered %s after the last create", time.Since(began).Round(100*time.Millisecond))
	hooks.mu.Lock()
	attempts := len(hooks.attempts)
	hooks.mu.Unlock()
	t.Logf("%d upstream tasks for %d accepted creates; %d callback attempts", len(markers), len(ids), attempts)
}

// startFakeArk runs `seedgate fake-ark` on a free port until the test ends and
// returns its API base URL.
func startFakeArk(t *testing.T, args ...string) string {
	t.Helper()
	ln, addr := listener(t)
	var logs bytes.Buffer
	emu := exec.Command(binary, append([]string{"fake-ark", "--listen-fd", listenFD}, args...)...)
	emu.ExtraFiles = []*os.File{ln}
	emu.Stdout, emu.Stderr = &logs, &logs
	require.NoError(t, emu.Start())
	t.Cleanup(func() {
		_ = emu.Process.Signal(syscall.SIGTERM)
		_ = emu.Wait()
		if t.Failed() {
			t.Logf("fake-ark output:\n%s", logs.String())
		}
	})
	base := "http://" + addr + "/api/v3"
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/contents/generations/tasks")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	}, 20*time.Second, 20*time.Millisecond)
	return base
}

// Three instances on one PostgreSQL database; one is SIGKILLed while it holds
// leases (30 s). The others take its work over once its heartbeat is stale
// (SEEDGATE_HEARTBEAT_TIMEOUT, 10 s), not when the leases end.
//
// Not parallel, like TestTasksSurviveSIGKILL: the timing is the point.
func TestCrashLeasesMoveOnPostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	env := []string{"SEEDGATE_DATABASE_URL=" + dbURL + "&pool_max_conns=4",
		"SEEDGATE_SANDBOX_QUEUE_DELAY=1s", "SEEDGATE_SANDBOX_RUN_TIME=3s", "SEEDGATE_LEASE=30s",
		// Free worker slots on the survivors: the work is taken up when freed.
		"SEEDGATE_WORKERS=16"}
	var gws []*gateway
	for range 3 {
		gws = append(gws, startGateway(t, t.TempDir(), env...))
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })

	const jobs = 15
	for i := range jobs {
		var c map[string]any
		resp := gws[i%3].postJSON("/v1/jobs", fmt.Sprintf(`{"model":"seedance-1-0-pro-fast-251015","input":{"prompt":"pg crash %d","resolution":"480p","frames":29,"seed":%d}}`, i, i), &c)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%v", c)
	}
	// The leases an instance holds on live tasks (its lease owner names its pid).
	live := `status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')`
	held := func(g *gateway, at time.Time) map[string]lease {
		rows, err := conn.Query(t.Context(), `SELECT id, lease_owner, version FROM tasks
			WHERE `+live+` AND lease_owner LIKE $1 AND lease_until > $2`,
			fmt.Sprintf("%%/%d/%%", g.cmd.Process.Pid), at.UnixMilli())
		return collectLeases(t, rows, err)
	}
	doomed := gws[1]
	// Kill it in a long step (a render): a lease it has held for a while.
	since := map[string]time.Time{}
	require.Eventually(t, func() bool {
		now := held(doomed, time.Now())
		for id := range since {
			if _, ok := now[id]; !ok {
				delete(since, id)
			}
		}
		for id := range now {
			if _, ok := since[id]; !ok {
				since[id] = time.Now()
			}
			if time.Since(since[id]) > 300*time.Millisecond {
				return true
			}
		}
		return false
	}, 2*time.Minute, 5*time.Millisecond)
	doomed.kill()
	killed := time.Now()
	leased := held(doomed, killed)
	require.NotEmpty(t, leased, "the killed instance held leases")

	var movedOn time.Duration
	require.Eventually(t, func() bool {
		rows, err := conn.Query(t.Context(), `SELECT id, lease_owner, version FROM tasks WHERE `+live)
		now := collectLeases(t, rows, err)
		for id, then := range leased {
			if l, live := now[id]; !then.movedOn(l, live) {
				return false
			}
		}
		movedOn = time.Since(killed)
		return true
	}, time.Minute, 20*time.Millisecond)
	t.Logf("the %d tasks the SIGKILLed instance held moved on %s after the kill", len(leased), movedOn.Round(10*time.Millisecond))
	require.LessOrEqual(t, movedOn, 15*time.Second, "a dead instance's work moves on once its heartbeat is stale")

	require.Eventually(t, func() bool { return countProcessing(t, gws[0], apiKey) == 0 }, 5*time.Minute, 100*time.Millisecond,
		"every task finishes on the surviving instances")
}

func collectLeases(t *testing.T, rows pgx.Rows, err error) map[string]lease {
	t.Helper()
	require.NoError(t, err)
	type row struct {
		ID, Owner string
		Version   int64
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	require.NoError(t, err)
	out := map[string]lease{}
	for _, r := range all {
		out[r.ID] = lease{owner: r.Owner, version: r.Version}
	}
	return out
}
