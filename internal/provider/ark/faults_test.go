package ark_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/task"
)

// The faults suite (on top of the single-fault tests in emulator_test.go):
// an upstream that misbehaves in every way at once, at random, on every
// operation — slow answers, 429 with Retry-After, 500, connection resets
// before and after the work is done, truncated and malformed JSON, and
// callbacks that lie, arrive late or never. The gateway must keep every task,
// create each upstream exactly once, and fail a task only when the upstream
// really failed it (with the upstream's code), never because of the noise.
//
// The faults are drawn at random from a seed the test logs; a failure is
// replayed with SEEDGATE_FAULT_SEED=<seed> (the same draws, in the order the
// calls arrive).
func TestFaultStorm(t *testing.T) {
	t.Parallel()
	seed := faultSeed(t)
	g := start(t, setup{
		emu: arkemu.Options{QueueTime: 50 * time.Millisecond, RunTime: 200 * time.Millisecond, CallbackRetryDelay: 20 * time.Millisecond,
			FaultSeed: seed},
		callbacks: true,
		quiet:     true,
		// A create slower than its channel's timeout has an unknown outcome.
		channels: fastChecks + `channels:
  - {name: primary, base_url: "{{base}}", keys: [sk-a1, sk-a2], priority: 10, timeout: 1s}
  - {name: backup, base_url: "{{base}}", keys: [sk-b], timeout: 1s}
`,
		env: map[string]string{"SEEDGATE_WORKERS": "16"},
	})
	for _, op := range []arkemu.Op{arkemu.OpCreate, arkemu.OpList, arkemu.OpGet} {
		for _, f := range []arkemu.Fault{
			// About one call in five fails, in one of these ways; a task's
			// retries back off exponentially, so far more would only test patience.
			{Kind: arkemu.FaultHTTPError, Status: http.StatusTooManyRequests, Code: "ServerOverloaded", RetryAfter: time.Second, Probability: 0.04},
			{Kind: arkemu.FaultHTTPError, Status: http.StatusInternalServerError, Probability: 0.04},
			{Kind: arkemu.FaultHTTPError, Status: http.StatusBadGateway, Code: "InternalServiceError", Probability: 0.02},
			{Kind: arkemu.FaultDrop, Probability: 0.03},
			{Kind: arkemu.FaultDropAfter, Probability: 0.03},
			{Kind: arkemu.FaultMalformedJSON, Probability: 0.03},
			{Kind: arkemu.FaultTruncatedJSON, Probability: 0.03},
			{Kind: arkemu.FaultSlow, Delay: 300 * time.Millisecond, Probability: 0.08},
		} {
			f.Op = op
			g.emu.InjectFault(f)
		}
	}
	// Slower than the create timeout: the create is abandoned before it happens.
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultSlow, Delay: 1500 * time.Millisecond, Probability: 0.03})
	for _, f := range []arkemu.Fault{
		{Kind: arkemu.FaultLieStatus, CallbackStatus: task.StatusSucceeded, Probability: 0.15},
		{Kind: arkemu.FaultLieStatus, CallbackStatus: task.StatusFailed, Probability: 0.15},
		{Kind: arkemu.FaultDrop, Probability: 0.15}, // never sent
		{Kind: arkemu.FaultSlow, Delay: 500 * time.Millisecond, Probability: 0.1},
	} {
		f.Op = arkemu.OpCallback
		g.emu.InjectFault(f)
	}

	const ok, flagged, rejected = 40, 6, 4
	type want struct {
		status       task.Status
		upstreamCode string
	}
	wants := map[string]want{}
	for i := range ok + flagged + rejected {
		prompt, w := fmt.Sprintf("storm %d", i), want{status: task.StatusSucceeded}
		switch {
		case i >= ok+flagged:
			prompt += " [ark:reject=InputTextSensitiveContentDetected]"
			w = want{task.StatusFailed, "InputTextSensitiveContentDetected"}
		case i >= ok:
			prompt += " [ark:fail=OutputVideoSensitiveContentDetected]"
			w = want{task.StatusFailed, "OutputVideoSensitiveContentDetected"}
		}
		wants[g.create("seedance-1-0-pro-fast", quick(prompt)).ID] = w
	}

	deadline := time.Now().Add(2 * time.Minute)
	for id, w := range wants {
		var tk *task.Task
		for {
			tk = g.get(id)
			if tk.Status.Terminal() || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.Equal(t, w.status, tk.Status, "task %s (%s): %+v", id, tk.Request.Prompt, tk.Error)
		if w.status == task.StatusSucceeded {
			require.NotEmpty(t, tk.Result.VideoFileID, "the result is mirrored")
			require.Nil(t, tk.Error)
			continue
		}
		require.Equal(t, task.CodeUpstream, tk.Error.Code, "%+v", tk.Error)
		if tk.Error.UpstreamCode == "" && w.upstreamCode == "InputTextSensitiveContentDetected" {
			// The refusal itself came back mangled: still the upstream's 400, said so.
			require.Contains(t, tk.Error.Message, "HTTP 400", "%+v", tk.Error)
			continue
		}
		require.Equal(t, w.upstreamCode, tk.Error.UpstreamCode, "failed for the upstream's reason, not the noise: %+v", tk.Error)
	}

	// Exactly one upstream task per task the upstream accepted, none for the refused.
	upstream := map[string]int{}
	for _, info := range g.emu.Tasks() {
		upstream[strings.TrimPrefix(info.Request.SafetyIdentifier, "sg-")]++
	}
	for id, w := range wants {
		n := 1
		if w.upstreamCode == "InputTextSensitiveContentDetected" {
			n = 0
		}
		require.Equal(t, n, upstream[id], "upstream tasks of %s", id)
	}
	require.Len(t, g.emu.Tasks(), ok+flagged, "no stray upstream task")
	t.Logf("upstream calls: %d creates, %d lists, %d gets, %d callbacks for %d tasks",
		g.emu.Calls(arkemu.OpCreate), g.emu.Calls(arkemu.OpList), g.emu.Calls(arkemu.OpGet), g.emu.Calls(arkemu.OpCallback), len(wants))
}

// A create that timed out may still be acted on upstream after the gateway
// gave up on it (the request sat in the upstream's queue): the gateway waits
// one more create timeout before it decides nothing came of it, so the late
// task is found and adopted rather than created a second time.
func TestTimedOutCreateLandingLate(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: fastChecks + `channels:
  - {name: main, base_url: "{{base}}", keys: [sk-main], timeout: 1s}
`})
	// The emulator reads the request only after the delay: it creates the
	// task 1.5 s after it was sent, half a second after the gateway gave up.
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultSlow, Delay: 1500 * time.Millisecond})
	tk := g.create("seedance-1-0-pro", quick("late but there"))
	got := g.wait(tk.ID, task.StatusSucceeded)
	require.Len(t, g.emu.CreatedIDs(), 1, "one upstream task")
	require.Equal(t, g.emu.CreatedIDs()[0], got.UpstreamID, "the late one, adopted")
}

// faultSeed is SEEDGATE_FAULT_SEED, or a random seed; either way it is logged.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	seed := rand.Uint64() | 1 // never 0: the emulator reads 0 as "random"
	if v := os.Getenv("SEEDGATE_FAULT_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "SEEDGATE_FAULT_SEED")
		require.NotZero(t, seed, "SEEDGATE_FAULT_SEED")
	}
	t.Logf("fault seed %d (replay: SEEDGATE_FAULT_SEED=%d go test -run '^%s$' ./internal/provider/ark/)", seed, seed, t.Name())
	return seed
}
