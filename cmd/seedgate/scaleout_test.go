package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
)

// The scale-out run (README "Running several instances"): gateways sharing
// one database and one bucket, the Ark emulator as the upstream, tasks
// submitted to every instance with callbacks, one instance SIGKILLed in the
// middle and nothing restarted. Every task must finish, be created upstream
// exactly once, and have its callbacks delivered at least once, retries
// keeping their webhook-id.

const scaleTasks = 1000

func TestScaleOutPostgres(t *testing.T) {
	t.Parallel()
	// Small pools: the test database's connections are shared with every other test.
	runScaleOut(t, scaleOutRun{instances: 3, databaseURL: pgtest.Schema(t) + "&pool_max_conns=8", tasks: scaleTasks, killOne: true, s3: true})
}

// The same run on SQLite with its one instance (SQLite is one process's
// database: nothing to kill without restarting; TestTasksSurviveSIGKILL
// covers that).
func TestScaleOutSQLite(t *testing.T) {
	t.Parallel()
	runScaleOut(t, scaleOutRun{instances: 1, tasks: scaleTasks})
}

type scaleOutRun struct {
	instances   int
	databaseURL string // "" = SQLite in the first instance's data dir
	tasks       int
	killOne     bool
	s3          bool
}

// hookLog records every callback attempt the receiver got.
type hookLog struct {
	mu       sync.Mutex
	attempts []hookAttempt
	refused  map[string]bool // webhook-ids answered 500 once already
	n        atomic.Int64
}

type hookAttempt struct {
	webhookID, taskID, status string
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body struct {
		ID     string `json:"id"`
		Output struct {
			Status string `json:"status"`
		} `json:"output"`
	}
	_ = json.Unmarshal(b, &body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	h.attempts = append(h.attempts, hookAttempt{webhookID: id, taskID: body.ID, status: body.Output.Status})
	// Refuse the first attempt of every tenth event: its retry must carry the same webhook-id.
	refuse := h.n.Add(1)%10 == 0 && !h.refused[id]
	if refuse {
		h.refused[id] = true
	}
	h.mu.Unlock()
	if refuse {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

const scaleAdminKey = "scale-admin-key-0123456789"

func runScaleOut(t *testing.T, run scaleOutRun) {
	start := time.Now()
	var clientKey string
	emu := arkemu.New(arkemu.Options{
		APIKeys: []string{"sk-scale-a", "sk-scale-b"},
		// Long enough that the killed instance leaves tasks in every state.
		QueueTime: 300 * time.Millisecond, RunTime: 2 * time.Second,
		RPM: 1_000_000, Concurrency: 10_000, MaxQueued: 10_000,
	})
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(func() { emuSrv.Close(); emu.Close() })

	hooks := &hookLog{refused: map[string]bool{}}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)

	channels := filepath.Join(t.TempDir(), "channels.yaml")
	require.NoError(t, os.WriteFile(channels, fmt.Appendf(nil, `
checks:
  min_interval: 500ms
  expected_time: 1s
  reconcile_after: 2s
channels:
  - name: emulator
    base_url: %s%s
    keys: [sk-scale-a, sk-scale-b]
    concurrency: 5000
    rpm: 1000000
    # A create the killed instance had in flight can land upstream until its
    # timeout has passed twice; only then do the others create it again.
    timeout: 5s
`, emuSrv.URL, arkemu.BasePath), 0o600))

	env := []string{
		"SEEDGATE_CHANNELS_FILE=" + channels,
		"SEEDGATE_WORKERS=16",
		"SEEDGATE_LEASE=5s",
		"SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8",
		"SEEDGATE_LOG_LEVEL=warn",
		"SEEDGATE_ADMIN_KEY=" + scaleAdminKey,
	}
	if run.databaseURL != "" {
		env = append(env, "SEEDGATE_DATABASE_URL="+run.databaseURL)
	}
	if run.s3 {
		backend := s3mem.New()
		require.NoError(t, backend.CreateBucket("seedgate"))
		s3Srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server())
		t.Cleanup(s3Srv.Close)
		env = append(env, "SEEDGATE_S3_ENDPOINT="+s3Srv.URL, "SEEDGATE_S3_BUCKET=seedgate", "SEEDGATE_S3_PATH_STYLE=true",
			"SEEDGATE_S3_ACCESS_KEY=test", "SEEDGATE_S3_SECRET_KEY=test", "SEEDGATE_S3_REGION=us-east-1")
	}
	var gws []*gateway
	for i := range run.instances {
		e := env
		if run.s3 && i == 2 {
			// The third instance sends downloads to presigned URLs instead of streaming them.
			e = append(slices.Clone(env), "SEEDGATE_S3_DOWNLOADS=redirect")
		}
		gws = append(gws, startGateway(t, t.TempDir(), e...))
	}

	// Submit, spread over every instance, a few requests at a time. Halfway,
	// one instance is SIGKILLed in the middle of its work (dispatches, checks,
	// result copies, callbacks); the load balancer stops sending it requests
	// just before, so every submission gets its answer.
	ids := make([]string, run.tasks)
	lat := make([]time.Duration, run.tasks)
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errs     = make(chan error, run.tasks)
		lb       sync.RWMutex // held for reading by each submission to the doomed instance
		draining atomic.Bool
		killed   = make(chan int, 1)
	)
	doomed := -1
	if run.killOne {
		doomed = 1
	}
	// A tenant with a balance, and its key: every task reserves from the
	// balance at submit (on whichever instance) and settles at its end.
	var key struct {
		Key string `json:"key"`
	}
	require.Equal(t, http.StatusCreated, call(t, gws[0], scaleAdminKey, "POST", "/admin/v1/keys",
		`{"name":"scale-out","tenant":"scale"}`, &key))
	clientKey = key.Key
	const topUp = 10_000_000_000
	require.Equal(t, http.StatusOK, call(t, gws[len(gws)-1], scaleAdminKey, "POST", "/admin/v1/tenants/scale/balance",
		fmt.Sprintf(`{"amount":%d,"note":"scale-out test"}`, topUp), nil))

	// Task 0 is created on one instance and waited for on another (Prefer:
	// wait): the waiting instance learns of the other's writes.
	id0, err := submitScaleJob(gws[0], clientKey, 0, hookSrv.URL)
	require.NoError(t, err)
	ids[0] = id0
	waited := make(chan jobAnswer, 1)
	go func() {
		var j jobAnswer
		req, _ := http.NewRequest("GET", gws[len(gws)-1].url+"/v1/jobs/"+id0, nil)
		req.Header.Set("Authorization", "Bearer "+clientKey)
		req.Header.Set("Prefer", "wait=60")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&j)
			resp.Body.Close()
		}
		waited <- j
	}()
	next.Store(1)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= run.tasks {
					return
				}
				if i == run.tasks/2 && doomed >= 0 {
					draining.Store(true)
					go func() {
						lb.Lock() // in-flight submissions to it have their answers
						gws[doomed].kill()
						killed <- countProcessing(t, gws[0], clientKey)
						lb.Unlock()
					}()
				}
				n, held := i%len(gws), false
				if n == doomed {
					lb.RLock()
					if held = !draining.Load(); !held {
						lb.RUnlock()
						n = (n + 1) % len(gws)
					}
				}
				t0 := time.Now()
				id, err := submitScaleJob(gws[n], clientKey, i, hookSrv.URL)
				lat[i] = time.Since(t0)
				if held {
					lb.RUnlock()
				}
				if err != nil {
					errs <- err
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	submitted := time.Since(start)
	slices.Sort(lat)
	t.Logf("submit latency p50 %s p90 %s p99 %s max %s", lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)*99/100], lat[len(lat)-1])

	select {
	case j := <-waited:
		require.Equal(t, "succeeded", j.Status, "the wait on instance %d saw task 0 finish on instance 1", len(gws))
	case <-time.After(2 * time.Minute):
		t.Fatal("Prefer: wait did not answer")
	}

	survivors := gws
	if doomed >= 0 {
		t.Logf("SIGKILLed instance %d halfway through the submissions, %d tasks processing", doomed+1, <-killed)
		survivors = slices.Delete(slices.Clone(gws), doomed, doomed+1)
	}

	require.Eventually(t, func() bool { return countProcessing(t, survivors[0], clientKey) == 0 }, 4*time.Minute, 200*time.Millisecond,
		"every task reaches a terminal state")
	finished := time.Since(start)

	// Every task succeeded (read through any survivor), its video is in shared storage.
	byID := map[string]jobAnswer{}
	for i, id := range ids {
		var j jobAnswer
		require.Equal(t, http.StatusOK, call(t, survivors[i%len(survivors)], clientKey, "GET", "/v1/jobs/"+id, "", &j))
		require.Equal(t, "succeeded", j.Status, "%s: %+v", id, j.Error)
		require.Len(t, j.Output.Videos, 1)
		byID[id] = j
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, g := range survivors {
		for _, id := range ids[:2] {
			// The file URL is signed by the shared secret: any instance serves it.
			fileURL := byID[id].Output.Videos[0].URL
			u := g.url + fileURL[strings.Index(fileURL, "/v1/files/"):]
			resp, err := noRedirects.Get(u)
			require.NoError(t, err)
			resp.Body.Close()
			if run.s3 && g == gws[len(gws)-1] {
				require.Equal(t, http.StatusFound, resp.StatusCode)
				require.Contains(t, resp.Header.Get("Location"), "X-Amz-Signature=")
			} else {
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			info, err := mediatest.ProbeVideo(context.Background(), download(t, u))
			require.NoError(t, err)
			require.Positive(t, info.Width)
		}
	}

	// Exactly one upstream create per task: the emulator saw each task's marker once.
	creates := map[string]int{}
	for _, tk := range emu.Tasks() {
		creates[strings.TrimPrefix(tk.Request.SafetyIdentifier, "sg-")]++
	}
	require.Len(t, emu.CreatedIDs(), run.tasks, "creates the emulator saw")
	for _, id := range ids {
		require.Equal(t, 1, creates[id], "upstream creates of %s", id)
	}

	// Callbacks: the terminal event of every task arrived, each event under one
	// webhook-id whatever the retries, and refused attempts were retried.
	require.Eventually(t, func() bool { return hooksComplete(hooks, ids) }, time.Minute, 200*time.Millisecond,
		"every task's final callback is delivered, and every refused attempt retried")
	hooks.mu.Lock()
	events := map[string]string{} // task|status → webhook-id
	perID := map[string]int{}
	for _, a := range hooks.attempts {
		key := a.taskID + "|" + a.status
		if prev, ok := events[key]; ok {
			require.Equal(t, prev, a.webhookID, "one event, one webhook-id (%s)", key)
		}
		events[key] = a.webhookID
		perID[a.webhookID]++
	}
	retried := 0
	for id := range hooks.refused {
		require.GreaterOrEqual(t, perID[id], 2, "refused webhook %s was retried", id)
		retried++
	}
	attempts := len(hooks.attempts)
	hooks.mu.Unlock()
	require.Positive(t, retried)

	// No balance drifted: every task reserved once and settled once, nothing
	// is left reserved, and the balance is the top-up less what was settled,
	// which is what the tasks report as their usage.
	var tenant struct {
		Balance *int64 `json:"balance"`
	}
	require.Equal(t, http.StatusOK, call(t, survivors[0], scaleAdminKey, "GET", "/admin/v1/tenants/scale", "", &tenant))
	require.NotNil(t, tenant.Balance)
	kinds := map[string]map[string]int{} // task → kind → entries
	var settled, usage int64
	before := ""
	for {
		var page struct {
			Data []struct {
				ID     int64  `json:"id"`
				Kind   string `json:"kind"`
				TaskID string `json:"task_id"`
				Amount int64  `json:"amount"`
			} `json:"data"`
			HasMore bool `json:"has_more"`
		}
		require.Equal(t, http.StatusOK, call(t, survivors[len(survivors)-1], scaleAdminKey, "GET",
			"/admin/v1/ledger?tenant=scale&limit=1000"+before, "", &page))
		for _, e := range page.Data {
			if e.TaskID == "" {
				continue
			}
			if kinds[e.TaskID] == nil {
				kinds[e.TaskID] = map[string]int{}
			}
			kinds[e.TaskID][e.Kind]++
			if e.Kind == "settle" {
				settled += e.Amount
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			break
		}
		before = fmt.Sprintf("&before=%d", page.Data[len(page.Data)-1].ID)
	}
	for _, id := range ids {
		require.Equal(t, map[string]int{"reserve": 1, "settle": 1}, kinds[id], "ledger entries of %s", id)
		require.NotNil(t, byID[id].Usage)
		usage += byID[id].Usage.TotalTokens
	}
	require.Equal(t, usage, settled, "settled amounts are the tasks' usage (tokens)")
	require.Equal(t, int64(topUp)-settled, *tenant.Balance, "balance = top-up − settled")
	t.Logf("%d instances, %d tasks: submitted in %s, all finished after %s; %d callback attempts, %d refused and retried",
		run.instances, run.tasks, submitted.Round(time.Millisecond), finished.Round(time.Millisecond), attempts, retried)
}

func submitScaleJob(g *gateway, clientKey string, i int, hookURL string) (string, error) {
	body := fmt.Sprintf(`{"model":"seedance-1-0-pro-fast","input":{"prompt":"scale-out task %d","resolution":"480p","duration":2,"seed":%d,"callback_url":%q}}`,
		i, i, hookURL+"/hook")
	req, err := http.NewRequest("POST", g.url+"/v1/jobs", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+clientKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var c struct {
		ID string `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return "", fmt.Errorf("submit %d: %d %s", i, resp.StatusCode, b)
	}
	return c.ID, nil
}

// countProcessing is how many tasks are still queued or running.
func countProcessing(t *testing.T, g *gateway, clientKey string) int {
	n := 0
	after := ""
	for {
		var page struct {
			Data      []jobAnswer `json:"data"`
			HasMore   bool        `json:"has_more"`
			NextAfter string      `json:"next_after"`
		}
		path := "/v1/jobs?status=processing&limit=100"
		if after != "" {
			path += "&after=" + after
		}
		require.Equal(t, http.StatusOK, call(t, g, clientKey, "GET", path, "", &page))
		n += len(page.Data)
		if !page.HasMore {
			return n
		}
		after = page.NextAfter
	}
}

func hooksComplete(h *hookLog, ids []string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	done := map[string]bool{}
	for _, a := range h.attempts {
		if a.status == "succeeded" && !h.refused[a.webhookID] || a.status == "succeeded" && countAttempts(h, a.webhookID) >= 2 {
			done[a.taskID] = true
		}
	}
	for _, id := range ids {
		if !done[id] {
			return false
		}
	}
	for id := range h.refused {
		if countAttempts(h, id) < 2 {
			return false
		}
	}
	return true
}

func countAttempts(h *hookLog, webhookID string) int {
	n := 0
	for _, a := range h.attempts {
		if a.webhookID == webhookID {
			n++
		}
	}
	return n
}

// call sends a request with key and decodes a JSON answer into out (if non-nil).
func call(t *testing.T, g *gateway, key, method, path, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(b, out), "body: %s", b)
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}
