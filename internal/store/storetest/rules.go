package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// ruleTests pin down the rules store.DB keeps above every driver: what a
// status change, a delete, an admission and a webhook attempt write, also
// when writers race (on PostgreSQL, concurrent transactions of several
// instances).
var ruleTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"RuleSettleOnceConcurrent", testRuleSettleOnceConcurrent},
	{"RuleSettleOrDeleteOnce", testRuleSettleOrDeleteOnce},
	{"RuleDeleteReleasesOnce", testRuleDeleteReleasesOnce},
	{"RuleRefusalWritesNothing", testRuleRefusalWritesNothing},
	{"RuleLostLeaseWritesNothing", testRuleLostLeaseWritesNothing},
}

// ledgerKinds counts the ledger entries of a task by kind.
func ledgerKinds(t *testing.T, s store.Store, taskID string) map[string]int {
	t.Helper()
	led, err := s.ListLedger(t.Context(), store.LedgerFilter{TaskID: taskID})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, e := range led {
		kinds[e.Kind]++
	}
	return kinds
}

// Many writers finish the same task at once, from copies of one version:
// one wins, and the charge is settled once — one settle entry, the cost
// taken once, one webhook event. A later terminal write settles nothing more.
func testRuleSettleOnceConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	topUp(t, s, "acme", 1000)
	tk := callbackTask("cgt-race", "https://example.com/hook")
	tk.Tenant = "acme"
	require.NoError(t, s.AdmitTask(ctx, tk, charge("acme", "key_a", 300), 0))
	require.EqualValues(t, 700, balanceOf(t, s, "acme"))

	const writers = 8
	copies := make([]*task.Task, writers)
	for i := range copies {
		copies[i] = get(t, s, "cgt-race")
		copies[i].Status = task.StatusSucceeded
		copies[i].Usage = &task.Usage{TotalTokens: 120}
		copies[i].UpdatedAt = base.Add(time.Hour)
	}
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() { errs[i] = s.UpdateTask(context.Background(), copies[i]) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.Equal(t, 1, won, "one write of a version wins")
	require.EqualValues(t, 1000-120, balanceOf(t, s, "acme"), "the cost is taken once")
	require.Equal(t, map[string]int{store.LedgerReserve: 1, store.LedgerSettle: 1}, ledgerKinds(t, s, "cgt-race"))
	c, err := s.GetCharge(ctx, "cgt-race")
	require.NoError(t, err)
	require.Equal(t, store.ChargeSettled, c.State)
	require.EqualValues(t, 120, c.Amount)

	// Writing the finished task again (a terminal status once more) leaves
	// the settled charge alone.
	again := get(t, s, "cgt-race")
	again.Status = task.StatusFailed
	require.NoError(t, s.UpdateTask(ctx, again))
	require.EqualValues(t, 1000-120, balanceOf(t, s, "acme"))
	require.Equal(t, map[string]int{store.LedgerReserve: 1, store.LedgerSettle: 1}, ledgerKinds(t, s, "cgt-race"))

	msgs, err := s.ListWebhookMessages(ctx, "cgt-race")
	require.NoError(t, err)
	statuses := []task.Status{}
	for _, m := range msgs {
		statuses = append(statuses, m.Status)
	}
	require.Equal(t, []task.Status{task.StatusQueued, task.StatusSucceeded, task.StatusFailed}, statuses,
		"one event per status change, none for the losing writes")
}

// A delete racing the terminal update of the same task: whichever comes
// first closes the charge, the other closes nothing.
func testRuleSettleOrDeleteOnce(t *testing.T, s store.Store) {
	topUp(t, s, "acme", 10_000)
	for i := range 6 {
		id := "cgt-sd-" + string(rune('a'+i))
		require.NoError(t, s.AdmitTask(t.Context(), tenantTask(id, "acme"), charge("acme", "key_a", 500), 0))
		tk := get(t, s, id)
		tk.Status, tk.Usage, tk.UpdatedAt = task.StatusSucceeded, &task.Usage{TotalTokens: 200}, base.Add(time.Hour)
		var upd, del error
		var wg sync.WaitGroup
		wg.Go(func() { upd = s.UpdateTask(context.Background(), tk) })
		wg.Go(func() { del = s.DeleteTask(context.Background(), id) })
		wg.Wait()
		require.NoError(t, del, "the task existed")
		kinds := ledgerKinds(t, s, id)
		c, err := s.GetCharge(t.Context(), id)
		require.NoError(t, err)
		if upd == nil { // the update came first: settled, then the delete found no open charge
			require.Equal(t, store.ChargeSettled, c.State)
			require.Equal(t, map[string]int{store.LedgerReserve: 1, store.LedgerSettle: 1}, kinds)
		} else {
			// Gone, or (PostgreSQL, whose statement saw the row before the
			// delete committed) moved: either way not written.
			require.True(t, errors.Is(upd, store.ErrNotFound) || errors.Is(upd, store.ErrConflict), "%v", upd)
			require.Equal(t, store.ChargeReleased, c.State)
			require.Equal(t, map[string]int{store.LedgerReserve: 1, store.LedgerRelease: 1}, kinds)
		}
	}
	// Every charge is closed once: what is left is the top-up less what was charged.
	led, err := s.ListLedger(t.Context(), store.LedgerFilter{Tenant: ptr("acme"), Limit: 1000})
	require.NoError(t, err)
	var sum int64
	for _, e := range led {
		sum += e.Delta
	}
	require.Equal(t, sum, balanceOf(t, s, "acme"), "the ledger's deltas add up to the balance")
}

// Deleting a live task releases its charge once, however many deletes race.
func testRuleDeleteReleasesOnce(t *testing.T, s store.Store) {
	topUp(t, s, "acme", 1000)
	require.NoError(t, s.AdmitTask(t.Context(), tenantTask("cgt-del", "acme"), charge("acme", "key_a", 400), 0))
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = s.DeleteTask(context.Background(), "cgt-del") })
	}
	wg.Wait()
	deleted := 0
	for _, err := range errs {
		if err == nil {
			deleted++
			continue
		}
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	require.Equal(t, 1, deleted)
	require.EqualValues(t, 1000, balanceOf(t, s, "acme"))
	require.Equal(t, map[string]int{store.LedgerReserve: 1, store.LedgerRelease: 1}, ledgerKinds(t, s, "cgt-del"))
	n, err := s.OpenCharges(t.Context(), "key_a")
	require.NoError(t, err)
	require.Zero(t, n)
	// A task without a charge is deleted all the same.
	create(t, s, newTask("cgt-plain"))
	require.NoError(t, s.DeleteTask(t.Context(), "cgt-plain"))
	require.ErrorIs(t, s.DeleteTask(t.Context(), "cgt-plain"), store.ErrNotFound)
}

// A refused admission writes nothing at all: no task, no charge, no ledger
// entry, no webhook event, no change of the balance.
func testRuleRefusalWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	topUp(t, s, "acme", 250)
	require.NoError(t, s.AdmitTask(ctx, tenantTask("cgt-in", "acme"), charge("acme", "key_a", 100), 1))
	refused := map[string]error{}
	for id, c := range map[string]*store.Charge{
		"cgt-busy": charge("acme", "key_a", 10),  // key_a is at its limit of 1
		"cgt-poor": charge("acme", "key_b", 200), // 150 left
	} {
		tk := callbackTask(id, "https://example.com/hook")
		tk.Tenant = "acme"
		refused[id] = s.AdmitTask(ctx, tk, c, 1)
		require.False(t, c.Held, "a refused charge holds nothing")
	}
	require.ErrorIs(t, refused["cgt-busy"], store.ErrTooManyInFlight)
	require.ErrorIs(t, refused["cgt-poor"], store.ErrInsufficientBalance)
	for id := range refused {
		_, err := s.GetTask(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetCharge(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, ledgerKinds(t, s, id))
		msgs, err := s.ListWebhookMessages(ctx, id)
		require.NoError(t, err)
		require.Empty(t, msgs)
	}
	require.EqualValues(t, 150, balanceOf(t, s, "acme"))
	led, err := s.ListLedger(ctx, store.LedgerFilter{Tenant: ptr("acme")})
	require.NoError(t, err)
	require.Len(t, led, 2, "the top-up and the one reservation")
}

// An attempt recorded by an instance that lost the message's lease writes
// nothing: no attempt, no state, and no gone-marking of the endpoint.
func testRuleLostLeaseWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	create(t, s, callbackTask("cgt-l1", "https://example.com/hook"), callbackTask("cgt-l2", "https://example.com/hook"))
	claimed := claimAll(t, s, "w1", base)
	require.Len(t, claimed, 2)
	m := claimed[0]
	now := base.Add(time.Second)
	m.Attempts, m.State, m.NextAttemptAt, m.LastStatusCode, m.UpdatedAt = 1, store.WebhookGone, nil, 410, now
	err := s.RecordWebhookAttempt(ctx, "w2", m, store.WebhookAttempt{N: 1, StartedAt: now, StatusCode: 410, Error: "gone"})
	require.ErrorIs(t, err, store.ErrConflict)
	for _, id := range []string{"cgt-l1", "cgt-l2"} {
		msgs, err := s.ListWebhookMessages(ctx, id)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, store.WebhookPending, msgs[0].State, "%s: nothing marked", id)
		require.Empty(t, msgs[0].History, "%s: no attempt recorded", id)
	}
	// The holder's answer marks the endpoint gone for the other message too.
	require.NoError(t, s.RecordWebhookAttempt(ctx, "w1", m, store.WebhookAttempt{N: 1, StartedAt: now, StatusCode: 410, Error: "gone"}))
	for _, id := range []string{"cgt-l1", "cgt-l2"} {
		msgs, err := s.ListWebhookMessages(ctx, id)
		require.NoError(t, err)
		require.Equal(t, store.WebhookGone, msgs[0].State, id)
	}
}
